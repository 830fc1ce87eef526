// Every command the README and docs/ show in a shell block names something that exists: an npm script of
// package.json, the image's commands (web, worker, migrate, cli), and CLI flags the CLI parses (with a value where
// one is needed). A renamed script or flag fails here before a reader meets it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../lib/cli/options";
import { cliArgs, docCommands } from "../support/docs-commands";

const scripts = Object.keys((JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts);
const IMAGE_COMMANDS = ["web", "worker", "migrate", "cli"];

describe("the commands the docs show", () => {
  const all = docCommands();

  it("are found (the check reads the README and docs/)", () => {
    expect(all.length).toBeGreaterThan(10);
  });

  it("name npm scripts that exist", () => {
    const missing = all.filter((c) => c.words[0] === "npm" && c.words[1] === "run" && !scripts.includes(c.words[2])).map((c) => `${c.file}: ${c.words.join(" ")}`);
    expect(missing).toEqual([]);
  });

  it("give the container image a command it has", () => {
    const wrong = all
      .filter((c) => ["docker", "podman"].includes(c.words[0]) && c.words[1] === "run")
      .filter((c) => !IMAGE_COMMANDS.includes(c.words[c.words.indexOf("uat-refresh") + 1] ?? ""))
      .map((c) => `${c.file}: ${c.words.join(" ")}`);
    expect(wrong).toEqual([]);
  });

  it("pass the CLI only flags it parses", () => {
    const refused: string[] = [];
    for (const c of all) {
      const args = cliArgs(c.words);
      if (!args) continue;
      try {
        parseCliArgs(args);
      } catch (e) {
        refused.push(`${c.file}: ${c.words.join(" ")}: ${(e as Error).message}`);
      }
    }
    expect(refused).toEqual([]);
  });
});

// Every command the README and docs/ show in a shell block names something that exists: an npm script of
// package.json, the image's commands (web, worker, migrate, cli), and CLI flags the CLI parses (with a value where
// one is needed). A renamed script or flag fails here before a reader meets it.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../lib/cli/options";

const files = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const scripts = Object.keys((JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts);
const IMAGE_COMMANDS = ["web", "worker", "migrate", "cli"];

/** Each command of each shell block: comments dropped, `&&` chains split, leading VAR=value assignments removed. */
function commands(): { file: string; words: string[] }[] {
  const out: { file: string; words: string[] }[] = [];
  for (const file of files) {
    for (const block of readFileSync(file, "utf8").matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
      for (const line of block[1].split("\n")) {
        for (const part of line.replace(/\s#.*$/, "").split("&&")) {
          const words = part.trim().split(/\s+/).filter(Boolean);
          while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift();
          if (words.length) out.push({ file, words });
        }
      }
    }
  }
  return out;
}

/** The CLI arguments of a command, if it runs the CLI. */
function cliArgs(words: string[]): string[] | null {
  if (words[0] === "npm" && words[1] === "run" && words[2] === "refresh") return words[3] === "--" ? words.slice(4) : [];
  if (words[0] === "npx" && words[1] === "uat-refresh") return words.slice(2);
  const image = words.indexOf("uat-refresh");
  if ((words[0] === "docker" || words[0] === "podman") && image > 0 && words[image + 1] === "cli") return words.slice(image + 2);
  return null;
}

describe("the commands the docs show", () => {
  const all = commands();

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

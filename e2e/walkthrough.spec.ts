// The README's CLI commands, run exactly as written next to the demo (`sh -c` on the text of each shell block line),
// each expected to succeed: a command the README shows that fails here fails the build. The e2e demo keeps its
// metadata in .data/e2e, so the variables `.data/demo.env` gives a developer's demo are set from the stack instead.
// Named to run last: it refreshes UAT and QA. The image's commands run in tests/image, `--api` in pipeline.spec.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { cliArgs, docCommands } from "../tests/support/docs-commands";
import { stack } from "./helpers";

const sh = promisify(execFile);

test("every CLI command of the README runs as written against the demo and succeeds", async () => {
  test.setTimeout(300_000);
  const commands = docCommands().filter((c) => c.file === "README.md" && c.words[0] === "npm" && cliArgs(c.words));
  expect(commands.map((c) => c.text)).toContain("npm run refresh -- --status");
  const env = {
    ...process.env,
    DATABASE_URL: stack().metaUrl,
    UAT_REFRESH_DB_USER: "postgres",
    UAT_REFRESH_DB_PASSWORD: "postgres",
    UAT_REFRESH_MASKING_KEY: readFileSync(".data/e2e/masking-key", "utf8").trim(),
  };
  const outputs: Record<string, string> = {};
  for (const c of commands) {
    const r = await sh("sh", ["-c", c.text], { env, timeout: 240_000 }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    const output = `${r.stdout}${r.stderr}`;
    expect("code" in r ? r.code : 0, `${c.text}\n${output}`).toBe(0);
    outputs[c.text] = output;
  }
  // What the README says each shows.
  expect(outputs["npm run refresh -- --status"]).toMatch(/environment demo_uat:[\s\S]*environment demo_qa:/);
  expect(outputs["npm run refresh -- --env demo_uat --test-connections"]).toMatch(/✓ source: [\s\S]*✓ target: /);
  expect(outputs["npm run refresh -- --env demo_uat --dry-run"]).toMatch(/source query: SELECT/);
  expect(outputs["npm run refresh -- --env demo_uat --dry-run"]).toMatch(/verifies: row counts and the values of \d+ of \d+ column\(s\)/);
  expect(outputs["npm run refresh -- --env demo_uat --table orders --force"]).toMatch(/✓ orders: simple_copy \/ smart_sync → incremental/);
  expect(outputs["npm run refresh -- --env demo_qa --force"]).toMatch(/run \w+: succeeded/);
});

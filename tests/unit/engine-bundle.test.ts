// The bin's bundle of the engine (scripts/engine-bundle.mjs): rebuilt exactly when a source changes, reused
// otherwise, and the SQL Server driver left out of start-up until a SQL Server session opens.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { currentBundle } from "../../scripts/engine-bundle.mjs";

const root = mkdtempSync(path.join(os.tmpdir(), "engine-bundle-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

describe("the engine bundle the CLI starts from", () => {
  it("is built from the sources, reused while they are unchanged, and rebuilt (the old one removed) when one changes", async () => {
    write("tsconfig.json", "{}");
    write("lib/cli/main.ts", `import { answer } from "../engine/answer";\nexport async function main(): Promise<number> { return answer; }\n`);
    write("lib/engine/answer.ts", "export const answer: number = 1;\n");
    write("lib/engine/streams/worker.ts", "export {};\n");
    const first = (await currentBundle(root))!;
    expect(readdirSync(path.dirname(first)).sort()).toEqual(expect.arrayContaining(["cli.mjs", "worker-entry.mjs"]));
    expect(await (await import(pathToFileURL(first).href)).main()).toBe(1);
    expect(await currentBundle(root)).toBe(first);

    write("lib/engine/answer.ts", "export const answer: number = 2;\n");
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(root, "lib/engine/answer.ts"), later, later);
    const second = (await currentBundle(root))!;
    expect(second).not.toBe(first);
    expect(await (await import(pathToFileURL(second).href)).main()).toBe(2);
    expect(readdirSync(path.join(root, "node_modules/.cache/uat-refresh"))).toEqual([path.basename(path.dirname(second))]);
  });

  it("gives null (the bin then loads the sources through tsx) where it cannot build", async () => {
    expect(await currentBundle(path.join(root, "no-such-checkout"))).toBeNull();
  });

  it("starts the product's CLI without loading the SQL Server driver (it loads with the first SQL Server session)", async () => {
    const cli = (await currentBundle())!;
    const probe = `await import(${JSON.stringify(pathToFileURL(cli).href)}); const { createRequire } = await import("node:module"); console.log(Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes("/node_modules/tedious/")));`;
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", probe], { encoding: "utf8" }).trim()).toBe("false");
    // The same probe sees tedious once the driver is imported, so "false" above is not a probe that cannot see it.
    // The SQL Server driver's chunk (the PostgreSQL driver loads lazily too, from a chunk of the same prefix).
    const chunks = readdirSync(path.dirname(cli)).filter((f) => f.startsWith("driver-")).map((f) => path.join(path.dirname(cli), f));
    const driver = chunks.find((f) => readFileSync(f, "utf8").includes('from "tedious"'))!;
    expect(driver, chunks.join(", ")).toBeDefined();
    const loaded = probe.replace(JSON.stringify(pathToFileURL(cli).href), JSON.stringify(pathToFileURL(driver).href));
    expect(execFileSync(process.execPath, ["--input-type=module", "-e", loaded], { encoding: "utf8" }).trim()).toBe("true");
  });
});

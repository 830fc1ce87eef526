// Every CLI path reports an unreachable database in one line, never a driver stack trace.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import pg from "pg";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

describe("CLI connection failures", () => {
  let env: TestEnv;
  let cliEnv: Record<string, string>;
  const dir = mkdtempSync(path.join(os.tmpdir(), "uat-cli-"));
  const file = (name: string, yaml: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, yaml);
    return f;
  };

  beforeAll(async () => {
    env = await createTestEnv();
    cliEnv = { DATABASE_URL: env.metaUrl, SOURCE_DB_USER: "u", SOURCE_DB_PASSWORD: "p", TARGET_DB_USER: "u", TARGET_DB_PASSWORD: "p" };
  });
  afterAll(() => env.close());

  const lines = (out: string) => out.trim().split("\n");

  it("the original config against a host that does not resolve: one line, for --dry-run, --force and --status", async () => {
    const config = file(
      "unresolvable.yaml",
      `databases:
  source: { server: "prod-sql-server.invalid", database: "ProductionDB", auth_type: "sql" }
  target: { server: "uat-sql-server.invalid", database: "UATDB", auth_type: "sql" }
tables:
  - { name: "Users", strategy: "simple_copy", sync_mode: "full_replace" }
settings: { connection_timeout: 5 }
`,
    );
    for (const args of [["--dry-run"], ["--table", "Users", "--force"]]) {
      const r = await runCli([...args, "--config", config], cliEnv);
      expect(r.code).toBe(1);
      expect(lines(r.output)).toEqual(["error: cannot connect to source prod-sql-server.invalid:1433: host not found"]);
    }
    const status = await runCli(["--test-connections", "--config", config], cliEnv);
    expect(lines(status.output)).toEqual([
      "✗ source: cannot connect to source prod-sql-server.invalid:1433: host not found",
      "✗ target: cannot connect to target uat-sql-server.invalid:1433: host not found",
    ]);
  });

  it("a port nobody listens on, and a missing credential variable", async () => {
    const closed = file(
      "closed.yaml",
      `databases:
  source: { engine: postgres, server: 127.0.0.1, port: 1, database: prod, username_env: SOURCE_DB_USER, password_env: SOURCE_DB_PASSWORD }
  target: { engine: postgres, server: 127.0.0.1, port: 1, database: uat, username_env: TARGET_DB_USER, password_env: TARGET_DB_PASSWORD }
tables: [{ name: users }]
`,
    );
    const r = await runCli(["--dry-run", "--config", closed], cliEnv);
    expect(lines(r.output)).toEqual(["error: cannot connect to source 127.0.0.1:1: connection refused (is the server listening on that port?)"]);
    const windows = file("windows.yaml", `databases:\n  source: { server: "prod-sql-server", database: "ProductionDB", auth_type: "windows" }\n  target: { server: "uat", database: "UATDB", auth_type: "sql" }\n`);
    const w = await runCli(["--dry-run", "--config", windows], cliEnv);
    expect(lines(w.output)).toEqual([expect.stringMatching(/^error: auth_type windows for source prod-sql-server\/ProductionDB: .* set SOURCE_DB_DOMAIN, SOURCE_DB_USER and SOURCE_DB_PASSWORD \(not set: SOURCE_DB_DOMAIN\)$/)]);
  });

  it("missing credentials of both connections are named in one line, and configuration errors exit 2", async () => {
    const original = file("original.yaml", `databases:\n  source: { server: "prod-sql-server", database: "ProductionDB", auth_type: "sql" }\n  target: { server: "uat", database: "UATDB", auth_type: "sql" }\ntables:\n  - { name: "Users" }\n`);
    const r = await runCli(["--dry-run", "--config", original], { DATABASE_URL: env.metaUrl, SOURCE_DB_USER: "", SOURCE_DB_PASSWORD: "", TARGET_DB_USER: "", TARGET_DB_PASSWORD: "" });
    expect(r.code).toBe(2);
    expect(lines(r.output)).toEqual([
      "error: environment variables SOURCE_DB_USER (user name for source prod-sql-server/ProductionDB), SOURCE_DB_PASSWORD (password for source prod-sql-server/ProductionDB) are not set; " +
        "environment variables TARGET_DB_USER (user name for target uat/UATDB), TARGET_DB_PASSWORD (password for target uat/UATDB) are not set",
    ]);
    const unknown = await runCli(["--table", "nope", "--force", "--config", original], cliEnv);
    expect(unknown.code).toBe(2);
    expect(lines(unknown.output)).toEqual(["error: unknown table nope; configured tables: Users"]);
    const invalid = await runCli(["--dry-run", "--config", file("invalid.yaml", "databases: 1\n")], cliEnv);
    expect(invalid.code).toBe(2);
  });

  it("a metadata database nobody migrated: the CLI names the command that sets it up, and that command does (twice at once, one after the other)", async () => {
    const admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    const name = `fresh_${Date.now()}`;
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = Object.assign(new URL(env.adminUrl), { pathname: `/${name}` }).toString();
      const before = await runCli(["--status"], { ...cliEnv, DATABASE_URL: url });
      expect(before.code).toBe(2);
      expect(lines(before.output)).toEqual(["error: the metadata database (DATABASE_URL) has no tables yet: run `npm run db:migrate` first (the container image: `migrate`)"]);
      const migrate = () =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", "scripts/migrate.ts"], { env: { ...process.env, DATABASE_URL: url } });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (out += d));
          child.on("exit", (code) => resolve(`${code}: ${out.trim()}`));
        });
      expect(await Promise.all([migrate(), migrate()])).toEqual(["0: metadata database migrated", "0: metadata database migrated"]);
      const after = await runCli(["--status"], { ...cliEnv, DATABASE_URL: url });
      expect(after.output).not.toContain("has no tables yet");
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});

// LOG_LEVEL=debug through the real CLI: every statement of a refresh on its log line, with the side, the run's session,
// the time and the rows, on stderr; the parameters' values never.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, spawnCli } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

describe("statements logged at LOG_LEVEL=debug", () => {
  let env: TestEnv;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE visit (id int PRIMARY KEY, at date NOT NULL, who text)");
    await env.source.query("INSERT INTO visit SELECT g, date '2025-01-01' + g, 'p' || g FROM generate_series(1, 1500) g");
    await env.config([{ name: "visit", sync_mode: "incremental", incremental_column: "at", incremental_type: "date", date_buffer_days: 2 }]);
    cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! };
  });
  afterAll(() => env?.close());

  it("logs each statement of a refresh with its side, time and rows on stderr, and no parameter's value", async () => {
    expect((await runCli(["--table", "visit", "--force"], cliEnv)).code).toBe(0);
    await env.source.query("INSERT INTO visit VALUES (1501, '2029-06-15', 'new')");
    const child = spawnCli(["--table", "visit", "--force"], { ...cliEnv, LOG_LEVEL: "debug" });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    expect(await child.exited, child.output()).toBe(0);
    const logged = stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; side: string; session: string; ms: number; rows?: number; sql: string })
      .filter((l) => l.msg === "statement");
    // Production's window read (from the last refresh's watermark, 2029-02-09, minus the 2 days' buffer: visits 1498
    // to 1501), and the window's rows copied into UAT's staging table.
    const read = logged.find((l) => l.side === "source" && /^COPY \(SELECT .*FROM "public"\."visit"/.test(l.sql));
    const load = logged.find((l) => l.side === "target" && /^COPY "pg_temp"\."public_visit__uat_merge" \(.*\) FROM STDIN$/.test(l.sql));
    expect(read).toBeDefined();
    expect(load?.rows).toBe(4);
    expect(logged.every((l) => typeof l.ms === "number" && l.ms >= 0)).toBe(true);
    // Each line names the run's session it came from, as the server's session list does.
    const run = await env.db.refreshRun.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    expect(new Set(logged.map((l) => l.session))).toEqual(new Set([`uat-refresh run ${run.id} (source)`, `uat-refresh run ${run.id} (target)`]));
    // The window's start is a parameter: its value is on no line (only the placeholder).
    expect(stderr).not.toContain("2029-02-07");
    expect(logged.some((l) => l.sql.includes("$1"))).toBe(true);
  });

  it("a secret written into a post-refresh step's SQL is on no log line: the variable's value and a password= pair are redacted", async () => {
    // A secret of the process's environment (a variable named as secrets are, lib/redact), pasted into the step.
    const secret = "s3cr3t-Value-42";
    await env.config([{ name: "visit", sync_mode: "incremental", incremental_column: "at", incremental_type: "date", date_buffer_days: 2 }], {}, [
      { name: "tag testers", tables: ["visit"], sql: `UPDATE visit SET who = who WHERE who IN ('${secret}', 'password=Hunter2-for-uat')` },
    ]);
    const child = spawnCli(["--table", "visit", "--force"], { ...cliEnv, LOG_LEVEL: "debug", UAT_REFRESH_SMTP_PASSWORD: secret });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    expect(await child.exited, child.output()).toBe(0);
    const step = stderr.split("\n").find((l) => l.includes('"msg":"statement"') && l.includes("UPDATE visit SET who = who"));
    expect(step).toContain("WHERE who IN ('***', 'password=***')");
    expect(stderr).not.toContain(secret);
    expect(stderr).not.toContain("Hunter2-for-uat");
  });

  it("logs nothing at the default level", async () => {
    const r = await runCli(["--table", "visit", "--force"], cliEnv);
    expect(r.code).toBe(0);
    expect(r.output).not.toContain('"msg":"statement"');
  });
});

// "Rows committed" is true in every end state: real runs that succeed, fail after committed batches, are cancelled,
// are interrupted (their process killed) or end partial, read back through the API's snapshot, the run page
// (server-rendered), the runs list and the status view, checked against the rows the target really holds.
import pg from "pg";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunProgress } from "../../components/runs/run-progress";
import { exportConfig } from "../../lib/config/store";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { runRefresh, sweepInterruptedRuns } from "../../lib/engine/runner";
import { tableStatuses } from "../../lib/engine/status";
import { getRun, listRuns, runRows, runSnapshot, type RunSnapshot } from "../../lib/runs";
import { spawnCli, waitFor } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("rows committed, in every end state", () => {
  let env: TestEnv;
  let admin: pg.Client;
  const snapshot = async (id: string) => runSnapshot((await getRun(env.db, id))!);
  const targetCount = async (t: string) => Number((await env.target.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  /** The run page's text, as the server renders it. */
  const page = (s: RunSnapshot) => renderToStaticMarkup(createElement(RunProgress, { initial: s, operator: false })).replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE nums (id int PRIMARY KEY, v text); CREATE TABLE ok (id int PRIMARY KEY)");
    await env.source.query("INSERT INTO nums SELECT g, 'v' || g FROM generate_series(1, 5000) g; INSERT INTO ok SELECT generate_series(1, 300)");
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  const nums = { name: "nums", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", batch_size: 1000 } as const;
  const ok = { name: "ok", strategy: "simple_copy", sync_mode: "full_replace" } as const;

  it("succeeded: committed is every row loaded", async () => {
    await env.config([ok]);
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "web", triggeredBy: "test", tables: ["ok"] });
    const s = await snapshot(r.runId);
    expect([s.status, s.rowsCommitted, s.tables[0].rowsCommitted, s.tables[0].ended]).toEqual(["succeeded", 300, 300, "succeeded"]);
    expect(await targetCount("ok")).toBe(300);
    expect(page(s)).toContain("Rows committed 300 ");
  });

  it("failed and partial: committed is the batches that stayed, not what streamed before the failure", async () => {
    // The target refuses ids above 2500: batches 1 and 2 commit, the third fails.
    await env.target.query("ALTER TABLE nums ADD CONSTRAINT nums_small CHECK (id <= 2500)");
    await env.config([nums, ok]);
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "web", triggeredBy: "test", tables: ["nums", "ok"] });
    const s = await snapshot(r.runId);
    const t = s.tables.find((x) => x.table === "nums")!;
    expect(await targetCount("nums")).toBe(2000);
    expect([s.status, t.ended, t.rowsCommitted, s.rowsCommitted]).toEqual(["partial", "failed", 2000, 2300]);
    expect(t.rowsWritten).toBeGreaterThan(2000); // the third batch streamed, then rolled back
    const text = page(s);
    expect(text).toContain("Rows committed 2,300 ");
    expect(text).toMatch(/nums failed .* Rows committed 2,000 \([\d,]+ more streamed, rolled back\)/);
    expect(text).not.toContain(`Rows committed ${t.rowsWritten.toLocaleString("en-US")} `);
    const listed = (await listRuns(env.db, {})).runs.find((x) => x.id === r.runId)!;
    expect(runRows(listed.tables).committed).toBe(2300);
    await env.target.query("ALTER TABLE nums DROP CONSTRAINT nums_small; TRUNCATE nums");
  });

  it("cancelled: nothing of the rolled-back transaction counts, and the table says cancelled", async () => {
    await env.target.query(`CREATE FUNCTION park() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 100 THEN PERFORM pg_sleep(60); END IF; RETURN NEW; END $$;
      CREATE TRIGGER park BEFORE INSERT ON ok FOR EACH ROW EXECUTE FUNCTION park()`);
    await env.config([{ ...ok, fire_triggers: true }]);
    const before = await targetCount("ok");
    const stop = new AbortController();
    const running = runRefresh(env.db, env.metaUrl, { trigger: "web", triggeredBy: "test", tables: ["ok"], signal: stop.signal });
    const db = new URL(env.targetUrl).pathname.slice(1);
    await waitFor(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [db])).rowCount);
    stop.abort("by oscar@example.test");
    const r = await running;
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [db]);
    await env.target.query("DROP TRIGGER park ON ok");
    const s = await snapshot(r.runId);
    expect([s.status, s.tables[0].ended, s.tables[0].rowsCommitted, s.rowsCommitted]).toEqual(["cancelled", "cancelled", 0, 0]);
    expect(await targetCount("ok")).toBe(before);
    expect(page(s)).toContain("Rows committed 0 ");
  });

  it("interrupted: the batches committed before the kill, and --status says interrupted, not failed", async () => {
    await env.config([nums]);
    const cli = spawnCli(["--table", "nums", "--force"], { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD!, UAT_REFRESH_FAILPOINT: "between-batches" });
    await waitFor(async () => {
      if (cli.exitCode !== null) throw new Error(cli.output());
      return cli.output().includes("failpoint between-batches");
    });
    // While it runs, the run-level figures already add up the table's progress.
    const live = (await env.db.refreshRun.findFirstOrThrow({ where: { status: "running" }, orderBy: { startedAt: "desc" } })).id;
    expect((await snapshot(live)).rowsCommitted).toBe(1000);
    cli.kill("SIGKILL");
    await cli.exited;
    await waitFor(async () => (await sweepInterruptedRuns(env.db, env.metaUrl)).includes(live));
    const s = await snapshot(live);
    expect(await targetCount("nums")).toBe(1000);
    expect([s.status, s.tables[0].ended, s.tables[0].rowsCommitted, s.rowsCommitted]).toEqual(["interrupted", "interrupted", 1000, 1000]);
    expect(page(s)).toMatch(/Rows committed 1,000 .* nums interrupted /);
    const status = await tableStatuses(env.db, { name: env.environment, config: await exportConfig(env.db) });
    expect(status.find((x) => x.name === "nums")!.lastRun).toMatchObject({ status: "interrupted", rowsCommitted: 1000 });
  });
});

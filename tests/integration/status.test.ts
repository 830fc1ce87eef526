import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportConfig } from "../../lib/config/store";
import { EXACT_COUNT_LIMIT } from "../../lib/engine/limits";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { runRefresh } from "../../lib/engine/runner";
import { dashboardStatus, sharedDashboardStatus, tableStatuses, testConnections } from "../../lib/engine/status";
import { waitFor } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("status (dashboard and --status)", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      // Never analysed until the test says so: autovacuum would analyse 300 new rows within a minute on a slow run.
      await c.query("CREATE TABLE small (id int PRIMARY KEY) WITH (autovacuum_enabled = false)");
      await c.query("CREATE TABLE big (id bigint PRIMARY KEY)");
    }
    await env.source.query("INSERT INTO small SELECT generate_series(1, 300)");
    await env.target.query("INSERT INTO small SELECT generate_series(1, 200)");
    await env.source.query(`INSERT INTO big SELECT generate_series(1, ${EXACT_COUNT_LIMIT + 5000})`);
    await env.source.query("ANALYZE big");
    await env.config([
      { name: "small", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
      { name: "big", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "absent", strategy: "simple_copy" },
    ]);
  });
  afterAll(() => env?.close());

  it("reads production only through statistics and index-backed lookups; counts UAT's small tables; names missing ones; reports lag", async () => {
    // never analysed: production's rows are unknown rather than counted
    let by = Object.fromEntries((await tableStatuses(env.db, { name: env.environment, config: await exportConfig(env.db) })).map((r) => [r.name, r]));
    expect(by.small.source).toEqual({ rows: null, estimated: true, watermark: "300", note: "no statistics yet (not analysed)" });
    await env.source.query("ANALYZE small");
    // a watermark column no index leads with is not read from production (its max would be a scan)
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE unindexed (id int, at date)");
    await env.source.query("INSERT INTO unindexed SELECT g, date '2025-01-01' + g FROM generate_series(1, 50) g");
    await env.config([
      { name: "small", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
      { name: "big", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "absent", strategy: "simple_copy" },
      { name: "unindexed", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "at", incremental_type: "date" },
    ]);
    const rows = await tableStatuses(env.db, { name: env.environment, config: await exportConfig(env.db) });
    by = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(by.unindexed.source).toMatchObject({ watermark: null, note: expect.stringContaining("no index leads with at: its max is not read from production") });
    expect(by.small.source).toEqual({ rows: 300, estimated: true, watermark: "300" });
    expect(by.small.target).toMatchObject({ rows: 200, estimated: false, watermark: "200" });
    expect(by.small.lag).toBe("100 ids");
    expect(by.big.source.estimated).toBe(true);
    expect(Math.abs(by.big.source.rows! - (EXACT_COUNT_LIMIT + 5000))).toBeLessThan(50_000);
    expect(by.big.target).toMatchObject({ rows: 0, estimated: false, watermark: null });
    expect(by.absent.source.error).toBe("table not found");
  });

  it("computes the dashboard's status once for every viewer within STATUS_CACHE_SECONDS, and again once a run starts or finishes", async () => {
    const [a, b] = await Promise.all([sharedDashboardStatus(env.db, env.metaUrl, env.environment), sharedDashboardStatus(env.db, env.metaUrl, env.environment)]);
    expect(b).toBe(a);
    expect(await sharedDashboardStatus(env.db, env.metaUrl, env.environment)).toBe(a);
    // A refresh that just finished: the next viewer sees figures computed after it, not the cached ones.
    await env.db.refreshRun.create({ data: { environment: env.environment, trigger: "cli", triggeredBy: "test", status: "succeeded", startedAt: new Date(Date.now() - 1000), finishedAt: new Date() } });
    const after = await sharedDashboardStatus(env.db, env.metaUrl, env.environment);
    expect(after).not.toBe(a);
    expect(await sharedDashboardStatus(env.db, env.metaUrl, env.environment)).toBe(after);
  });

  it("answers while a full replace holds a table (it never waits for the refresh), showing its last known figures", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE held (id bigint PRIMARY KEY, payload text NOT NULL)");
    await env.source.query("INSERT INTO held SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 1000000) g");
    await env.target.query("INSERT INTO held SELECT g, 'old' FROM generate_series(1, 200) g");
    // The load parks at row 1000 on an advisory lock this test holds: the refresh provably holds the table while
    // the status is read, however slow the machine is.
    const gate = new (await import("pg")).default.Client({ connectionString: env.targetUrl });
    await gate.connect();
    await gate.query("SELECT pg_advisory_lock(4242)");
    await env.target.query(`CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 1000 THEN PERFORM pg_advisory_lock(4242); PERFORM pg_advisory_unlock(4242); END IF; RETURN NEW; END $$;
      CREATE TRIGGER gate BEFORE INSERT ON held FOR EACH ROW EXECUTE FUNCTION gate()`);
    await env.config([
      { name: "small", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
      { name: "held", strategy: "simple_copy", sync_mode: "full_replace", fire_triggers: true },
    ]);
    const before = await dashboardStatus(env.db, env.metaUrl);
    expect(before.tables.find((t) => t.name === "held")?.target.rows).toBe(200);

    let finished = false;
    const refresh = runRefresh(env.db, env.metaUrl, { tables: ["held"], trigger: "cli", triggeredBy: "test" }).finally(() => (finished = true));
    try {
      // Parked at the gate: the refresh's TRUNCATE holds the table until it commits, so a count or max() there
      // would wait as long as the gate stays shut. The status read must come back anyway.
      await waitFor(async () => (await env.target.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'")).rowCount);
      const during = await dashboardStatus(env.db, env.metaUrl);
      expect(finished).toBe(false);
      const held = during.tables.find((t) => t.name === "held")!;
      expect(held.running).toBe(true);
      expect(held.target).toMatchObject({ rows: 200, refreshing: true });
      expect(during.active.map((r) => r.tables.map((t) => t.tableName))).toEqual([["held"]]);
    } finally {
      await gate.end(); // opens the gate
      expect((await refresh).status).toBe("succeeded");
    }

    const after = (await dashboardStatus(env.db, env.metaUrl)).tables.find((t) => t.name === "held")!;
    expect([after.running, after.target.rows, after.target.refreshing]).toEqual([false, 1_000_000, undefined]);
  });

  it("never counts a big table the catalog cannot estimate: the rows its last full replace committed are shown", async () => {
    // `held` was fully replaced by the test above (1M rows, ~170 MB) and analysed after it; forget its statistics,
    // as a table nobody analysed has none.
    const scans = async () => {
      await env.target.query("SELECT pg_stat_clear_snapshot()");
      const { rows } = await env.target.query("SELECT seq_scan + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'held'");
      return Number(rows[0].n);
    };
    await env.target.query("ANALYZE held");
    const estimated = (await dashboardStatus(env.db, env.metaUrl)).tables.find((t) => t.name === "held")!;
    expect(estimated.target).toMatchObject({ rows: 1_000_000, estimated: true }); // analysed after the replace: an estimate
    await env.target.query("UPDATE pg_class SET reltuples = -1 WHERE oid = 'held'::regclass");
    // A count does show up in the statistics here (the control), so its absence below means no scan.
    const before = await scans();
    const counter = new (await import("pg")).default.Client({ connectionString: env.targetUrl });
    await counter.connect();
    await counter.query("SELECT count(*) FROM held");
    await counter.end();
    await waitFor(async () => (await scans()) > before);
    const afterControl = await scans();
    const held = (await dashboardStatus(env.db, env.metaUrl)).tables.find((t) => t.name === "held")!;
    expect(held.target).toMatchObject({ rows: 1_000_000, estimated: true, note: "rows its last full replace committed" });
    await new Promise((r) => setTimeout(r, 1500)); // as long as the control's scan took to show
    expect(await scans()).toBe(afterControl);
  });

  it("a lock held by anyone else makes that table report it instead of the dashboard waiting", async () => {
    const blocker = new (await import("pg")).default.Client({ connectionString: env.targetUrl });
    await blocker.connect();
    try {
      // The lock is held until this test ends: a read that waited would never come back.
      await blocker.query("BEGIN; LOCK TABLE small IN ACCESS EXCLUSIVE MODE");
      const small = (await dashboardStatus(env.db, env.metaUrl)).tables.find((t) => t.name === "small")!;
      expect(small.target.error).toMatch(/lock timeout/);
    } finally {
      await blocker.end();
    }
  });

  it("tests connections and says the source is read-only", async () => {
    const checks = await testConnections(await exportConfig(env.db));
    expect(checks.map((c) => [c.role, c.ok, c.readOnly])).toEqual([["source", true, true], ["target", true, false]]);
    expect(checks[0].version).toMatch(/^PostgreSQL \d+/);
  });

  it("says a target that takes no writes, on the connection check and the dashboard, and still shows its tables", async () => {
    const uat = new URL(env.targetUrl).pathname.slice(1);
    await env.target.query(`ALTER DATABASE ${uat} SET default_transaction_read_only = on`);
    try {
      const checks = await testConnections(await exportConfig(env.db));
      expect(checks[1]).toMatchObject({ role: "target", ok: false, readOnly: true, error: expect.stringMatching(/^takes no writes: default_transaction_read_only is on/) });
      const status = await dashboardStatus(env.db, env.metaUrl);
      expect(status.connections[1]).toMatchObject({ ok: false, error: expect.stringMatching(/^takes no writes/) });
      expect(status.tables.length).toBeGreaterThan(0);
      expect(status.tables.every((t) => !t.target.error)).toBe(true);
    } finally {
      await env.target.query(`ALTER DATABASE ${uat} RESET default_transaction_read_only`);
    }
  });
  it("says which UAT session a running refresh waits for (a tester's open transaction): who, with what, doing what", async () => {
    await env.config([{ name: "small", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const tester = new pg.Client({ connectionString: env.targetUrl, application_name: "tester psql" });
    await tester.connect();
    try {
      await tester.query("BEGIN; LOCK TABLE small IN ACCESS SHARE MODE");
      const running = runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["small"] });
      const wait = await waitFor(async () => (await dashboardStatus(env.db, env.metaUrl)).active.find((r) => r.lockWaits.length)?.lockWaits[0], 30_000, 200);
      expect(wait.blockers).toEqual([expect.objectContaining({ application: "tester psql", state: "idle in transaction" })]);
      expect(wait.blockers[0].user).toBeTruthy();
      expect(Date.parse(wait.since)).toBeLessThanOrEqual(Date.now());
      await tester.query("COMMIT");
      expect((await running).status).toBe("succeeded");
      expect((await dashboardStatus(env.db, env.metaUrl)).active).toEqual([]);
    } finally {
      await tester.end();
    }
  });
});

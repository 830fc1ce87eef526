// "Nothing lost": kills, dropped connections, concurrent triggers, the read-only source and the same-database guard.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSession } from "../../lib/engine/connections";
import { RefreshError } from "../../lib/engine/errors";
import { runRefresh, TableBusyError } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, terminateWhenCopying, type TestEnv } from "../support/env";
import { runCli, spawnCli, waitFor } from "../support/cli";

const TABLE = `CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, payload text, at timestamp NOT NULL)`;
const fill = (from: number, to: number, tag: string) =>
  `INSERT INTO events SELECT g, '${tag}', repeat('x', 40) || g, timestamp '2025-03-01' + g * interval '1 minute' FROM generate_series(${from}, ${to}) g`;

describe("refresh safety on real PostgreSQL", () => {
  let env: TestEnv;
  let admin: pg.Client;
  let cliEnv: Record<string, string>;
  const full = { name: "events", strategy: "simple_copy", sync_mode: "full_replace" } as const;

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    for (const c of [env.source, env.target]) await c.query(TABLE);
    await env.source.query(fill(1, 600_000, "new"));
    await env.target.query(fill(1, 1000, "old"));
    cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! };
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  it("a refresh process killed mid-copy leaves the target as it was, and the next run completes", async () => {
    // The parking trigger fires: this table asks for its triggers during the load.
    await env.config([{ ...full, fire_triggers: true }]);
    const before = await fingerprint(env.target, "events");
    // A row trigger parks the target's COPY at row 300000: the kill lands mid-stream, deterministically.
    await env.target.query(`CREATE FUNCTION park() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 300000 THEN PERFORM pg_sleep(60); END IF; RETURN NEW; END $$`);
    await env.target.query("CREATE TRIGGER park BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION park()");
    const child = spawnCli(["--table", "events", "--force"], cliEnv);
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`CLI exited early: ${child.output()}`);
      // this test's database only: other test files park their own refreshes at the same time
      const r = await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh run % (target)' AND wait_event = 'PgSleep' AND datname = $1", [new URL(env.targetUrl).pathname.slice(1)]);
      return r.rowCount;
    });
    child.kill("SIGKILL");
    await child.exited;
    // The orphaned backend still holds TRUNCATE's lock until the server notices its client is gone; end it now.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh run % (target)' AND datname = $1", [new URL(env.targetUrl).pathname.slice(1)]);
    expect(await fingerprint(env.target, "events")).toEqual(before);
    await env.target.query("DROP TRIGGER park ON events");

    const { code, output } = await runCli(["--table", "events", "--force"], cliEnv);
    expect(output).toContain("600000 rows");
    expect(code).toBe(0);
    expect(await fingerprint(env.target, "events")).toEqual(await fingerprint(env.source, "events"));
    const killed = await env.db.refreshRun.findFirstOrThrow({ orderBy: { startedAt: "asc" }, include: { tables: true } });
    expect(killed.status).toBe("interrupted");
    expect(killed.tables[0].error).toMatch(/interrupted/);
    // The CLI's refreshes are in the audit trail as the web's are, under their environment: who asked, how it ended
    // (the killed one: asked, never ended).
    const audited = async (runId: string) => (await env.db.auditEvent.findMany({ where: { target: runId }, orderBy: { at: "asc" } })).map((a) => [a.actor, a.action, a.environment, a.outcome]);
    expect(await audited(killed.id)).toEqual([[killed.triggeredBy, "refresh.trigger", env.environment, "ok"]]);
    const next = await env.db.refreshRun.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    expect(await audited(next.id)).toEqual([[next.triggeredBy, "refresh.trigger", env.environment, "ok"], [next.triggeredBy, "refresh.finished", env.environment, "ok"]]);
  });

  it("a source connection dropped mid-stream fails clearly and loses nothing", async () => {
    await env.target.query("TRUNCATE events");
    await env.target.query(fill(1, 1000, "old"));
    const before = await fingerprint(env.target, "events");
    await env.config([full], { max_retries: 0 });
    const kill = terminateWhenCopying(env, admin, "source", 50_000);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["events"], onProgress: kill.onProgress });
    expect(kill.state.fired).toBe(true);
    expect(report.status).toBe("failed");
    expect(report.tables[0].error).toMatch(/terminat/i);
    expect(await fingerprint(env.target, "events")).toEqual(before);
  });

  it("with max_retries, a dropped connection is retried and the result is exact", async () => {
    await env.config([full], { max_retries: 2 });
    const kill = terminateWhenCopying(env, admin, "target", 50_000);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["events"], onProgress: kill.onProgress });
    expect(kill.state.fired).toBe(true);
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(await fingerprint(env.target, "events")).toEqual(await fingerprint(env.source, "events"));
  });

  it("two refreshes of one table at once: one runs, the other is refused", async () => {
    await env.config([full]);
    const results = await Promise.allSettled([1, 2].map(() => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["events"] })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(TableBusyError);
    expect(refused.reason.message).toMatch(/events is already being refreshed/);
  });

  it("the source session refuses writes", async () => {
    const config = await env.config([full]);
    const source = await openSession(config.databases.source, "source", config.settings, { kind: "check" });
    try {
      await expect(source.execute({ sql: "INSERT INTO events VALUES (0, 'x', 'x', now())", params: [] })).rejects.toMatchObject({ code: "25006" });
      await expect(source.execute({ sql: "TRUNCATE events", params: [] })).rejects.toThrow(/read-only transaction/);
    } finally {
      await source.close();
    }
  });

  it("a target that is the source database is refused before anything is written", async () => {
    const config = await env.config([full]);
    const same = { ...config, databases: { source: config.databases.source, target: { ...config.databases.source, server: "localhost" } } };
    const before = await fingerprint(env.source, "events");
    await expect(runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", config: same })).rejects.toThrow(/is the source database/);
    expect(await fingerprint(env.source, "events")).toEqual(before);
  });

  it("a UAT database that takes no writes (default_transaction_read_only) is refused by name before anything is planned, dry run too", async () => {
    await env.config([full]);
    const uat = new URL(env.targetUrl).pathname.slice(1);
    const before = await fingerprint(env.target, "events");
    await env.target.query(`ALTER DATABASE ${uat} SET default_transaction_read_only = on`);
    try {
      for (const dryRun of [true, false])
        await expect(runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun })).rejects.toThrow(
          `the target database ${uat} takes no writes: default_transaction_read_only is on for its sessions (set on the database, the login or the server)`,
        );
    } finally {
      await env.target.query(`ALTER DATABASE ${uat} RESET default_transaction_read_only`);
    }
    expect(await fingerprint(env.target, "events")).toEqual(before);
    // The source's sessions are read-only by the product's own setting: that is never taken for a read-only database.
    expect((await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun: true })).status).toBe("succeeded");
  });

  it("unknown tables and columns are named", async () => {
    await env.config([full, { name: "ghost", strategy: "simple_copy" }, { name: "events", schema: "public", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "nope", incremental_type: "identity" }]).catch((e) => e);
    await env.config([full, { name: "ghost", strategy: "simple_copy" }]);
    await expect(runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["missing"] })).rejects.toThrow(/unknown table missing; configured tables: events, ghost/);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["ghost"] });
    expect(report.tables[0].error).toBe("table ghost does not exist in the source database");
    await env.config([{ name: "events", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "nope", incremental_type: "identity" }]);
    const bad = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(bad.tables[0].error).toMatch(/^incremental_column nope is not a column of public.events/);
    await env.config([{ name: "events", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "kind", incremental_type: "identity" }]);
    const wrongType = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(wrongType.tables[0].error).toMatch(/kind has type text, which does not fit incremental_type identity/);
    // A watermark UAT computes itself would be UAT's own values: said as such, not as a missing column.
    for (const side of [env.source, env.target]) await side.query("ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS (id * 2) STORED");
    try {
      await env.config([{ name: "events", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "seq", incremental_type: "identity" }]);
      const generated = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
      expect(generated.tables[0].error).toMatch(/^incremental_column seq of public\.events is generated by UAT's server \(computed, rowversion or GENERATED ALWAYS\)/);
    } finally {
      for (const side of [env.source, env.target]) await side.query("ALTER TABLE events DROP COLUMN seq");
    }
    expect(RefreshError).toBeDefined();
  });
});

describe("cancelling a refresh", () => {
  let env: TestEnv;
  let admin: pg.Client;
  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    for (const c of [env.source, env.target]) await c.query(TABLE);
    await env.source.query(fill(1, 200_000, "new"));
    await env.target.query(fill(1, 1000, "old"));
    await env.target.query(`CREATE FUNCTION park() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 100000 THEN PERFORM pg_sleep(60); END IF; RETURN NEW; END $$`);
    await env.target.query("CREATE TRIGGER park BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION park()");
    await env.source.query("CREATE TABLE later (id int PRIMARY KEY)");
    await env.target.query("CREATE TABLE later (id int PRIMARY KEY)");
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  it("stops mid-copy at once, rolls the table back, skips the tables not started, and frees the lock", async () => {
    // One table at a time, so "later" is still waiting when the cancel comes.
    await env.config([{ name: "events", strategy: "simple_copy", sync_mode: "full_replace", fire_triggers: true }, { name: "later", strategy: "simple_copy", sync_mode: "full_replace" }], { max_parallel_tables: 1 });
    const before = await fingerprint(env.target, "events");
    const controller = new AbortController();
    const running = runRefresh(env.db, env.metaUrl, { trigger: "web", triggeredBy: "test", signal: controller.signal });
    const db = new URL(env.targetUrl).pathname.slice(1);
    await waitFor(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [db])).rowCount);
    controller.abort("by oscar@example.test");
    const report = await running;
    // It did not wait for the 60 s sleep: the parked backend may still be sleeping, but the run has ended.
    expect(report.status).toBe("cancelled");
    expect(report.tables.map((t) => [t.table, t.status])).toEqual([["events", "failed"], ["later", "skipped"]]);
    expect(report.tables[0].error).toBe("cancelled by oscar@example.test: nothing of the interrupted transaction was committed");
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [db]);
    expect(await fingerprint(env.target, "events")).toEqual(before);
    await env.target.query("DROP TRIGGER park ON events");
    const again = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["events"] });
    expect(again.status).toBe("succeeded");
  });
});

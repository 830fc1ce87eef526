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

/** A parent and a child referencing it (a refresh group), on both sides; production's side filled with `parents`
 *  rows and `children` rows spread over them. */
async function relatedTables(env: TestEnv, parent: string, child: string, parents: number, children: number) {
  for (const c of [env.source, env.target]) {
    await c.query(`CREATE TABLE ${parent} (id int PRIMARY KEY, name text NOT NULL)`);
    await c.query(`CREATE TABLE ${child} (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES ${parent} (id), name text NOT NULL)`);
  }
  await env.source.query(`INSERT INTO ${parent} SELECT g, '${parent} ' || g FROM generate_series(1, ${parents}) g`);
  await env.source.query(`INSERT INTO ${child} SELECT g, 1 + g % ${parents}, '${child} ' || g FROM generate_series(1, ${children}) g`);
}

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

  // The source's session ended by the server as UAT's transaction commits (a deferred trigger of UAT's, fired by
  // that commit, ends it from outside): the source's next statement, the end of its snapshot, fails. The rows are
  // committed then: they count, and a retry must not load them again (the sequence counts the rows UAT received).
  async function endSourceAtCommit(table: string) {
    const sourceDb = new URL(env.sourceUrl).pathname.slice(1);
    await env.target.query(`CREATE SEQUENCE rows_received; CREATE TABLE source_ended (ended boolean);
      CREATE OR REPLACE FUNCTION end_source_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('rows_received') = 1 THEN
          INSERT INTO source_ended SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh run % (source)' AND datname = '${sourceDb}';
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER end_source_at_commit AFTER INSERT ON ${table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION end_source_at_commit();`);
    return {
      received: async () => Number((await env.target.query("SELECT last_value FROM rows_received")).rows[0].last_value),
      /** The source sessions it ended (committed with UAT's rows). */
      ended: async () => (await env.target.query("SELECT ended FROM source_ended")).rows.map((r) => r.ended),
      async drop() {
        await env.target.query(`DROP TRIGGER end_source_at_commit ON ${table}; DROP SEQUENCE rows_received; DROP TABLE source_ended`);
      },
    };
  }

  it("the source's session ended as UAT commits a full replace: the rows stay committed, verified, and are never loaded again", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)");
    await env.source.query("INSERT INTO notes SELECT g, 'production ' || g FROM generate_series(1, 300) g");
    await env.target.query("INSERT INTO notes SELECT g, 'uat ' || g FROM generate_series(1, 20) g");
    const fault = await endSourceAtCommit("notes");
    try {
      await env.config([{ name: "notes", strategy: "simple_copy", sync_mode: "full_replace", fire_triggers: true }], { max_retries: 2 });
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["notes"] });
      expect(report.status, report.tables[0].error).toBe("succeeded");
      expect(await fault.ended()).toEqual([true]);
      expect(await fault.received()).toBe(300);
      expect(report.tables[0].outcome!.verification!.ok).toBe(true);
      expect(await fingerprint(env.target, "notes")).toEqual(await fingerprint(env.source, "notes"));
    } finally {
      await fault.drop();
    }
  });

  it("the source's session ended as UAT commits a group of related tables: nothing of the group is loaded again", async () => {
    await relatedTables(env, "owners", "pets", 50, 200);
    const fault = await endSourceAtCommit("pets");
    try {
      const table = (name: string) => ({ name, strategy: "simple_copy", sync_mode: "full_replace", fire_triggers: true }) as const;
      await env.config([table("owners"), table("pets")], { max_retries: 2 });
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["owners", "pets"] });
      expect(report.tables.map((t) => [t.table, t.status, t.error])).toEqual([["owners", "succeeded", undefined], ["pets", "succeeded", undefined]]);
      expect(await fault.ended()).toEqual([true]);
      expect(await fault.received()).toBe(200);
      for (const t of ["owners", "pets"]) expect(await fingerprint(env.target, t)).toEqual(await fingerprint(env.source, t));
    } finally {
      await fault.drop();
    }
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

  /** A run cancelled as it starts verifying (right after its commit): the cancel cuts both sessions, so the target's
   *  checksum read after the commit fails. */
  async function cancelAtVerification(tables: string[]) {
    const controller = new AbortController();
    const report = await runRefresh(env.db, env.metaUrl, {
      trigger: "web", triggeredBy: "test", tables, signal: controller.signal,
      onProgress: (e) => e.phase === "verifying" && controller.abort("by oscar@example.test"),
    });
    expect(controller.signal.aborted).toBe(true);
    const recorded = await env.db.tableResult.findMany({ where: { runId: report.runId }, orderBy: { tableName: "asc" } });
    return { report, committed: Object.fromEntries(recorded.map((r) => [r.tableName, Number(r.rowsCommitted)])) };
  }

  it("a cancel after a date window's commit, while it is verified, says its rows stay and counts them", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE visits (id int PRIMARY KEY, at date NOT NULL, page text NOT NULL)");
    await env.source.query("INSERT INTO visits SELECT g, date '2025-03-01' + g % 10, 'p' || g FROM generate_series(1, 400) g");
    await env.config([{ name: "visits", sync_mode: "incremental", incremental_column: "at", incremental_type: "date", date_buffer_days: 0 }]);
    const { report, committed } = await cancelAtVerification(["visits"]);
    expect(report.tables[0].error).toBe("cancelled by oscar@example.test after 400 row(s) had been committed, which stay in the target; nothing after that was committed");
    expect(committed).toEqual({ visits: 400 });
    expect(await fingerprint(env.target, "visits")).toEqual(await fingerprint(env.source, "visits"));
  });

  it("a cancel after a group's commit, while it is verified, says each member's rows stay and counts them", async () => {
    await relatedTables(env, "authors", "books", 30, 120);
    await env.config([{ name: "authors", sync_mode: "full_replace" }, { name: "books", sync_mode: "full_replace" }]);
    const { report, committed } = await cancelAtVerification(["authors", "books"]);
    expect(report.tables.map((t) => t.error)).toEqual([
      "cancelled by oscar@example.test after 30 row(s) had been committed, which stay in the target; nothing after that was committed",
      "cancelled by oscar@example.test after 120 row(s) had been committed, which stay in the target; nothing after that was committed",
    ]);
    expect(committed).toEqual({ authors: 30, books: 120 });
    for (const t of ["authors", "books"]) expect(await fingerprint(env.target, t)).toEqual(await fingerprint(env.source, t));
  });
});

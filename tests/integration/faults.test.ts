// Fault injection on real PostgreSQL: the refresh process is killed (-9) at named points of every strategy, backends
// are terminated mid-copy, the target rejects rows, triggers race, and hostile input arrives. After each fault the
// target equals either its old state or the new one (by checksum), never a mix; a re-run then converges.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh, TableBusyError } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, terminateWhenCopying, type TestEnv } from "../support/env";
import { spawnCli, waitFor } from "../support/cli";
import type { TableConfigDraft } from "../../lib/config/schema";

const ITEMS = `CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL, price numeric(10,2), stock int, updated_at timestamp NOT NULL)`;
const REPORTS_SRC = `CREATE TABLE reports (day int NOT NULL, k int NOT NULL, v numeric(12,2), PRIMARY KEY (day, k))`;
const REPORTS_TGT = `CREATE TABLE reports (day int NOT NULL, k int NOT NULL, v numeric(12,2), PRIMARY KEY (day, k)) PARTITION BY RANGE (day);
  CREATE TABLE reports_p20250301 PARTITION OF reports FOR VALUES FROM (20250301) TO (20250302);`;
const items = (from: number, to: number, tag: string) =>
  `INSERT INTO items SELECT g, '${tag}-' || g, (g % 1000) / 3.0, CASE WHEN g % 5 = 0 THEN NULL ELSE g % 77 END, timestamp '2025-03-01' + g * interval '10 seconds' FROM generate_series(${from}, ${to}) g`;

describe("fault injection", () => {
  let env: TestEnv;
  let admin: pg.Client;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    for (const c of [env.source, env.target]) await c.query(ITEMS);
    await env.source.query(REPORTS_SRC);
    await env.target.query(REPORTS_TGT);
    cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! };
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  async function resetItems() {
    await env.source.query("TRUNCATE items");
    await env.target.query("TRUNCATE items");
    await env.source.query(items(1, 100_000, "new"));
    await env.target.query(items(1, 60_000, "new"));
    await env.target.query("UPDATE items SET sku = 'old-' || id WHERE id % 10 = 0");
  }

  /** Runs the CLI until it parks at `point`, kills it, and returns the target's checksum right after the kill. */
  async function killAt(point: string, table: string, fp: string, settle?: () => Promise<unknown>) {
    const child = spawnCli(["--table", table, "--force"], { ...cliEnv, UAT_REFRESH_FAILPOINT: point });
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`CLI exited before failpoint ${point}: ${child.output()}`);
      return child.output().includes(`failpoint ${point}`);
    });
    await settle?.();
    child.kill("SIGKILL");
    await child.exited;
    // a killed client's open transaction ends when its backend notices; end it now so reads do not wait on its locks
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh%' AND datname = $1", [new URL(env.targetUrl).pathname.slice(1)]);
    return fingerprint(env.target, fp);
  }

  const simple: [string, TableConfigDraft, string[]][] = [
    ["full_replace", { name: "items", strategy: "simple_copy", sync_mode: "full_replace" }, ["before-load", "before-commit"]],
    // identity_buffer 0: the batches are all new rows, so what a kill leaves is countable in whole batches
    ["incremental identity", { name: "items", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", batch_size: 7000, identity_buffer: 0 }, ["before-load", "between-batches"]],
    ["incremental datetime", { name: "items", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "updated_at", incremental_type: "datetime", date_buffer_days: 1 }, ["before-load", "before-commit"]],
  ];

  for (const [label, table, points] of simple) {
    for (const point of points) {
      it(`${label}: killed at ${point} -> old or consistent state, re-run converges`, async () => {
        await resetItems();
        await env.config([table]);
        const old = await fingerprint(env.target, "items");
        const oldCount = old.count;
        // Between batches the commit's progress write may still be in flight when the failpoint is announced; a
        // kill at that instant would leave the count one batch behind, which is not what this test is about.
        const committedPersisted = async () => {
          const r = await env.db.tableResult.findFirst({ where: { tableName: "items" }, orderBy: { startedAt: "desc" } });
          const { rows } = await env.target.query("SELECT count(*)::int AS n FROM items");
          return r && Number(r.rowsCommitted) === rows[0].n - oldCount;
        };
        const after = await killAt(point, "items", "items", point === "between-batches" ? () => waitFor(committedPersisted, 10_000) : undefined);
        const killed = (await env.db.tableResult.findFirst({ where: { tableName: "items" }, orderBy: { startedAt: "desc" } }))!;
        if (point === "between-batches") {
          // committed batches stay: a prefix of the new rows, never a duplicate, never a partial batch
          const { rows } = await env.target.query("SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, max(id)::int AS max FROM items");
          expect(rows[0].n).toBe(rows[0].d);
          expect(rows[0].n).toBe(rows[0].max);
          expect((rows[0].n - 60_000) % 7000).toBe(0);
        } else {
          expect(after).toEqual(old);
        }
        const { code, output } = await (async () => {
          const c = spawnCli(["--table", "items", "--force"], cliEnv);
          return { code: await c.exited, output: c.output() };
        })();
        expect(code, output).toBe(0);
        // The killed run is marked interrupted with the rows that stayed (committed), not the rows it had streamed.
        const marked = (await env.db.tableResult.findUnique({ where: { id: killed.id } }))!;
        expect([marked.status, marked.error]).toEqual(["failed", "interrupted: the refresh process ended before this table finished"]);
        expect(Number(marked.rowsWritten)).toBe(after.count - oldCount);
        if (label === "incremental datetime") {
          const { rows } = await env.target.query("SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM items");
          expect(rows[0]).toEqual({ n: 100_000, d: 100_000 });
        } else if (label === "full_replace") {
          expect(await fingerprint(env.target, "items")).toEqual(await fingerprint(env.source, "items"));
        } else {
          // identity mode copies only ids above the target max: the old 'old-' rows below it stay as they were
          const { rows } = await env.target.query("SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM items");
          expect(rows[0]).toEqual({ n: 100_000, d: 100_000 });
        }
      });
    }
  }

  for (const point of ["before-load", "staging-loaded", "before-swap", "after-swap"]) {
    it(`staging_partition_switch: killed at ${point} -> the day is old or new, leftovers are cleaned by the next run`, async () => {
      await env.target.query("TRUNCATE reports");
      await env.source.query("TRUNCATE reports");
      await env.target.query("INSERT INTO reports SELECT 20250301, g, 1 FROM generate_series(1, 3000) g");
      await env.source.query("INSERT INTO reports SELECT 20250301, g, 2 FROM generate_series(1, 5000) g");
      await env.config([{ name: "reports", strategy: "staging_partition_switch" }]);
      const old = await fingerprint(env.target, "reports");
      const after = await killAt(point, "reports", "reports");
      const fresh = await fingerprint(env.source, "reports");
      expect(point === "after-swap" ? fresh : old).toEqual(after);
      const c = spawnCli(["--table", "reports", "--force"], cliEnv);
      expect(await c.exited, c.output()).toBe(0);
      expect(await fingerprint(env.target, "reports")).toEqual(fresh);
      const left = await env.target.query("SELECT relname FROM pg_class WHERE relname ~ '^reports_(stg|old)_' AND relkind = 'r'");
      expect(left.rows).toEqual([]);
    });
  }

  it("kills at random moments (full_replace and partition switch): always the old or the new state", async () => {
    const checks: string[] = [];
    for (const [table, fp, prepare] of [
      ["items", "items", async () => {
        await resetItems();
        await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }]);
      }],
      ["reports", "reports", async () => {
        await env.target.query("TRUNCATE reports");
        await env.source.query("TRUNCATE reports");
        await env.target.query("INSERT INTO reports SELECT 20250301, g, 1 FROM generate_series(1, 3000) g");
        await env.source.query("INSERT INTO reports SELECT 20250301, g, 2 FROM generate_series(1, 50000) g");
        await env.config([{ name: "reports", strategy: "staging_partition_switch" }]);
      }],
    ] as const) {
      for (let i = 0; i < 4; i++) {
        await prepare();
        const old = await fingerprint(env.target, fp);
        const fresh = await fingerprint(env.source, fp);
        const child = spawnCli(["--table", table, "--force"], cliEnv);
        // process start-up takes ~1 s, the refresh itself ~0.5-1 s: spread the kills over both
        const delay = 700 + Math.floor(Math.random() * 1500);
        await new Promise((r) => setTimeout(r, delay));
        child.kill("SIGKILL");
        await child.exited;
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh%' AND datname = $1", [new URL(env.targetUrl).pathname.slice(1)]);
        const now = await fingerprint(env.target, fp);
        expect([old, fresh]).toContainEqual(now);
        checks.push(`${table}@${delay}ms: ${JSON.stringify(now) === JSON.stringify(old) ? "old" : "new"}`);
        const again = spawnCli(["--table", table, "--force"], cliEnv);
        expect(await again.exited, again.output()).toBe(0);
        expect(await fingerprint(env.target, fp)).toEqual(fresh);
      }
    }
    expect(checks).toHaveLength(8);
  });

  it("command_timeout stops a statement that runs too long, with a hint, and nothing is committed", async () => {
    await resetItems();
    await env.target.query(`CREATE OR REPLACE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 500 THEN PERFORM pg_sleep(5); END IF; RETURN NEW; END $$`);
    await env.target.query("CREATE TRIGGER slow_row BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION slow_row()");
    try {
      // The slow trigger is what makes the statement run long: the table fires its triggers.
      await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace", fire_triggers: true }], { command_timeout: 1 });
      const old = await fingerprint(env.target, "items");
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"] });
      expect(report.status).toBe("failed");
      expect(report.tables[0].error).toMatch(/statement timeout/);
      expect(report.tables[0].hint).toMatch(/command_timeout/);
      expect(await fingerprint(env.target, "items")).toEqual(old);
    } finally {
      await env.target.query("DROP TRIGGER slow_row ON items");
    }
  });

  it("the target backend terminated mid-copy (no retries): the run fails and the target is unchanged", async () => {
    await resetItems();
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }], { max_retries: 0 });
    const old = await fingerprint(env.target, "items");
    const kill = terminateWhenCopying(env, admin, "target", 10_000);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"], onProgress: kill.onProgress });
    expect(kill.state.fired).toBe(true);
    expect(report.status).toBe("failed");
    expect(await fingerprint(env.target, "items")).toEqual(old);
  });

  it("the source session ended by the server while it waits for UAT: the error says why, and a retry succeeds", async () => {
    await resetItems();
    const source = new URL(env.sourceUrl).pathname.slice(1);
    // UAT's emptying waits for a tester's lock while the source session sits in its snapshot; a DBA ends that session.
    const endSourceWhileWaiting = async () => {
      await env.target.query("BEGIN; LOCK TABLE items IN ACCESS SHARE MODE");
      await waitFor(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'uat-refresh%' AND state = 'idle in transaction'", [source])).rowCount! > 0);
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'uat-refresh%' AND state = 'idle in transaction'", [source]);
      await env.target.query("COMMIT");
    };
    const old = await fingerprint(env.target, "items");
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }], { max_retries: 0 });
    let [report] = await Promise.all([runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"] }), endSourceWhileWaiting()]);
    expect(report.status).toBe("failed");
    expect(report.tables[0].error).toBe("the source server ended the connection: terminating connection due to administrator command");
    expect(report.tables[0].hint).toMatch(/retried up to settings.max_retries/);
    expect(await fingerprint(env.target, "items")).toEqual(old);
    // 57P01 is transient: with a retry the unit runs again on a new session.
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }], { max_retries: 1 });
    [report] = await Promise.all([runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"] }), endSourceWhileWaiting()]);
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(await fingerprint(env.target, "items")).toEqual(await fingerprint(env.source, "items"));
  });

  it("production's session ended while the table is planned: the plan runs again on new sessions and the run succeeds", async () => {
    await resetItems();
    const source = new URL(env.sourceUrl).pathname.slice(1);
    // A lock of someone else's holds the plan's estimate of the table's size (pg_relation_size); a DBA ends the session.
    const endWhilePlanning = async () => {
      await env.source.query("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
      const waiting = "SELECT pid, query FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'uat-refresh%' AND wait_event_type = 'Lock'";
      const { query } = await waitFor(async () => (await admin.query(waiting, [source])).rows[0]);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM (${waiting}) AS w`, [source]);
      await env.source.query("COMMIT");
      return query as string;
    };
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }], { max_retries: 1 });
    const [report, query] = await Promise.all([runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"] }), endWhilePlanning()]);
    expect(query).toMatch(/pg_relation_size/);
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(await fingerprint(env.target, "items")).toEqual(await fingerprint(env.source, "items"));
  });

  it("UAT's own lock_timeout ends the wait for a tester's lock: failed with a hint, the target as it was", async () => {
    await resetItems();
    const uat = new URL(env.targetUrl).pathname.slice(1);
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const old = await fingerprint(env.target, "items");
    // A DBA's bound on lock waits, kept for the refresh's sessions: it keeps a refresh from queueing testers behind it.
    await env.target.query(`ALTER DATABASE ${uat} SET lock_timeout = '200ms'`);
    await env.target.query("BEGIN; LOCK TABLE items IN ACCESS SHARE MODE");
    try {
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"] });
      expect(report.status).toBe("failed");
      expect(report.tables[0].error).toMatch(/lock timeout/);
      expect(report.tables[0].hint).toMatch(/lock_timeout, which UAT's database or login sets/);
    } finally {
      await env.target.query("COMMIT");
      await env.target.query(`ALTER DATABASE ${uat} RESET lock_timeout`);
    }
    expect(await fingerprint(env.target, "items")).toEqual(old);
  });

  it("a constraint violation in the target fails clearly with a hint, nothing committed", async () => {
    await resetItems();
    await env.target.query("ALTER TABLE items ADD CONSTRAINT stock_small CHECK (stock < 70) NOT VALID");
    try {
      await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }]);
      const old = await fingerprint(env.target, "items");
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["items"] });
      expect(report.status).toBe("failed");
      expect(report.tables[0].error).toMatch(/violates check constraint "stock_small"/);
      expect(report.tables[0].hint).toMatch(/constraint violation.*nothing was committed/);
      expect(await fingerprint(env.target, "items")).toEqual(old);
    } finally {
      await env.target.query("ALTER TABLE items DROP CONSTRAINT stock_small");
    }
  });

  it("20 concurrent triggers of one table: exactly one runs", async () => {
    await resetItems();
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const before = await env.db.refreshRun.count();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => runRefresh(env.db, env.metaUrl, { trigger: "web", triggeredBy: "race", tables: ["items"] })));
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    // a loser can only lose to a run still holding the lock; once it ends, a later request may win: never two at once
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((r) => r.reason instanceof TableBusyError)).toBe(true);
    expect(await env.db.refreshRun.count()).toBe(before + ok.length);
    const runs = await env.db.refreshRun.findMany({ where: { triggeredBy: "race" }, orderBy: { startedAt: "asc" } });
    for (let i = 1; i < runs.length; i++) expect(runs[i].startedAt.getTime()).toBeGreaterThanOrEqual(runs[i - 1].finishedAt!.getTime());
    expect(await fingerprint(env.target, "items")).toEqual(await fingerprint(env.source, "items"));
  });

  it("hostile identifiers are quoted end to end; missing hostile names are reported with no side effects", async () => {
    const names = [`we"ird; DROP TABLE items; --`, "tâble_ünïcode_表", "semi;colon"];
    for (const n of names) {
      const q = `"${n.replace(/"/g, '""')}"`;
      for (const c of [env.source, env.target]) await c.query(`CREATE TABLE ${q} ("i""d" int PRIMARY KEY, "vä;l" text)`);
      await env.source.query(`INSERT INTO ${q} SELECT g, 'v' || g FROM generate_series(1, 100) g`);
    }
    await env.config(names.map((name) => ({ name, strategy: "simple_copy" as const, sync_mode: "full_replace" as const })));
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.tables.map((t) => [t.table, t.status, t.outcome?.rowsWritten])).toEqual(names.map((n) => [n, "succeeded", 100]));
    expect((await env.target.query("SELECT count(*)::int AS n FROM items")).rows[0].n).toBeGreaterThan(0);

    const tablesBefore = (await env.target.query("SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1")).rows;
    await env.config([{ name: `x'); DROP TABLE items; --`, strategy: "simple_copy" }]);
    const bad = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(bad.tables[0].error).toBe(`table x'); DROP TABLE items; -- does not exist in the source database`);
    expect((await env.target.query("SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1")).rows).toEqual(tablesBefore);
  });
});

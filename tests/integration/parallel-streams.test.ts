// Parallel key-range streams of one staging load, on real PostgreSQL: each stream on its own worker thread with its
// own source and target sessions, all on one exported snapshot. Exact by count and checksum (NULL keys, skewed
// keys), progress summed, and a cancel or a failing stream leaves the target exactly as it was.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresCompiler } from "../../lib/dialects/postgres/compiler";
import type { ColumnInfo } from "../../lib/dialects/types";
import { runRefresh } from "../../lib/engine/runner";
import { sliceByHistogram } from "../../lib/engine/streams/split";
import type { ProgressEvent } from "../../lib/engine/progress";
import { runCli, spawnCli, waitFor } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

// A nullable, skewed stream key: `ref` leads the only unique index (NULLs allowed, many), most values bunched low.
const TABLE = `CREATE TABLE events (id bigint NOT NULL, event_day int NOT NULL, ref bigint, amount numeric(12,2) NOT NULL, note text, UNIQUE (ref, event_day, id))`;
const PARTITIONED = `${TABLE.replace("UNIQUE (ref, event_day, id))", "UNIQUE (ref, event_day, id), CHECK (amount >= 0)) PARTITION BY RANGE (event_day)")};
  CREATE TABLE events_p20250101 PARTITION OF events FOR VALUES FROM (20250101) TO (20250102);`;

function rows(day: number, n: number, tag: string) {
  return `INSERT INTO events SELECT g, ${day}, CASE WHEN g % 5 = 0 THEN NULL WHEN g % 3 = 0 THEN g ELSE g % 1000 END * 1, (g % 997) * 1.25, '${tag}-' || g
          FROM generate_series(1, ${n}) g`;
}

const SETTINGS = { max_streams_per_table: 4, min_rows_per_stream: 2000 };

describe("parallel streams into a staging table (PostgreSQL)", () => {
  let env: TestEnv;
  let admin: pg.Client;
  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    await env.source.query(TABLE);
    await env.target.query(PARTITIONED);
    await env.target.query(rows(20250101, 3000, "old"));
    await env.source.query(rows(20250101, 12000, "new"));
    await env.source.query(rows(20250102, 9000, "new"));
    await env.source.query("ANALYZE events");
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  const day = (d: number) => `(SELECT * FROM events WHERE event_day = ${d})`;
  const leftovers = async () => (await env.target.query("SELECT relname FROM pg_class WHERE relname ~ '_(stg|old)_' AND relkind = 'r'")).rows;

  it("loads each partition in 4 streams on worker threads: exactly the source's rows, NULL keys included, progress summed", async () => {
    await env.config([{ name: "events", strategy: "staging_partition_switch" }], SETTINGS);
    const dry = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun: true });
    expect(dry.tables[0].plan?.reason).toContain("largest partition: 4 streams on ref ranges");

    const events: ProgressEvent[] = [];
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", onProgress: (e) => events.push(e) });
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(report.tables[0].outcome?.rowsWritten).toBe(21000);
    expect(report.tables[0].outcome?.streams).toEqual({ count: 4, threads: true });
    // Verified on the snapshot the streams shared.
    expect(report.tables[0].outcome?.verification).toMatchObject({ ok: true, rows: 21000 });
    for (const d of [20250101, 20250102]) expect(await fingerprint(env.target, day(d))).toEqual(await fingerprint(env.source, day(d)));
    expect((await env.target.query("SELECT count(*)::int AS n FROM events WHERE ref IS NULL")).rows[0].n).toBe(4200);
    // The run's figure for a partition is every stream's rows together: it reaches the partition's total.
    const loading = events.filter((e) => e.phase === "loading" && e.partition === "20250101");
    expect(Math.max(...loading.map((e) => e.rows))).toBe(12000);
    expect(await leftovers()).toEqual([]);
  });

  it("a cancel while the streams load stops every stream and leaves the target as it was", async () => {
    await env.source.query("UPDATE events SET note = note || '-day2' WHERE event_day = 20250101");
    const before = await fingerprint(env.target, "events");
    const stop = new AbortController();
    const report = await runRefresh(env.db, env.metaUrl, {
      trigger: "cli",
      triggeredBy: "test",
      signal: stop.signal,
      onProgress: (e) => e.phase === "loading" && e.rows > 0 && stop.abort(),
    });
    expect(report.status).not.toBe("succeeded");
    expect(report.tables[0].error).toMatch(/cancelled/);
    expect(await fingerprint(env.target, "events")).toEqual(before);
    // A cancel cuts the run's connections as a kill does: what it staged is dropped by the next run (below).
    // No stream session is left loading into the target.
    const tgt = new URL(env.targetUrl).pathname.slice(1);
    await expect.poll(async () => (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'COPY%' AND state = 'active'", [tgt])).rows[0].n, { timeout: 30_000 }).toBe(0);
  });

  it("one failing stream (a row the target's CHECK refuses) stops the others: that partition is unchanged, nothing is left staged", async () => {
    await env.source.query("UPDATE events SET amount = -1 WHERE event_day = 20250102 AND id = 4500");
    const before = await fingerprint(env.target, day(20250102));
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.status).toBe("failed");
    expect(report.tables[0].error).toMatch(/check constraint/i);
    // Partitions switch one by one: the day before the failing one committed (the cancelled run's change with it).
    expect(await fingerprint(env.target, day(20250101))).toEqual(await fingerprint(env.source, day(20250101)));
    expect(await fingerprint(env.target, day(20250102))).toEqual(before);
    expect(await leftovers()).toEqual([]);
  });

  it("masks in every stream exactly as one stream does: the same rows, no source value left", async () => {
    process.env.UAT_REFRESH_MASKING_KEY ??= "parallel-streams-test-key-0123456789";
    await env.source.query("UPDATE events SET amount = 1 WHERE amount < 0");
    const table = { name: "events", strategy: "staging_partition_switch" as const, masking: [{ column: "note", rule: "hash" as const }] };
    const masked = async (streams: number) => {
      await env.config([table], { ...SETTINGS, max_streams_per_table: streams });
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
      expect(report.status, report.tables[0].error).toBe("succeeded");
      expect(report.tables[0].outcome?.streams?.count ?? 1).toBe(streams);
      return fingerprint(env.target, "events");
    };
    const inStreams = await masked(4);
    const leaked = await env.target.query("SELECT count(*)::int AS n FROM events WHERE note LIKE 'new-%'");
    expect(leaked.rows[0].n).toBe(0);
    expect(await masked(1)).toEqual(inStreams);
  });

  it("a refresh process killed while its streams load leaves the target as it was; the next run drops what was staged and completes", async () => {
    const key = (process.env.UAT_REFRESH_MASKING_KEY ??= "parallel-streams-test-key-0123456789");
    const cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD!, UAT_REFRESH_MASKING_KEY: key };
    const tgt = new URL(env.targetUrl).pathname.slice(1);
    const src = new URL(env.sourceUrl).pathname.slice(1);
    await env.source.query("UPDATE events SET note = note || '-day3' WHERE event_day = 20250101");
    // The last stream parks once its source read has started (the failpoint in the stream job), while the others
    // load: the kill lands while the streams load, deterministically.
    await env.config([{ name: "events", strategy: "staging_partition_switch", masking: [{ column: "note", rule: "hash" }] }], SETTINGS);
    const before = await fingerprint(env.target, "events");
    const child = spawnCli(["--table", "events", "--force"], { ...cliEnv, UAT_REFRESH_FAILPOINT: "stream-loading" });
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`CLI exited early: ${child.output()}`);
      return child.output().includes("failpoint stream-loading");
    });
    child.kill("SIGKILL");
    await child.exited;
    for (const db of [src, tgt]) await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh run %' AND datname = $1", [db]);
    expect(await fingerprint(env.target, "events")).toEqual(before);
    expect((await leftovers()).map((r) => r.relname)).toEqual(["events_stg_20250101"]);

    await env.config([{ name: "events", strategy: "staging_partition_switch" }], SETTINGS);
    const { code, output } = await runCli(["--table", "events", "--force"], cliEnv);
    expect(code, output).toBe(0);
    expect(await leftovers()).toEqual([]);
    for (const d of [20250101, 20250102]) expect(await fingerprint(env.target, day(d))).toEqual(await fingerprint(env.source, day(d)));
    const killed = await env.db.refreshRun.findFirstOrThrow({ where: { trigger: "cli" }, orderBy: { startedAt: "desc" }, skip: 1, include: { tables: true } });
    expect(killed.status).toBe("interrupted");
  });

  it("cuts a whole table by its statistics (pg_stats, NULLs and most common values included): the source counts every row in exactly one slice", async () => {
    await env.source.query(`CREATE TABLE keyed AS SELECT g AS n, CASE WHEN g % 4 = 0 THEN NULL WHEN g % 2 = 0 THEN 'k-7' ELSE 'k-' || g END AS label,
                              CASE WHEN g % 6 = 0 THEN NULL ELSE DATE '2025-01-01' + (g % 400) END AS day FROM generate_series(1, 20000) g`);
    await env.source.query("ANALYZE keyed");
    const table = { schema: "public", name: "keyed" };
    const column = (name: string, nativeType: string, family: ColumnInfo["family"]): ColumnInfo => ({ name, nativeType, family, nullable: true, identity: false, generated: false });
    for (const key of [column("n", "integer", "integer"), column("label", "text", "text"), column("day", "date", "date")]) {
      const h = postgresCompiler.keyHistogram(table, key);
      const buckets = (await env.source.query(h.sql, h.params as unknown[])).rows.map((b) => ({ bound: b.bound as string | null, rows: Number(b.rows) }));
      const slices = sliceByHistogram(buckets, 4);
      expect(slices.length, key.name).toBeGreaterThan(1);
      let total = 0;
      for (const slice of slices) {
        const q = postgresCompiler.countRows(table, { kind: "slice", column: key, ...slice });
        total += Number((await env.source.query(q.sql, q.params as unknown[])).rows[0].n);
      }
      expect(total, key.name).toBe(20000);
    }
  });

  it("one stream's UAT session ended by an administrator while it loads: the run names UAT's server and why, the target as it was", async () => {
    const tgt = new URL(env.targetUrl).pathname.slice(1);
    await env.source.query(rows(20250103, 400_000, "big"));
    await env.source.query("ANALYZE events");
    await env.config([{ name: "events", strategy: "staging_partition_switch" }], { ...SETTINGS, max_retries: 0 });
    const before = await fingerprint(env.target, "events");
    // Only a stream's session (a COPY into its staging table), not the run's own UAT session.
    const endOneCopy = () =>
      admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM (SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'uat-refresh run % (target)' AND state = 'active' AND query LIKE 'COPY %' LIMIT 1) one", [tgt]);
    let ended = 0;
    let ending: Promise<unknown> | undefined;
    const report = await runRefresh(env.db, env.metaUrl, {
      trigger: "cli",
      triggeredBy: "test",
      onProgress: (e) => {
        if (ended || ending || e.phase !== "loading" || e.rows === 0) return;
        ending = endOneCopy().then((r) => (ended = r.rows[0].n)).finally(() => (ending = undefined));
      },
    });
    expect(ended, "a stream's COPY was ended").toBe(1);
    expect(report.tables[0].status).toBe("failed");
    // The server's reason when it was read before the socket closed; a COPY writing at full speed often only sees the
    // closed socket (write EPIPE / ECONNRESET). Either way the side is named.
    expect(report.tables[0].error).toMatch(/^the target server ended the connection: (terminating connection due to administrator command|write EPIPE|write ECONNRESET|Connection terminated unexpectedly)$/);
    expect(report.tables[0].hint).toMatch(/retried up to settings.max_retries/);
    expect(await fingerprint(env.target, "events")).toEqual(before);
    expect(await leftovers()).toEqual([]);
  });
});

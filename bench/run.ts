// npm run bench [-- --sizes 1000000,10000000]
// Measures, on an embedded PostgreSQL 18 on this machine:
//   full_replace throughput (rows/s, MB/s) vs the raw COPY pipe baseline, as a ratio;
//   incremental refresh of 10k new rows on each table size (should not grow with the table);
//   a one-day partition switch into a table with 365 partitions;
//   one 2M-row day of a partitioned table loaded in 1, 2 and 4 parallel streams (staging_partition_switch);
//   peak RSS of the refresh process per table size;
//   "refresh all" of 4 tables, one table at a time vs max_parallel_tables = 2, in the same run;
//   full_replace of a 5M-row table of 9 columns with 3 masked text columns vs the same table unmasked, and the
//   masked refresh's peak RSS at 1M and 10M rows (should stay flat);
//   the dashboard's status read while the 5M-row table is fully replaced (p50, p95, max) and the first read after;
//   the SQL Server row path on the client (bench/sqlserver-path.ts: tedious-shaped rows -> masking -> TDS encoding).
// --masking-rows N changes the masked table's size (default 5000000), --masking-rss-sizes the RSS sizes.
// Writes bench/results/latest.json and bench/results/latest.md.
import { execFile, execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { importConfig } from "../lib/config/store";
import { configSchema } from "../lib/config/schema";
import { startEmbeddedPostgres } from "../lib/embedded/postgres";
import { registerBuiltInDialects } from "../lib/dialects/builtin";
import { dashboardStatus } from "../lib/engine/status";
import { createMetadataClient, type Metadata } from "../lib/metadata/client";
import { migrateMetadata } from "../lib/metadata/migrate";

/** The multi-table data set of the parallel measurement: 4 tables of 500k rows. */
const MULTI = ["multi_a", "multi_b", "multi_c", "multi_d"];
const MULTI_ROWS = 500_000;
const STREAM_ROWS = 2_000_000;

const { values } = parseArgs({ options: { sizes: { type: "string", default: "1000000,10000000" }, "masking-rows": { type: "string", default: "5000000" }, "masking-rss-sizes": { type: "string", default: "1000000,10000000" } } });
const MASKED_ROWS = Number(values["masking-rows"]);
/** 9 columns, 3 of them masked text columns. */
const PEOPLE = (name: string) => `CREATE TABLE ${name} (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text, phone text,
  city text, amount numeric(12,2), created_at timestamp NOT NULL, active boolean)`;
const PEOPLE_FILL = (name: string, n: number) => `INSERT INTO ${name} SELECT g, 'user' || g || '@corp.example', 'First' || (g % 3000), 'Last' || (g % 7000),
  '+44 20 7946 ' || lpad((g % 10000)::text, 4, '0'), 'City' || (g % 500), (g % 100000) / 100.0, timestamp '2024-01-01' + g * interval '1 second', g % 3 = 0
  FROM generate_series(1, ${n}) g`;
const sizes = values.sizes!.split(",").map(Number);
const root = path.resolve(import.meta.dirname, "..");

const TABLE = (name: string) => `CREATE TABLE ${name} (
  id bigint PRIMARY KEY, account_id int NOT NULL, amount numeric(14,2), fee numeric(8,4), label text,
  note text, created_at timestamp NOT NULL, settled_at timestamptz, flag boolean)`;
const FILL = (name: string, from: number, to: number) => `INSERT INTO ${name}
  SELECT g, g % 100000, (g % 1000000) / 100.0, CASE WHEN g % 4 = 0 THEN NULL ELSE (g % 997) / 10000.0 END,
         'label-' || (g % 5000), CASE WHEN g % 3 = 0 THEN NULL ELSE md5(g::text) END,
         timestamp '2024-01-01' + g * interval '1 second', CASE WHEN g % 2 = 0 THEN timestamptz '2024-01-02' + g * interval '1 second' END,
         g % 2 = 0
  FROM generate_series(${from}::bigint, ${to}::bigint) g`;

function child(mode: "engine" | "baseline" | "all" | "streams", table: string, env: Record<string, string>, ...extra: string[]) {
  const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bench/child.ts"), mode, table, ...extra], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as { rows: number; ms: number; bytes: number; maxRssMb: number; streams?: number };
}

/** The dashboard's status read, timed every 250 ms while a refresh of `table` runs in its own process. */
async function statusDuringLoad(meta: Metadata, metaUrl: string, table: string, env: Record<string, string>) {
  registerBuiltInDialects();
  const read = async () => {
    const started = performance.now();
    await dashboardStatus(meta, metaUrl);
    return performance.now() - started;
  };
  let done = false;
  const load = new Promise<void>((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", path.join(root, "bench/child.ts"), "engine", table], { cwd: root, env: { ...process.env, ...env } }, (e) => {
      done = true;
      if (e) reject(e);
      else resolve();
    }),
  );
  const during: number[] = [];
  await new Promise((r) => setTimeout(r, 1000)); // let the load start
  while (!done) {
    during.push(await read());
    await new Promise((r) => setTimeout(r, 250));
  }
  await load;
  const firstAfter = await read();
  const sorted = [...during].sort((a, b) => a - b);
  const q = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  return { reads: during.length, p50Ms: q(0.5), p95Ms: q(0.95), maxMs: Math.round(sorted.at(-1) ?? 0), firstReadAfterMs: Math.round(firstAfter) };
}

const cluster = await startEmbeddedPostgres();
try {
  for (const db of ["bench_src", "bench_tgt", "bench_meta"]) await cluster.createDatabase(db);
  await migrateMetadata(cluster.url("bench_meta"));
  const src = new pg.Client({ connectionString: cluster.url("bench_src") });
  const tgt = new pg.Client({ connectionString: cluster.url("bench_tgt") });
  await Promise.all([src.connect(), tgt.connect()]);
  const meta = createMetadataClient(cluster.url("bench_meta"));
  const u = new URL(cluster.url("postgres"));
  const env = { DATABASE_URL: cluster.url("bench_meta"), UAT_REFRESH_DB_USER: "postgres", UAT_REFRESH_DB_PASSWORD: "postgres", BENCH_SOURCE_URL: cluster.url("bench_src"), BENCH_TARGET_URL: cluster.url("bench_tgt") };
  Object.assign(process.env, env);
  const side = (database: string) => ({ engine: "postgres", server: u.hostname, port: Number(u.port), database, username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_DB_PASSWORD" });
  const tables = sizes.map((n) => `tx_${n}`);
  await importConfig(
    meta,
    configSchema.parse({
      databases: { source: side("bench_src"), target: side("bench_tgt") },
      tables: [
        ...tables.flatMap((t) => [
          { name: t, strategy: "simple_copy", sync_mode: "full_replace" },
          { name: `${t}_inc`, strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", batch_size: 50000 },
        ]),
        { name: "daily", strategy: "staging_partition_switch", date_buffer_days: 0 },
        { name: "daily_big", strategy: "staging_partition_switch" },
        ...MULTI.map((name) => ({ name, strategy: "simple_copy", sync_mode: "full_replace" })),
        { name: "people_plain", strategy: "simple_copy", sync_mode: "full_replace" },
        {
          name: "people_masked",
          strategy: "simple_copy",
          sync_mode: "full_replace",
          masking: [
            { column: "email", rule: "fake_email" },
            { column: "first_name", rule: "fake_first_name" },
            { column: "phone", rule: "partial", keep_last: 4 },
          ],
        },
      ],
      settings: { default_batch_size: 10000, connection_timeout: 30, command_timeout: 0, max_retries: 0 },
    }),
  );

  const results: Record<string, unknown>[] = [];
  for (const [i, n] of sizes.entries()) {
    const t = tables[i];
    console.log(`generating ${n.toLocaleString("en")} rows…`);
    for (const c of [src, tgt]) await c.query(TABLE(t));
    await src.query(FILL(t, 1, n));
    await src.query(`ANALYZE ${t}`);
    const { rows: size } = await src.query(`SELECT pg_total_relation_size('${t}') AS b`);
    const base = child("baseline", t, env);
    const eng = child("engine", t, env);
    // incremental: a table of the same size in the target, 10k new rows in the source
    await src.query(`CREATE TABLE ${t}_inc AS SELECT * FROM ${t}; ALTER TABLE ${t}_inc ADD PRIMARY KEY (id)`);
    await tgt.query(`CREATE TABLE ${t}_inc AS SELECT * FROM ${t}; ALTER TABLE ${t}_inc ADD PRIMARY KEY (id)`);
    await src.query(FILL(`${t}_inc`, n + 1, n + 10_000));
    await src.query(`ANALYZE ${t}_inc`);
    await tgt.query(`ANALYZE ${t}_inc`);
    const inc = child("engine", `${t}_inc`, env);
    const mb = (b: number, ms: number) => Math.round((b / 1048576 / (ms / 1000)) * 10) / 10;
    results.push({
      rows: n,
      tableMb: Math.round(Number(size[0].b) / 1048576),
      baseline: { seconds: base.ms / 1000, rowsPerSec: Math.round(base.rows / (base.ms / 1000)), mbPerSec: mb(base.bytes, base.ms), peakRssMb: base.maxRssMb },
      fullReplace: { seconds: eng.ms / 1000, rowsPerSec: Math.round(eng.rows / (eng.ms / 1000)), mbPerSec: mb(eng.bytes, eng.ms), peakRssMb: eng.maxRssMb },
      ratioToBaseline: Math.round((base.ms / eng.ms) * 100) / 100,
      incremental10k: { seconds: inc.ms / 1000, rows: inc.rows, peakRssMb: inc.maxRssMb },
    });
    console.log(JSON.stringify(results[results.length - 1]));
    for (const c of [src, tgt]) await c.query(`DROP TABLE ${t}, ${t}_inc`);
  }

  // one day into a table with 365 daily partitions (10k rows a day)
  await src.query(`CREATE TABLE daily (day int NOT NULL, k int NOT NULL, v numeric(12,2), note text, PRIMARY KEY (day, k))`);
  await tgt.query(`CREATE TABLE daily (day int NOT NULL, k int NOT NULL, v numeric(12,2), note text, PRIMARY KEY (day, k)) PARTITION BY RANGE (day)`);
  await tgt.query(`DO $$ DECLARE d date; BEGIN FOR d IN SELECT generate_series(date '2025-01-01', date '2025-12-31', interval '1 day')::date LOOP
    EXECUTE format('CREATE TABLE daily_p%s PARTITION OF daily FOR VALUES FROM (%s) TO (%s)', to_char(d,'YYYYMMDD'), to_char(d,'YYYYMMDD'), to_char(d + 1,'YYYYMMDD')); END LOOP; END $$`);
  await tgt.query(`INSERT INTO daily SELECT to_char(date '2025-01-01' + d, 'YYYYMMDD')::int, k, k / 7.0, 'old' FROM generate_series(0, 364) d, generate_series(1, 10000) k`);
  await src.query(`INSERT INTO daily SELECT 20251231, k, k / 3.0, 'new' FROM generate_series(1, 10000) k`);
  const part = child("engine", "daily", env);
  const partitions = await tgt.query("SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'daily'::regclass");
  const switched = { partitions: partitions.rows[0].n, rowsInDay: part.rows, seconds: part.ms / 1000, peakRssMb: part.maxRssMb };
  console.log(JSON.stringify({ partitionSwitch: switched }));

  // one big day in 1, 2 and 4 key-range streams (worker threads, own sessions), best of two each
  await src.query(`CREATE TABLE daily_big (day int NOT NULL, k bigint NOT NULL, v numeric(12,2), note text, PRIMARY KEY (k, day))`);
  await tgt.query(`CREATE TABLE daily_big (day int NOT NULL, k bigint NOT NULL, v numeric(12,2), note text, PRIMARY KEY (k, day)) PARTITION BY RANGE (day);
    CREATE TABLE daily_big_p20251231 PARTITION OF daily_big FOR VALUES FROM (20251231) TO (20260101)`);
  await src.query(`INSERT INTO daily_big SELECT 20251231, k, k / 3.0, repeat(md5(k::text), 2) FROM generate_series(1, ${STREAM_ROWS}) k`);
  await src.query("ANALYZE daily_big");
  const streamRun = (n: number) => [1, 2].map(() => child("streams", "daily_big", env, String(n))).sort((a, b) => a.ms - b.ms)[0];
  const byStreams = Object.fromEntries([1, 2, 4].map((n) => [n, streamRun(n)]));
  const streams = {
    rows: STREAM_ROWS,
    seconds: Object.fromEntries(Object.entries(byStreams).map(([n, r]) => [n, r.ms / 1000])),
    streamsUsed: Object.fromEntries(Object.entries(byStreams).map(([n, r]) => [n, r.streams])),
    speedup2: Math.round((byStreams[1].ms / byStreams[2].ms) * 100) / 100,
    speedup4: Math.round((byStreams[1].ms / byStreams[4].ms) * 100) / 100,
  };
  console.log(JSON.stringify({ streams }));

  // "refresh all" of MULTI: sequential vs two tables at a time, each measured twice, best of two
  for (const t of MULTI) {
    for (const c of [src, tgt]) await c.query(TABLE(t));
    await src.query(FILL(t, 1, MULTI_ROWS));
    await src.query(`ANALYZE ${t}`);
  }
  const best = (n: number) => Math.min(...[1, 2].map(() => child("all", MULTI.join(","), env, String(n)).ms));
  const sequentialMs = best(1);
  const parallelMs = best(2);
  const parallel = { tables: MULTI.length, rowsPerTable: MULTI_ROWS, sequentialSeconds: sequentialMs / 1000, parallel2Seconds: parallelMs / 1000, speedup: Math.round((sequentialMs / parallelMs) * 100) / 100 };
  console.log(JSON.stringify({ parallel }));

  // masking: the same data unmasked and with 3 of 9 columns masked, each in its own process
  console.log(`generating 2 × ${MASKED_ROWS.toLocaleString("en")} rows for the masking measurement…`);
  for (const t of ["people_plain", "people_masked"]) {
    for (const c of [src, tgt]) await c.query(PEOPLE(t));
    await src.query(PEOPLE_FILL(t, MASKED_ROWS));
    await src.query(`ANALYZE ${t}`);
  }
  const maskEnv = { ...env, UAT_REFRESH_MASKING_KEY: "benchmark-masking-key-0123456789" };
  const plain = child("engine", "people_plain", maskEnv);
  const maskedRun = child("engine", "people_masked", maskEnv);
  const masking = {
    rows: MASKED_ROWS,
    columns: 9,
    maskedColumns: 3,
    unmaskedRowsPerSec: Math.round(plain.rows / (plain.ms / 1000)),
    maskedRowsPerSec: Math.round(maskedRun.rows / (maskedRun.ms / 1000)),
    ratio: Math.round((plain.ms / maskedRun.ms) * 100) / 100,
    unmaskedPeakRssMb: plain.maxRssMb,
    maskedPeakRssMb: maskedRun.maxRssMb,
    /** rows -> peak RSS (MB) of the masked refresh */
    maskedPeakRssBySize: {} as Record<number, number>,
  };
  // The dashboard during a big full replace, and right after it (the target is analysed by the refresh).
  console.log("status reads during a full replace…");
  const statusLatency = { rows: MASKED_ROWS, ...(await statusDuringLoad(meta, cluster.url("bench_meta"), "people_plain", maskEnv)) };
  console.log(JSON.stringify({ statusLatency }));
  await src.query("DROP TABLE people_plain");
  for (const n of values["masking-rss-sizes"]!.split(",").map(Number)) {
    await src.query("TRUNCATE people_masked");
    await src.query(PEOPLE_FILL("people_masked", n));
    await src.query("ANALYZE people_masked");
    masking.maskedPeakRssBySize[n] = child("engine", "people_masked", maskEnv).maxRssMb;
  }
  console.log(JSON.stringify({ masking }));

  // The SQL Server row path, client side (no server here): its own script, its own results files.
  console.log("SQL Server row path, client side…");
  console.log(execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bench/sqlserver-path.ts"), "500000"], { cwd: root, encoding: "utf8" }).trim().split("\n").pop());

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const machine = `${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, PostgreSQL 18 (embedded), source and target on one server`;
  const at = new Date().toISOString();
  writeFileSync(path.join(root, "bench/results/latest.json"), JSON.stringify({ at, machine, sizes: results, partitionSwitch: switched, streams, parallel, masking, statusLatency }, null, 2) + "\n");
  type R = { rows: number; tableMb: number; baseline: { rowsPerSec: number; mbPerSec: number; peakRssMb: number }; fullReplace: { seconds: number; rowsPerSec: number; mbPerSec: number; peakRssMb: number }; ratioToBaseline: number; incremental10k: { seconds: number; peakRssMb: number } };
  const md = [
    `Benchmarks of ${at.slice(0, 10)} on ${machine}.`,
    "",
    "| rows | table MB | raw COPY pipe rows/s (MB/s) | full_replace rows/s (MB/s) | ratio | full_replace peak RSS | raw pipe peak RSS | incremental +10k rows |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...(results as unknown as R[]).map(
      (r) =>
        `| ${r.rows.toLocaleString("en")} | ${r.tableMb} | ${r.baseline.rowsPerSec.toLocaleString("en")} (${r.baseline.mbPerSec}) | ${r.fullReplace.rowsPerSec.toLocaleString("en")} (${r.fullReplace.mbPerSec}) | ${r.ratioToBaseline} | ${r.fullReplace.peakRssMb} MB | ${r.baseline.peakRssMb} MB | ${r.incremental10k.seconds} s (peak ${r.incremental10k.peakRssMb} MB) |`,
    ),
    "",
    `Partition switch: one day (${switched.rowsInDay.toLocaleString("en")} rows) into a table with ${switched.partitions} daily partitions: ${switched.seconds} s, peak RSS ${switched.peakRssMb} MB.`,
    "",
    `Parallel streams: one day of ${streams.rows.toLocaleString("en")} rows switched in with 1, 2 and 4 streams (streams used: ${Object.values(streams.streamsUsed).join(", ")}): ${Object.values(streams.seconds).join(" s, ")} s (${streams.speedup2}× and ${streams.speedup4}× one stream; source, target and client share this machine's cores).`,
    "",
    `Refresh all of ${parallel.tables} tables × ${parallel.rowsPerTable.toLocaleString("en")} rows: one table at a time ${parallel.sequentialSeconds} s, max_parallel_tables 2 ${parallel.parallel2Seconds} s (${parallel.speedup}× faster).`,
    "",
    `Dashboard status read during a full replace of ${statusLatency.rows.toLocaleString("en")} rows (${statusLatency.reads} reads, every 250 ms): p50 ${statusLatency.p50Ms} ms, p95 ${statusLatency.p95Ms} ms, max ${statusLatency.maxMs} ms; first read after the load ${statusLatency.firstReadAfterMs} ms.`,
    "",
    `Masking: full_replace of ${masking.rows.toLocaleString("en")} rows × ${masking.columns} columns, ${masking.maskedColumns} masked text columns: ${masking.maskedRowsPerSec.toLocaleString("en")} rows/s vs ${masking.unmaskedRowsPerSec.toLocaleString("en")} unmasked (${masking.ratio} of unmasked), peak RSS ${masking.maskedPeakRssMb} MB vs ${masking.unmaskedPeakRssMb} MB; masked peak RSS by table size: ${Object.entries(masking.maskedPeakRssBySize).map(([n, mb]) => `${Number(n).toLocaleString("en")} rows ${mb} MB`).join(", ")}.`,
    "",
  ].join("\n");
  writeFileSync(path.join(root, "bench/results/latest.md"), md);
  console.log("\n" + md);
  await Promise.all([src.end(), tgt.end(), meta.$disconnect()]);
} finally {
  await cluster.stop();
}

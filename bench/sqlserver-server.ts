// npm run bench:sqlserver-server [-- --rows 500000 --repeat 2]   (needs MSSQL_TEST_URL: a TDS server, e.g. Babelfish)
// The SQL Server data path end to end against a real TDS server, TLS on unless the URL says encrypt=false:
//   bare      a bare tedious pipe: one streaming SELECT (backpressure by pausing the connection) into one BulkLoad,
//             truncate + load in one transaction: the floor any client pays (decoding, encoding, TLS, the server);
//   engine    the product's full replace of the same table (runRefresh, the CLI's path: metadata recorded, plan,
//             catalog reads, the load, identities, statistics where the server has them; verification off, as the
//             bare pipe verifies nothing): "cold" as a CLI's first run, "warm" as a worker's next one;
//   streams N the product's parallel load (the twin's and the partition switch's load phase: N key slices into a
//             staging table, the first on the calling thread, the others on its worker-thread pool). The product's full replace uses it only through
//             a twin, which needs SWITCH; where the server has none (Babelfish) this measures that phase on its own;
//   bare N    the same N key slices as N bare pipes at once, each in a process of its own (no engine, no threads to
//             start): what this machine gives N streams at all, the baseline the product's N streams are read against.
//   startup   once: a next run with its statement log (bench/statement-timeline: production's statements, UAT's, and
//             the time between them before production's SELECT; BENCH_TRACE_FILE=<file> keeps the log), and what
//             the server charges a new session for its first catalog question (a run pays it on both sessions).
// Each measurement runs in its own process (CPU per row = the process's user + system time, threads included, over
// the rows), alternated and repeated, best of each. "First rows": from the process's start of work to the first
// 10,000 rows handed to a bulk load (the engine reports every 10,000). Writes bench/results/sqlserver-server.*.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { Connection, Request, TYPES } from "tedious";
import { beforeFirstRows, statementLines } from "./statement-timeline";

type ColumnValue = { value: unknown };

const URL_ENV = process.env.MSSQL_TEST_URL;
const root = path.resolve(import.meta.dirname, "..");
const DB = { source: "uatr_bench_src", target: "uatr_bench_tgt" };
const COLUMNS = "id int NOT NULL PRIMARY KEY, name nvarchar(50) NULL, at datetime2(7) NOT NULL, score float NULL, n int NULL, flag bit NULL";
const NAMES = ["id", "name", "at", "score", "n", "flag"];

interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
  encrypt: boolean;
  trust: boolean;
}

function server(): Server {
  const u = new URL(URL_ENV!);
  return {
    host: u.hostname,
    port: Number(u.port || 1433),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    encrypt: u.searchParams.get("encrypt") !== "false",
    trust: u.searchParams.get("trustServerCertificate") !== "false",
  };
}

function connect(s: Server, database: string): Promise<Connection> {
  const c = new Connection({
    server: s.host,
    authentication: { type: "default", options: { userName: s.user, password: s.password } },
    options: { port: s.port, database, encrypt: s.encrypt, trustServerCertificate: s.trust, requestTimeout: 0, rowCollectionOnRequestCompletion: false },
  });
  return new Promise((resolve, reject) => {
    c.connect((err) => (err ? reject(err) : resolve(c)));
  });
}

function exec(c: Connection, sql: string): Promise<void> {
  return new Promise((resolve, reject) => c.execSqlBatch(new Request(sql, (err) => (err ? reject(err) : resolve()))));
}

function scalar(c: Connection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let value: unknown;
    const r = new Request(sql, (err) => (err ? reject(err) : resolve(value)));
    r.on("row", (cols: ColumnValue[]) => (value = cols[0].value));
    c.execSqlBatch(r);
  });
}

const numbers = (from: number, to: number) =>
  `(SELECT TOP (${to - from + 1}) ${from - 1} + ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_columns AS a CROSS JOIN sys.all_columns AS b) AS s`;

/** The source table of `rows` rows (the client bench's shape), the target's empty twin, a staging table. */
async function setUp(s: Server, rows: number) {
  const master = await connect(s, "master");
  for (const db of [DB.source, DB.target]) {
    await exec(master, `IF DB_ID('${db}') IS NOT NULL DROP DATABASE [${db}]`);
    await exec(master, `CREATE DATABASE [${db}]`);
  }
  master.close();
  const src = await connect(s, DB.source);
  await exec(src, `CREATE TABLE bench (${COLUMNS})`);
  for (let from = 1; from <= rows; from += 100_000) {
    const to = Math.min(rows, from + 99_999);
    await exec(
      src,
      `INSERT INTO bench SELECT g, CONCAT(N'customer name ', g % 5000), DATEADD(second, g, CAST('2025-01-01' AS datetime2(7))), g / 7.0, g % 1000, g % 2 FROM ${numbers(from, to)}`,
    );
  }
  src.close();
  const tgt = await connect(s, DB.target);
  await exec(tgt, `CREATE TABLE bench (${COLUMNS})`);
  tgt.close();
}

// ---------------------------------------------------------------------------------------------------- child modes

/** In a traced run's stderr, followed by the time the measured run starts (Date.now()): the statements after it are
 *  the measured run's. */
const TRACE_MARK = "-- bench: the measured run starts";

/** The process's CPU when the first 10,000 rows were handed on: what came before is the run's fixed cost (catalog,
 *  metadata, connections, code warming up), what came after its cost per row. */
let cpuAtFirstRows: NodeJS.CpuUsage | undefined;
const FIRST_ROWS = 10_000;

/** Marks the first rows handed on: the process's CPU then, and the time since `started` (ms). */
function firstRowsAt(started: number): number {
  cpuAtFirstRows = process.cpuUsage();
  return performance.now() - started;
}

/** A streaming SELECT on `src` into one BulkLoad of `into` on `tgt` (backpressure by pausing the request); calls
 *  `onFirstRows` at the 10,000th row read. Resolves to the rows read. */
async function pipe(src: Connection, tgt: Connection, select: string, into: string, onFirstRows: () => void): Promise<number> {
  let read = 0;
  const stream = new Readable({ objectMode: true, highWaterMark: 1000, read: () => request.resume() });
  const request: Request = new Request(select, (err) => (err ? stream.destroy(err) : stream.push(null)));
  request.on("row", (cols: ColumnValue[]) => {
    if (++read === FIRST_ROWS) onFirstRows();
    if (!stream.push(cols.map((c) => c.value))) request.pause();
  });
  src.execSql(request);
  await new Promise<void>((resolve, reject) => {
    const bulk = tgt.newBulkLoad(into, { keepNulls: true, lockTable: true }, (err) => (err ? reject(err) : resolve()));
    bulk.addColumn("id", TYPES.Int, { nullable: false });
    bulk.addColumn("name", TYPES.NVarChar, { nullable: true, length: 50 });
    bulk.addColumn("at", TYPES.DateTime2, { nullable: false, scale: 7 });
    bulk.addColumn("score", TYPES.Float, { nullable: true });
    bulk.addColumn("n", TYPES.Int, { nullable: true });
    bulk.addColumn("flag", TYPES.Bit, { nullable: true });
    tgt.execBulkLoad(bulk, stream);
  });
  return read;
}

/** The bare pipe: a streaming SELECT into one BulkLoad, in one transaction with the TRUNCATE. */
async function bare(s: Server, rows: number, started: number) {
  const [src, tgt] = await Promise.all([connect(s, DB.source), connect(s, DB.target)]);
  let firstRows = 0;
  await exec(tgt, "BEGIN TRANSACTION; TRUNCATE TABLE bench");
  const read = await pipe(src, tgt, `SELECT ${NAMES.join(", ")} FROM bench`, "bench", () => (firstRows = firstRowsAt(started)));
  await exec(tgt, "COMMIT");
  src.close();
  tgt.close();
  if (read !== rows) throw new Error(`bare pipe read ${read} rows of ${rows}`);
  return { rows: read, firstRowsMs: Math.round(firstRows) };
}

/** One slice of "bare N": waits for the common start, then a bare pipe of its key slice into the staging table (as
 *  the product's streams load, without a transaction of its own). Times and CPU from the common start. */
async function bareSlice(s: Server, rows: number, slice: number, of: number, startAt: number) {
  await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
  const cpu = process.cpuUsage();
  const started = performance.now() - (Date.now() - startAt);
  const per = Math.ceil(rows / of);
  const [src, tgt] = await Promise.all([connect(s, DB.source), connect(s, DB.target)]);
  let firstRows = 0;
  const select = `SELECT ${NAMES.join(", ")} FROM bench WHERE id > ${slice * per} AND id <= ${(slice + 1) * per}`;
  const read = await pipe(src, tgt, select, "bench_stg", () => (firstRows = performance.now() - started));
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  src.close();
  tgt.close();
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify({ rows: read, firstRowsMs: firstRows ? Math.round(firstRows) : undefined, ms: Math.round(ms), cpuMs: Math.round((used.user + used.system) / 1000), maxRssMb }));
  process.exit(0);
}

function prepareEnvironment(s: Server) {
  process.env.UAT_REFRESH_DB_MSSQL_USER = s.user;
  process.env.UAT_REFRESH_DB_MSSQL_PASSWORD = s.password;
}

/** The process's metadata client: one for every run, as a worker keeps one (a CLI's run is its process's first). */
let metadataClient: import("../lib/metadata/client").Metadata | undefined;

/** The product's full replace through runRefresh (the metadata DB given by the parent in DATABASE_URL). */
async function engine(started: number) {
  const { runRefresh } = await import("../lib/engine/runner");
  const { createMetadataClient } = await import("../lib/metadata/client");
  const { registerBuiltInDialects } = await import("../lib/dialects/builtin");
  registerBuiltInDialects();
  const db = (metadataClient ??= createMetadataClient(process.env.DATABASE_URL!));
  let firstRows = 0;
  const report = await runRefresh(db, process.env.DATABASE_URL!, {
    trigger: "cli",
    triggeredBy: "bench",
    tables: ["bench"],
    onProgress: (e) => {
      if (!firstRows && e.phase === "loading" && e.rows >= FIRST_ROWS) firstRows = firstRowsAt(started);
    },
  });
  const t = report.tables[0];
  if (t.status !== "succeeded") throw new Error(`bench: ${t.error}`);
  return { rows: t.outcome!.rowsWritten, firstRowsMs: Math.round(firstRows), path: t.plan?.reason ?? "" };
}

/** The product's parallel load (runStreamJobs, as the twin and the partition switch call it): `n` key slices into a
 *  fresh staging table, the first on this thread, the others on its worker-thread pool. */
async function streams(s: Server, rows: number, n: number) {
  const { runStreamJobs } = await import("../lib/engine/streams/load");
  const { warmThreads } = await import("../lib/engine/streams/threads");
  // As the product's plan does before its catalog reads (lib/engine/streams/plan.ts): the other streams' threads
  // start while the set-up below reads the catalog.
  const setUpStarted = performance.now();
  warmThreads(n - 1, "sqlserver");
  const { registerBuiltInDialects } = await import("../lib/dialects/builtin");
  const { connectTo } = await import("../lib/engine/connections");
  type Job = import("../lib/engine/streams/job").StreamJob;
  registerBuiltInDialects();
  const endpoint = (database: string, readOnly: boolean) => ({
    engine: "sqlserver" as const,
    target: { engine: "sqlserver" as const, host: s.host, port: s.port, database, user: s.user, password: s.password, options: { encrypt: s.encrypt, trustServerCertificate: s.trust } },
    options: { readOnly, connectionTimeoutSec: 30, commandTimeoutSec: 0 },
    where: database,
  });
  const target = await connectTo(endpoint(DB.target, false));
  await target.execute({ sql: `IF OBJECT_ID('bench_stg') IS NOT NULL DROP TABLE bench_stg; CREATE TABLE bench_stg (${COLUMNS.replace(" PRIMARY KEY", "")})`, params: [] });
  const columns = (await target.introspector.columns({ schema: "dbo", name: "bench" })).map((c) => ({ source: c, target: c }));
  const per = Math.ceil(rows / n);
  const jobs: Job[] = Array.from({ length: n }, (_, i) => ({
    source: endpoint(DB.source, true),
    target: endpoint(DB.target, false),
    query: { sql: `SELECT ${NAMES.map((c) => `[${c}]`).join(", ")} FROM [dbo].[bench] WHERE [id] > ${i * per} AND [id] <= ${(i + 1) * per}`, params: [] },
    staging: { schema: "dbo", name: "bench_stg" },
    columns,
    batchSize: 10_000,
  }));
  // Timed from the load's start: the set-up above is the bench's (the product's plan does its own, measured above).
  const loadStarted = performance.now();
  const setUpMs = Math.round(loadStarted - setUpStarted);
  let firstRows = 0;
  const results = await runStreamJobs(jobs, (_i, r) => {
    if (!firstRows && r >= FIRST_ROWS) firstRows = firstRowsAt(loadStarted);
  }, new AbortController());
  const total = results.reduce((n, r) => n + r.rows, 0);
  const loadMs = performance.now() - loadStarted;
  const loaded = Number(await target.query<{ n: number }>({ sql: "SELECT COUNT(*) AS n FROM bench_stg", params: [] }).then((r) => r[0].n));
  await target.close();
  if (total !== rows || loaded !== rows) throw new Error(`streams: ${total} rows reported, ${loaded} loaded, ${rows} expected`);
  return { rows: total, firstRowsMs: Math.round(firstRows), loadPhaseMs: loadMs, setUpMs };
}

/** What this server charges a new session for reading its catalog: the product's first catalog question (the
 *  table by name) on a fresh session after a first `SELECT 1`, the same question again, and a read of the table's own
 *  result metadata (`SELECT TOP (0)`), best of three sessions. Every run pays the first on both of its sessions. */
async function catalogCost(s: Server) {
  const { SQL } = await import("../lib/dialects/sqlserver/introspector");
  const timed = (c: Connection, sql: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const r = new Request(sql, (err) => (err ? reject(err) : resolve(performance.now() - started)));
      r.addParameter("p1", TYPES.NVarChar, "bench");
      r.addParameter("p2", TYPES.NVarChar, "dbo");
      c.execSql(r);
    });
  const sessions: Record<"firstStatement" | "firstRead" | "again" | "ownMetadata", number>[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await connect(s, DB.source);
    const firstStatement = await timed(c, "SELECT 1 AS [one]");
    const firstRead = await timed(c, SQL.findTable);
    const again = await timed(c, SQL.findTable);
    const ownMetadata = await timed(c, "SELECT TOP (0) * FROM [dbo].[bench]");
    c.close();
    sessions.push({ firstStatement, firstRead, again, ownMetadata });
  }
  const best = (k: keyof (typeof sessions)[number]) => Math.round(Math.min(...sessions.map((x) => x[k])));
  console.log(JSON.stringify({ firstStatementMs: best("firstStatement"), firstCatalogReadMs: best("firstRead"), sameReadAgainMs: best("again"), ownMetadataMs: best("ownMetadata") }));
  process.exit(0);
}

async function child(mode: string, arg: string | undefined) {
  const s = server();
  prepareEnvironment(s);
  const rows = Number(process.env.BENCH_ROWS);
  if (mode === "bareslice") return bareSlice(s, rows, Number(arg), Number(process.env.BENCH_SLICES), Number(process.env.BENCH_START_AT));
  if (mode === "catalog") return catalogCost(s);
  // The engine's modules are loaded before the clock starts, as in a worker or the web app that serves many runs
  // (the CLI pays it once per process: `loadMs`); the stream threads' start-up is measured (a run pays it).
  const loading = performance.now();
  // The SQL Server driver too: the dialect loads it with its first session, which would put its loading inside the
  // measurement.
  if (mode !== "bare") await Promise.all([import("../lib/engine/runner"), import("../lib/metadata/client"), import("../lib/engine/streams/load"), import("../lib/dialects/builtin"), import("../lib/dialects/sqlserver/driver")]);
  const loadMs = Math.round(performance.now() - loading);
  // "warm": a worker's or the web app's next run (one refresh before, unmeasured); "cold": a CLI run's first;
  // "ahead": a next run into a UAT a release ahead (a NOT NULL column of its own with a default, added by the parent).
  // "traced": a next run with its statement log (LOG_LEVEL=debug, set by the parent) after this line on stderr.
  if (mode === "engine" && (arg === "warm" || arg === "ahead" || arg === "traced")) await engine(performance.now());
  if (arg === "traced") process.stderr.write(`${TRACE_MARK} ${Date.now()}\n`);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = mode === "bare" ? await bare(s, rows, started) : mode === "engine" ? await engine(started) : await streams(s, rows, Number(arg));
  const ms = "loadPhaseMs" in result ? (result.loadPhaseMs as number) : performance.now() - started;
  const used = process.cpuUsage(cpu);
  const ended = process.cpuUsage();
  const micros = (u: NodeJS.CpuUsage) => u.user + u.system;
  console.log(
    JSON.stringify({
      ...result,
      loadPhaseMs: undefined,
      loadMs,
      ms: Math.round(ms),
      rowsPerSec: Math.round(result.rows / (ms / 1000)),
      cpuUsPerRow: Math.round(((used.user + used.system) / result.rows) * 100) / 100,
      // The same CPU split at the first 10,000 rows: before (ms), and per row of the rest.
      cpuBeforeFirstRowsMs: cpuAtFirstRows ? Math.round((micros(cpuAtFirstRows) - micros(cpu)) / 1000) : undefined,
      cpuUsPerRowAfterFirstRows: cpuAtFirstRows ? Math.round(((micros(ended) - micros(cpuAtFirstRows)) / (result.rows - FIRST_ROWS)) * 100) / 100 : undefined,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
  // Pooled threads and the metadata client's timers must not hold the measurement open.
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------- main

type CatalogCost = { firstStatementMs: number; firstCatalogReadMs: number; sameReadAgainMs: number; ownMetadataMs: number };
type Result = { rows: number; ms: number; rowsPerSec: number; cpuUsPerRow: number; firstRowsMs: number; maxRssMb: number; path?: string; cpuBeforeFirstRowsMs?: number; cpuUsPerRowAfterFirstRows?: number };

async function main() {
  const { values } = parseArgs({ options: { rows: { type: "string", default: "500000" }, repeat: { type: "string", default: "2" } } });
  const rows = Number(values.rows);
  if (!URL_ENV) {
    console.error("bench:sqlserver-server needs MSSQL_TEST_URL (mssql://user:password@host:port/?encrypt=true): a TDS server to measure against.");
    process.exit(2);
  }
  const s = server();
  const { startEmbeddedPostgres } = await import("../lib/embedded/postgres");
  const { migrateMetadata } = await import("../lib/metadata/migrate");
  const { createMetadataClient } = await import("../lib/metadata/client");
  const { importConfig } = await import("../lib/config/store");
  const { configSchema } = await import("../lib/config/schema");
  const cluster = await startEmbeddedPostgres();
  try {
    await cluster.createDatabase("bench_meta");
    await migrateMetadata(cluster.url("bench_meta"));
    prepareEnvironment(s);
    const side = (database: string) => ({
      engine: "sqlserver",
      server: s.host,
      port: s.port,
      database,
      username_env: "UAT_REFRESH_DB_MSSQL_USER",
      password_env: "UAT_REFRESH_DB_MSSQL_PASSWORD",
      options: { encrypt: s.encrypt, trustServerCertificate: s.trust },
    });
    const meta = createMetadataClient(cluster.url("bench_meta"));
    await importConfig(
      meta,
      configSchema.parse({
        databases: { source: side(DB.source), target: side(DB.target) },
        tables: [{ name: "bench", sync_mode: "full_replace", verify: false }],
        settings: { command_timeout: 0, max_retries: 0 },
      }),
    );
    await meta.$disconnect();
    console.log(`generating ${rows.toLocaleString("en")} rows on ${s.host}:${s.port} (TLS ${s.encrypt ? "on" : "off"})…`);
    await setUp(s, rows);
    // Each measurement runs from a bundle of this script and the engine, as the CLI runs (its stream threads load
    // the bundle's entry beside it), not from the sources through tsx.
    const { buildBundle } = await import("../scripts/engine-bundle.mjs");
    const bundleDir = path.join(root, "node_modules/.cache/uat-refresh-bench");
    rmSync(bundleDir, { recursive: true, force: true });
    await buildBundle(bundleDir, root, { "sqlserver-server": "bench/sqlserver-server.ts" });
    // BENCH_FROM_SOURCE=1: from the sources through tsx instead (the path before the bundle, to compare).
    const childEntry = process.env.BENCH_FROM_SOURCE ? ["--import", "tsx", path.join(root, "bench/sqlserver-server.ts")] : [path.join(bundleDir, "sqlserver-server.mjs")];
    const run = (mode: string, arg?: string): Result => {
      // BENCH_LOG_LEVEL=debug: each measurement's statement log on stderr (where a path's time goes, statement by
      // statement; the logging costs time itself, so read it beside a measurement without it).
      // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each measurement (open in Chrome's DevTools or speedscope).
      const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF, "--cpu-prof-name", `${mode}${arg ?? ""}-${Date.now()}.cpuprofile`] : [];
      const out = execFileSync(process.execPath, [...profile, ...childEntry, "--child", mode, ...(arg ? [arg] : [])], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: cluster.url("bench_meta"), BENCH_ROWS: String(rows), LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn" },
        encoding: "utf8",
      });
      const r = JSON.parse(out.trim().split("\n").pop()!) as Result;
      console.log(JSON.stringify({ mode, arg, ...r }));
      return r;
    };
    // "bare N": N processes, each started and loaded before a common start 3 s ahead, each a bare pipe of its slice.
    const slices = async (n: number): Promise<Result> => {
      const tgt = await connect(s, DB.target);
      await exec(tgt, `IF OBJECT_ID('bench_stg') IS NOT NULL DROP TABLE bench_stg; CREATE TABLE bench_stg (${COLUMNS.replace(" PRIMARY KEY", "")})`);
      const startAt = Date.now() + 3000;
      const env = { ...process.env, BENCH_ROWS: String(rows), BENCH_SLICES: String(n), BENCH_START_AT: String(startAt) };
      const outs = await Promise.all(
        Array.from({ length: n }, (_, i) => promisify(execFile)(process.execPath, [...childEntry, "--child", "bareslice", String(i)], { cwd: root, env, encoding: "utf8" })),
      );
      const parts = outs.map((o) => JSON.parse(o.stdout.trim().split("\n").pop()!) as { rows: number; firstRowsMs: number; ms: number; cpuMs: number; maxRssMb: number });
      const loaded = Number(await scalar(tgt, "SELECT COUNT(*) FROM bench_stg"));
      tgt.close();
      const total = parts.reduce((a, p) => a + p.rows, 0);
      if (total !== rows || loaded !== rows) throw new Error(`bare ${n}: ${total} rows read, ${loaded} loaded, ${rows} expected`);
      const ms = Math.max(...parts.map((p) => p.ms));
      const r = {
        rows,
        ms,
        rowsPerSec: Math.round(rows / (ms / 1000)),
        cpuUsPerRow: Math.round(((parts.reduce((a, p) => a + p.cpuMs, 0) * 1000) / rows) * 100) / 100,
        firstRowsMs: Math.min(...parts.map((p) => p.firstRowsMs)),
        // The processes' memory together (the product's streams share one process).
        maxRssMb: parts.reduce((a, p) => a + p.maxRssMb, 0),
      };
      console.log(JSON.stringify({ mode: "barestreams", arg: n, ...r }));
      return r;
    };
    // Where the time before the first rows goes: a next run with its statement log, and what this server charges a
    // new session for its catalog (once each: they explain the figures, they are not measured against a baseline).
    const startup = () => {
      const traced = spawnSync(process.execPath, [...childEntry, "--child", "engine", "traced"], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: cluster.url("bench_meta"), BENCH_ROWS: String(rows), LOG_LEVEL: "debug" },
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      if (traced.status !== 0) throw new Error(`traced run failed: ${traced.stderr.slice(-2000)}`);
      const measured = traced.stderr.slice(traced.stderr.indexOf(TRACE_MARK));
      const runStartedAt = Number(measured.slice(TRACE_MARK.length, measured.indexOf("\n")));
      const { firstRowsMs } = JSON.parse(traced.stdout.trim().split("\n").pop()!) as Result;
      if (process.env.BENCH_TRACE_FILE) writeFileSync(process.env.BENCH_TRACE_FILE, measured);
      const timeline = { ...beforeFirstRows(statementLines(measured), rows, "[dbo].[bench]", runStartedAt), firstRowsMs };
      const catalog = JSON.parse(execFileSync(process.execPath, [...childEntry, "--child", "catalog"], { cwd: root, env: process.env, encoding: "utf8" }).trim().split("\n").pop()!) as CatalogCost;
      console.log(JSON.stringify({ mode: "startup", timeline, catalog }));
      return { timeline, catalog };
    };
    // "ahead": UAT has a column of its own, NOT NULL with a default, which SQL Server's bulk load (KEEP_NULLS) would
    // not fill: the rows go through a staging table and one INSERT (lib/engine/copy.ts).
    const measure = async (mode: string, arg?: string): Promise<Result> => {
      if (mode === "barestreams") return slices(Number(arg));
      if (arg !== "ahead") return run(mode, arg);
      const tgt = await connect(s, DB.target);
      await exec(tgt, "ALTER TABLE bench ADD uat_status nvarchar(10) NOT NULL CONSTRAINT df_bench_uat_status DEFAULT N'new'");
      try {
        return run(mode, arg);
      } finally {
        // SQL Server drops a column only without its default constraint, found by the column (Babelfish names it
        // DF_bench_<n> whatever the DDL said, and drops the default with the column, so a failure there is its own).
        const dropDefault = `DECLARE @df sysname = (SELECT name FROM sys.default_constraints WHERE parent_object_id = OBJECT_ID('bench')
          AND parent_column_id = COLUMNPROPERTY(OBJECT_ID('bench'), 'uat_status', 'ColumnId'));
          DECLARE @sql nvarchar(400) = N'ALTER TABLE bench DROP CONSTRAINT ' + QUOTENAME(@df); IF @df IS NOT NULL EXEC (@sql)`;
        await exec(tgt, dropDefault).catch(() => {});
        await exec(tgt, "ALTER TABLE bench DROP COLUMN uat_status");
        tgt.close();
      }
    };
    const modes: [string, string?][] = [["bare"], ["engine", "cold"], ["engine", "warm"], ["engine", "ahead"], ["streams", "1"], ["barestreams", "1"], ["streams", "2"], ["barestreams", "2"], ["streams", "4"], ["barestreams", "4"]];
    // BENCH_ONLY=bare,enginecold: only those measurements (a look at one path; the summary needs all of them).
    const only = process.env.BENCH_ONLY?.split(",");
    if (only) {
      for (const [mode, arg] of modes.filter(([m, a]) => only.includes(`${m}${a ?? ""}`))) await measure(mode, arg);
      if (only.includes("startup")) startup();
      return;
    }
    const runs = new Map<string, Result[]>();
    for (let i = 0; i < Number(values.repeat); i++)
      for (const [mode, arg] of modes) {
        const key = arg ? `${mode}${arg}` : mode;
        runs.set(key, [...(runs.get(key) ?? []), await measure(mode, arg)]);
      }
    const { timeline, catalog } = startup();
    const best = (key: string) => runs.get(key)!.reduce((a, b) => (a.ms <= b.ms ? a : b));
    const [b, e, cold, ahead] = [best("bare"), best("enginewarm"), best("enginecold"), best("engineahead")];
    const banner = await connect(s, "master").then(async (c) => {
      const v = String(await scalar(c, "SELECT @@VERSION"));
      c.close();
      return v.split("\n")[0];
    });
    const result = {
      at: new Date().toISOString(),
      machine: `${os.cpus().length} cores, Node ${process.version}`,
      server: banner,
      tls: s.encrypt,
      rows,
      barePipe: b,
      engine: e,
      engineCold: cold,
      engineAhead: ahead,
      streams: [1, 2, 4].map((n) => ({ streams: n, ...best(`streams${n}`) })),
      /** The same slices as N bare pipes at once (a process each): what this machine gives N streams at all. */
      bareStreams: [1, 2, 4].map((n) => ({ streams: n, ...best(`barestreams${n}`) })),
      /** The engine's CPU per row and time over the bare pipe's (the issue asks at most 1.25x CPU with one stream). */
      cpuRatio: Math.round((e.cpuUsPerRow / b.cpuUsPerRow) * 100) / 100,
      timeRatio: Math.round((e.ms / b.ms) * 100) / 100,
      coldCpuRatio: Math.round((cold.cpuUsPerRow / b.cpuUsPerRow) * 100) / 100,
      /** The same per row once the first 10,000 rows are through (the run's fixed cost before them left out). */
      cpuRatioAfterFirstRows: Math.round((e.cpuUsPerRowAfterFirstRows! / b.cpuUsPerRowAfterFirstRows!) * 100) / 100,
      coldCpuRatioAfterFirstRows: Math.round((cold.cpuUsPerRowAfterFirstRows! / b.cpuUsPerRowAfterFirstRows!) * 100) / 100,
      /** A UAT a release ahead (through a staging table and one INSERT) over the same run's next run without it. */
      aheadTimeRatio: Math.round((ahead.ms / e.ms) * 100) / 100,
      aheadCpuRatio: Math.round((ahead.cpuUsPerRow / e.cpuUsPerRow) * 100) / 100,
      /** A next run's statements before production's SELECT (from its statement log; the logging costs a little). */
      beforeFirstRows: timeline,
      /** A new session's first catalog question on this server, the same again, and the table's own metadata. */
      catalogCost: catalog,
    };
    console.log(JSON.stringify(result));
    const md =
      `SQL Server data path end to end (${result.machine}; ${banner}; TLS ${s.encrypt ? "on" : "off"}; ${rows.toLocaleString("en")} rows of int, nvarchar(50), datetime2(7), float, int, bit; best of ${values.repeat}): ` +
      `bare tedious pipe ${b.rowsPerSec.toLocaleString("en")} rows/s, ${b.cpuUsPerRow} µs CPU/row, first 10,000 rows at ${b.firstRowsMs} ms; ` +
      `the product's full replace (a worker's next run) ${e.rowsPerSec.toLocaleString("en")} rows/s, ${e.cpuUsPerRow} µs CPU/row (${result.cpuRatio}× the bare pipe's CPU, ${result.timeRatio}× its time), first 10,000 rows at ${e.firstRowsMs} ms; ` +
      `as a CLI's first run ${cold.rowsPerSec.toLocaleString("en")} rows/s, ${cold.cpuUsPerRow} µs CPU/row (${result.coldCpuRatio}×), first rows at ${cold.firstRowsMs} ms (path: ${e.path}); ` +
      `CPU before the first 10,000 rows / per row after them: bare ${b.cpuBeforeFirstRowsMs} ms / ${b.cpuUsPerRowAfterFirstRows} µs, worker's next run ${e.cpuBeforeFirstRowsMs} ms / ${e.cpuUsPerRowAfterFirstRows} µs (${result.cpuRatioAfterFirstRows}×), CLI's first run ${cold.cpuBeforeFirstRowsMs} ms / ${cold.cpuUsPerRowAfterFirstRows} µs (${result.coldCpuRatioAfterFirstRows}×); ` +
      `into a UAT a release ahead (a NOT NULL column of its own with a default: a staging table and one INSERT) ${ahead.rowsPerSec.toLocaleString("en")} rows/s, ${ahead.cpuUsPerRow} µs CPU/row (${result.aheadTimeRatio}× the next run's time, ${result.aheadCpuRatio}× its CPU); ` +
      `the parallel load's streams against as many bare pipes at once (a process each): ${result.streams
        .map((x, i) => {
          const bare = result.bareStreams[i];
          return `${x.streams}: ${x.rowsPerSec.toLocaleString("en")} rows/s, ${x.cpuUsPerRow} µs CPU/row, first rows at ${x.firstRowsMs} ms (bare: ${bare.rowsPerSec.toLocaleString("en")} rows/s, ${bare.cpuUsPerRow} µs, ${bare.firstRowsMs} ms)`;
        })
        .join("; ")}. ` +
      `Before the first rows (a next run, statement log on): the run's first statement ${timeline.toFirstStatementMs} ms after it began (metadata, configuration, two sign-ins), production's SELECT ${timeline.selectStartsMs} ms after that, its first 10,000 rows at ${timeline.firstRowsMs} ms; ` +
      `production's session spent ${timeline.source.ms} ms in ${timeline.source.statements} statements (${timeline.source.catalogMs} ms of them catalog questions) and ${timeline.sourceBetweenMs} ms between them, ` +
      `UAT's ${timeline.target.ms} ms in ${timeline.target.statements} (${timeline.target.catalogMs} ms catalog); ` +
      `this server answers a new session's first catalog question in ${catalog.firstCatalogReadMs} ms (after a first statement of ${catalog.firstStatementMs} ms; the same question again: ${catalog.sameReadAgainMs} ms; the table's own metadata, SELECT TOP (0): ${catalog.ownMetadataMs} ms), which a run pays on each of its two sessions.`;
    console.log(`\n${md}`);
    if (process.env.BENCH_WRITE_RESULTS !== "0") {
      writeFileSync(path.join(root, "bench/results/sqlserver-server.json"), JSON.stringify(result, null, 2) + "\n");
      writeFileSync(path.join(root, "bench/results/sqlserver-server.md"), md + "\n");
    }
    const master = await connect(s, "master");
    for (const db of [DB.source, DB.target]) await exec(master, `DROP DATABASE [${db}]`).catch(() => {});
    master.close();
  } finally {
    await cluster.stop();
  }
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) await child(process.argv[childAt + 1], process.argv[childAt + 2]);
else await main();

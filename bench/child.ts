// One measured refresh in its own process, so peak RSS is the refresh's alone.
//   child.ts engine <table>    the product: runRefresh (CLI path, metadata recorded)
//   child.ts baseline <table>  the raw pipe: COPY TO STDOUT -> COPY FROM STDIN, no engine around it
//   child.ts all <t1,t2,...> <n>  "refresh all" of those tables with max_parallel_tables = n
//   child.ts streams <table> <n>  the table with max_streams_per_table = n (streams of at least 100,000 rows)
// Prints one JSON line: { rows, ms, bytes, maxRssMb }.
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { Transform } from "node:stream";
import { exportConfig } from "../lib/config/store";
import { runRefresh } from "../lib/engine/runner";
import { createMetadataClient } from "../lib/metadata/client";

const [mode, table] = process.argv.slice(2);

async function baseline() {
  const src = new pg.Client({ connectionString: process.env.BENCH_SOURCE_URL });
  const tgt = new pg.Client({ connectionString: process.env.BENCH_TARGET_URL });
  await Promise.all([src.connect(), tgt.connect()]);
  const started = Date.now();
  let bytes = 0;
  let rows = 0;
  const count = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
      cb(null, chunk);
    },
  });
  // Same transactional shape as full_replace: truncate + load in one transaction.
  await tgt.query("BEGIN");
  await tgt.query(`TRUNCATE ${table}`);
  await pipeline(src.query(copyTo(`COPY ${table} TO STDOUT`)), count, tgt.query(copyFrom(`COPY ${table} FROM STDIN`)));
  await tgt.query("COMMIT");
  const ms = Date.now() - started;
  await Promise.all([src.end(), tgt.end()]);
  return { rows, ms, bytes };
}

async function engine() {
  const db = createMetadataClient(process.env.DATABASE_URL!);
  let bytes = 0;
  const started = Date.now();
  const report = await runRefresh(db, process.env.DATABASE_URL!, { trigger: "cli", triggeredBy: "bench", tables: [table], onProgress: (e) => (bytes = Math.max(bytes, e.bytes)) });
  const ms = Date.now() - started;
  await db.$disconnect();
  const t = report.tables[0];
  if (t.status !== "succeeded") throw new Error(`${table}: ${t.error}`);
  return { rows: t.outcome!.rowsWritten, ms, bytes };
}

async function all() {
  const db = createMetadataClient(process.env.DATABASE_URL!);
  const config = await exportConfig(db);
  config.settings.max_parallel_tables = Number(process.argv[4]);
  const started = Date.now();
  const report = await runRefresh(db, process.env.DATABASE_URL!, { trigger: "cli", triggeredBy: "bench", tables: table.split(","), config });
  const ms = Date.now() - started;
  await db.$disconnect();
  if (report.status !== "succeeded") throw new Error(`refresh all: ${report.tables.map((t) => t.error).join("; ")}`);
  return { rows: report.tables.reduce((s, t) => s + (t.outcome?.rowsWritten ?? 0), 0), ms, bytes: 0 };
}

async function streams() {
  const db = createMetadataClient(process.env.DATABASE_URL!);
  const config = await exportConfig(db);
  Object.assign(config.settings, { max_streams_per_table: Number(process.argv[4]), min_rows_per_stream: 100_000 });
  const started = Date.now();
  const report = await runRefresh(db, process.env.DATABASE_URL!, { trigger: "cli", triggeredBy: "bench", tables: [table], config });
  const ms = Date.now() - started;
  await db.$disconnect();
  const t = report.tables[0];
  if (t.status !== "succeeded") throw new Error(`${table}: ${t.error}`);
  return { rows: t.outcome!.rowsWritten, ms, bytes: 0, streams: t.outcome!.streams?.count ?? 1 };
}

const result = mode === "baseline" ? await baseline() : mode === "all" ? await all() : mode === "streams" ? await streams() : await engine();
console.log(JSON.stringify({ ...result, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }));

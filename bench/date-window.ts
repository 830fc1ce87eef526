// npm run bench:window [-- --rows 2000000 --repeat 2]
// What loading a date window by key costs against deleting and copying it again, A/B in one run on one embedded
// PostgreSQL (each refresh in its own process): `events` (a primary key: its window is loaded by key, staged and
// upserted) against `events_log` (the same rows, no key: its window is deleted and copied again, the path every date
// window took before). Each run appends 5 % new rows; the window (date_buffer_days 1) re-syncs the last day of rows with them.
// Best of `repeat`, alternated; peak RSS per refresh. Writes bench/results/date-window.*.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { configSchema } from "../lib/config/schema";
import { importConfig } from "../lib/config/store";
import { startEmbeddedPostgres } from "../lib/embedded/postgres";
import { createMetadataClient } from "../lib/metadata/client";
import { migrateMetadata } from "../lib/metadata/migrate";

const { values } = parseArgs({ options: { rows: { type: "string", default: "2000000" }, repeat: { type: "string", default: "2" } } });
const ROWS = Number(values.rows);
const REPEAT = Number(values.repeat);
const DAY = Math.round(ROWS / 20);
const root = path.resolve(import.meta.dirname, "..");

// One row a minute from 2024-01-01: `DAY` rows make the newest stretch the buffer re-syncs.
const SCHEMA = `
CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL, kind text NOT NULL, amount numeric(12,2), note text, changed timestamp NOT NULL);
CREATE INDEX events_changed ON events (changed);
CREATE TABLE events_log (id bigint NOT NULL, account int NOT NULL, kind text NOT NULL, amount numeric(12,2), note text, changed timestamp NOT NULL);
CREATE INDEX events_log_changed ON events_log (changed);`;
const FILL = (from: number, to: number) =>
  ["events", "events_log"]
    .map((t) => `INSERT INTO ${t} SELECT g, g % 50000, 'kind-' || (g % 20), (g % 100000) / 100.0, CASE WHEN g % 3 = 0 THEN NULL ELSE md5(g::text) END,
      timestamp '2024-01-01' + g * interval '1 minute' FROM generate_series(${from}, ${to}) g;`)
    .join("\n");

type Child = { rows: number; ms: number; maxRssMb: number };
function child(meta: string, table: string): Child {
  const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bench/child.ts"), "engine", table], { cwd: root, env: { ...process.env, DATABASE_URL: meta, LOG_LEVEL: "warn" }, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as Child;
}
const best = (runs: Child[]) => runs.reduce((a, b) => (a.ms <= b.ms ? a : b));

const cluster = await startEmbeddedPostgres();
try {
  process.env.UAT_REFRESH_DB_USER = "postgres";
  process.env.UAT_REFRESH_DB_PASSWORD = "postgres";
  const u = new URL(cluster.url("postgres"));
  const side = (database: string) => ({ engine: "postgres", server: u.hostname, port: Number(u.port), database, username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_DB_PASSWORD" });
  for (const db of ["w_src", "w_tgt", "w_meta"]) await cluster.createDatabase(db);
  const src = new pg.Client({ connectionString: cluster.url("w_src") });
  const tgt = new pg.Client({ connectionString: cluster.url("w_tgt") });
  await Promise.all([src.connect(), tgt.connect()]);
  for (const c of [src, tgt]) c.on("error", () => {}); // the cluster stops under them at the end
  await src.query(SCHEMA);
  await tgt.query(SCHEMA);
  console.log(`generating ${ROWS.toLocaleString("en")} rows in each table…`);
  await src.query(FILL(1, ROWS));
  await src.query("ANALYZE");
  await migrateMetadata(cluster.url("w_meta"));
  const db = createMetadataClient(cluster.url("w_meta"));
  const window = (name: string) => ({ name, sync_mode: "incremental" as const, incremental_column: "changed", incremental_type: "datetime" as const, date_buffer_days: 1, verify: false });
  await importConfig(db, configSchema.parse({ databases: { source: side("w_src"), target: side("w_tgt") }, tables: [window("events"), window("events_log")], settings: { command_timeout: 0, max_retries: 0 } }));
  await db.$disconnect();
  const meta = cluster.url("w_meta");
  // Day 1: everything, into empty tables (not measured).
  child(meta, "events");
  child(meta, "events_log");
  const runs = { byKey: [] as Child[], again: [] as Child[] };
  for (let i = 0; i < REPEAT; i++) {
    await src.query(FILL(ROWS + i * DAY + 1, ROWS + (i + 1) * DAY));
    runs.byKey.push(child(meta, "events"));
    runs.again.push(child(meta, "events_log"));
    console.log(JSON.stringify({ byKey: runs.byKey.at(-1), again: runs.again.at(-1) }));
  }
  const equal = async (t: string) => (await src.query(`SELECT count(*)::text AS n FROM ${t}`)).rows[0].n === (await tgt.query(`SELECT count(*)::text AS n FROM ${t}`)).rows[0].n;
  if (!(await equal("events")) || !(await equal("events_log"))) throw new Error("a table's row count differs from the source's after the runs");
  const [byKey, again] = [best(runs.byKey), best(runs.again)];
  const result = { at: new Date().toISOString(), machine: `${os.cpus().length} cores, Node ${process.version}`, rows: ROWS, windowRows: byKey.rows, byKey, again, ratio: Math.round((byKey.ms / again.ms) * 100) / 100 };
  console.log(JSON.stringify(result));
  const md =
    `Date window by key vs deleted and copied again (${result.machine}, embedded PostgreSQL, best of ${REPEAT}): a ${ROWS.toLocaleString("en")}-row table, ` +
    `${byKey.rows.toLocaleString("en")} rows re-synced (5 % new rows and a day of buffer): by key ${byKey.ms} ms (peak ${byKey.maxRssMb} MB) vs ` +
    `${again.ms} ms (peak ${again.maxRssMb} MB) without a key, ${result.ratio}×.`;
  console.log(`\n${md}`);
  if (process.env.BENCH_WRITE_RESULTS !== "0") {
    writeFileSync(path.join(root, "bench/results/date-window.json"), JSON.stringify(result, null, 2) + "\n");
    writeFileSync(path.join(root, "bench/results/date-window.md"), md + "\n");
  }
  await Promise.all([src.end(), tgt.end()]);
} finally {
  await cluster.stop();
}

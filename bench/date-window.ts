// npm run bench:window [-- --rows 2000000 --repeat 2]
// What loading a date window by key costs against deleting and copying it again, A/B in one run on one embedded
// PostgreSQL (each refresh in its own process): `events` (a primary key: its window is loaded by key, staged and
// upserted) against `events_log` (the same rows, no key: its window is deleted and copied again, the path every date
// window took before). Each run appends 5 % new rows; the window (date_buffer_days 1) re-syncs the last day of rows with them.
// Best of `repeat`, alternated; peak RSS per refresh. Writes bench/results/date-window.*.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { benchCluster, best, child, type Child } from "./cluster";

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

const { cluster, configure, connect } = await benchCluster();
try {
  for (const db of ["w_src", "w_tgt"]) await cluster.createDatabase(db);
  const [src, tgt] = [await connect("w_src"), await connect("w_tgt")];
  await src.query(SCHEMA);
  await tgt.query(SCHEMA);
  console.log(`generating ${ROWS.toLocaleString("en")} rows in each table…`);
  await src.query(FILL(1, ROWS));
  await src.query("ANALYZE");
  const window = (name: string) => ({ name, sync_mode: "incremental" as const, incremental_column: "changed", incremental_type: "datetime" as const, date_buffer_days: 1, verify: false });
  const meta = await configure("w_meta", "w_src", "w_tgt", [window("events"), window("events_log")]);
  // Day 1: everything, into empty tables (not measured).
  child(meta, "engine", "events");
  child(meta, "engine", "events_log");
  const runs = { byKey: [] as Child[], again: [] as Child[] };
  for (let i = 0; i < REPEAT; i++) {
    await src.query(FILL(ROWS + i * DAY + 1, ROWS + (i + 1) * DAY));
    runs.byKey.push(child(meta, "engine", "events"));
    runs.again.push(child(meta, "engine", "events_log"));
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

// npm run bench:verification [-- --rows 5000000]
// What verification after the refresh costs: full_replace of one 9-column table with verification (count and
// checksum of source and target) vs the same table with `verify: false`, each in its own process, alternated and
// repeated, best of each; the bare COPY pipe as the baseline of the same run. Writes bench/results/verification.*.
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

const { values } = parseArgs({ options: { rows: { type: "string", default: "5000000" }, repeat: { type: "string", default: "2" } } });
const ROWS = Number(values.rows);
const root = path.resolve(import.meta.dirname, "..");
const TABLE = `CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, first_name text, last_name text, phone text,
  city text, amount numeric(12,2), created_at timestamp NOT NULL, active boolean)`;
const FILL = `INSERT INTO accounts SELECT g, 'user' || g || '@corp.example', 'First' || (g % 3000), 'Last' || (g % 7000),
  '+44 20 7946 ' || lpad((g % 10000)::text, 4, '0'), 'City' || (g % 500), (g % 100000) / 100.0, timestamp '2024-01-01' + g * interval '1 second', g % 3 = 0
  FROM generate_series(1, ${ROWS}) g`;

function child(mode: "engine" | "baseline", env: Record<string, string>) {
  const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bench/child.ts"), mode, "accounts"], { cwd: root, env: { ...process.env, ...env }, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as { rows: number; ms: number; maxRssMb: number };
}

const cluster = await startEmbeddedPostgres();
try {
  for (const db of ["bench_src", "bench_tgt", "bench_meta"]) await cluster.createDatabase(db);
  await migrateMetadata(cluster.url("bench_meta"));
  const env = { DATABASE_URL: cluster.url("bench_meta"), UAT_REFRESH_DB_USER: "postgres", UAT_REFRESH_DB_PASSWORD: "postgres", BENCH_SOURCE_URL: cluster.url("bench_src"), BENCH_TARGET_URL: cluster.url("bench_tgt") };
  Object.assign(process.env, env);
  const u = new URL(cluster.url("postgres"));
  const side = (database: string) => ({ engine: "postgres", server: u.hostname, port: Number(u.port), database, username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_DB_PASSWORD" });
  const meta = createMetadataClient(cluster.url("bench_meta"));
  const configure = (verify: boolean) =>
    importConfig(meta, configSchema.parse({ databases: { source: side("bench_src"), target: side("bench_tgt") }, tables: [{ name: "accounts", sync_mode: "full_replace", verify }], settings: { command_timeout: 0, max_retries: 0 } }));
  const src = new pg.Client({ connectionString: cluster.url("bench_src") });
  const tgt = new pg.Client({ connectionString: cluster.url("bench_tgt") });
  await Promise.all([src.connect(), tgt.connect()]);
  for (const c of [src, tgt]) c.on("error", () => {}); // the cluster stops under them at the end
  for (const c of [src, tgt]) await c.query(TABLE);
  console.log(`generating ${ROWS.toLocaleString("en")} rows…`);
  await src.query(FILL);
  await src.query("ANALYZE accounts");
  const runs = { verified: [] as number[], unverified: [] as number[], baseline: [] as number[] };
  let rss = { verified: 0, unverified: 0 };
  for (let i = 0; i < Number(values.repeat); i++) {
    for (const verify of [true, false]) {
      await configure(verify);
      const r = child("engine", env);
      runs[verify ? "verified" : "unverified"].push(r.ms);
      rss = { ...rss, [verify ? "verified" : "unverified"]: Math.max(rss[verify ? "verified" : "unverified"], r.maxRssMb) };
      console.log(JSON.stringify({ verify, ...r }));
    }
    runs.baseline.push(child("baseline", env).ms);
  }
  const best = (xs: number[]) => Math.min(...xs);
  const result = {
    rows: ROWS,
    verifiedSeconds: best(runs.verified) / 1000,
    unverifiedSeconds: best(runs.unverified) / 1000,
    baselineSeconds: best(runs.baseline) / 1000,
    /** Extra time verification adds to the full replace, in percent of the unverified one. */
    overheadPercent: Math.round((best(runs.verified) / best(runs.unverified) - 1) * 1000) / 10,
    peakRssMb: rss,
    runs,
  };
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), Node ${process.version}, PostgreSQL 18 (embedded), source and target on one server`;
  const at = new Date().toISOString();
  writeFileSync(path.join(root, "bench/results/verification.json"), JSON.stringify({ at, machine, ...result }, null, 2) + "\n");
  const md = `Verification cost of ${at.slice(0, 10)} on ${machine}: full_replace of ${ROWS.toLocaleString("en")} rows × 9 columns ${result.verifiedSeconds} s verified vs ${result.unverifiedSeconds} s with verify: false (+${result.overheadPercent} %; bare COPY pipe ${result.baselineSeconds} s); peak RSS ${rss.verified} MB vs ${rss.unverified} MB. Best of ${values.repeat} alternated runs each.\n`;
  writeFileSync(path.join(root, "bench/results/verification.md"), md);
  console.log("\n" + md);
  await Promise.all([src.end(), tgt.end(), meta.$disconnect()]);
} finally {
  await cluster.stop();
}

// The benches' embedded PostgreSQL: databases with connected clients, and metadata databases holding a configuration
// of a source and a target on it; `child` runs one measured refresh in its own process (bench/child.ts).
import { execFileSync } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { configSchema, type TableConfigDraft } from "../lib/config/schema";
import { importConfig } from "../lib/config/store";
import { startEmbeddedPostgres } from "../lib/embedded/postgres";
import { createMetadataClient } from "../lib/metadata/client";
import { migrateMetadata } from "../lib/metadata/migrate";

const root = path.resolve(import.meta.dirname, "..");

export type Child = { rows: number; ms: number; maxRssMb: number };

/** One refresh (`engine`: of `tables`; `all`: of them with max_parallel_tables 2) against metadata DB `meta`. */
export function child(meta: string, mode: "engine" | "all", tables: string): Child {
  const args = mode === "all" ? [tables, "2"] : [tables];
  const out = execFileSync(process.execPath, ["--import", "tsx", path.join(root, "bench/child.ts"), mode, ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: meta, LOG_LEVEL: "warn" },
    encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Child;
}

export const best = (runs: Child[]) => runs.reduce((a, b) => (a.ms <= b.ms ? a : b));
export const ratio = (a: Child, b: Child) => Math.round((a.ms / b.ms) * 100) / 100;

export async function benchCluster() {
  const cluster = await startEmbeddedPostgres();
  process.env.UAT_REFRESH_DB_USER = "postgres";
  process.env.UAT_REFRESH_DB_PASSWORD = "postgres";
  const u = new URL(cluster.url("postgres"));
  const side = (database: string) => ({ engine: "postgres", server: u.hostname, port: Number(u.port), database, username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_DB_PASSWORD" });
  return {
    cluster,
    /** A new metadata database `meta` configured to refresh `tables` from `source` into `target`; its URL. */
    async configure(meta: string, source: string, target: string, tables: TableConfigDraft[]) {
      await cluster.createDatabase(meta);
      await migrateMetadata(cluster.url(meta));
      const db = createMetadataClient(cluster.url(meta));
      await importConfig(db, configSchema.parse({ databases: { source: side(source), target: side(target) }, tables, settings: { command_timeout: 0, max_retries: 0 } }));
      await db.$disconnect();
      return cluster.url(meta);
    },
    async connect(database: string) {
      const c = new pg.Client({ connectionString: cluster.url(database) });
      await c.connect();
      c.on("error", () => {}); // the cluster stops under it at the end
      return c;
    },
  };
}

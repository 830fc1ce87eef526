// Per-test-file databases on the shared test server: a source, a target and a migrated metadata DB.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { importConfig } from "../../lib/config/store";
import type { postRefreshStepSchema, RefreshConfig, TableConfigDraft } from "../../lib/config/schema";
import type { z } from "zod";
import { configSchema } from "../../lib/config/schema";
import { createMetadataClient, type Metadata } from "../../lib/metadata/client";

export interface TestEnv {
  adminUrl: string;
  sourceUrl: string;
  targetUrl: string;
  metaUrl: string;
  source: pg.Client;
  target: pg.Client;
  db: Metadata;
  /** The environment config() imports into (named after the target database, as the original form is). */
  environment: string;
  config(tables: TableConfigDraft[], settings?: Partial<RefreshConfig["settings"]>, steps?: z.input<typeof postRefreshStepSchema>[]): Promise<RefreshConfig>;
  /** One more database of this test's (`<id>_<suffix>`, created `WITH <create>` if given) with a connected client;
   *  dropped by close(). */
  addDatabase(suffix: string, create?: string): Promise<{ name: string; url: string; client: pg.Client }>;
  close(): Promise<void>;
}

function withDb(url: string, db: string) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function createTestEnv(): Promise<TestEnv> {
  const adminUrl = inject("adminUrl");
  const id = `t_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${id}_src`);
  await admin.query(`CREATE DATABASE ${id}_tgt`);
  await admin.query(`CREATE DATABASE ${id}_meta TEMPLATE uat_refresh_meta_template`);
  const sourceUrl = withDb(adminUrl, `${id}_src`);
  const targetUrl = withDb(adminUrl, `${id}_tgt`);
  const metaUrl = withDb(adminUrl, `${id}_meta`);
  const source = new pg.Client({ connectionString: sourceUrl });
  const target = new pg.Client({ connectionString: targetUrl });
  await source.connect();
  await target.connect();
  const extra: { name: string; client: pg.Client }[] = [];
  const db = createMetadataClient(metaUrl);
  const u = new URL(adminUrl);
  process.env.UAT_REFRESH_DB_USER = decodeURIComponent(u.username);
  process.env.UAT_REFRESH_DB_PASSWORD = decodeURIComponent(u.password);
  const database = (name: string) => ({
    engine: "postgres" as const,
    server: u.hostname,
    port: Number(u.port || 5432),
    database: name,
    username_env: "UAT_REFRESH_DB_USER",
    password_env: "UAT_REFRESH_DB_PASSWORD",
  });
  return {
    adminUrl,
    sourceUrl,
    targetUrl,
    metaUrl,
    source,
    target,
    db,
    environment: `${id}_tgt`,
    async config(tables, settings = {}, steps) {
      const config = configSchema.parse({
        databases: { source: database(`${id}_src`), target: database(`${id}_tgt`) },
        tables,
        post_refresh_steps: steps,
        settings: { default_batch_size: 10000, connection_timeout: 10, command_timeout: 120, max_retries: 0, ...settings },
      });
      await importConfig(db, config);
      return config;
    },
    async addDatabase(suffix, create) {
      const name = `${id}_${suffix}`;
      await admin.query(`CREATE DATABASE ${name}${create ? ` WITH ${create}` : ""}`);
      const url = withDb(adminUrl, name);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      extra.push({ name, client });
      return { name, url, client };
    },
    async close() {
      await Promise.all([source.end(), target.end(), db.$disconnect(), ...extra.map((x) => x.client.end())]);
      for (const name of [...["src", "tgt", "meta"].map((suffix) => `${id}_${suffix}`), ...extra.map((x) => x.name)]) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Row count and an order-independent checksum of every column, for "exactly the source's rows" assertions; with
 *  `columns`, of those columns only (production's, in a UAT that has more), and with `where`, of the rows it keeps. */
export async function fingerprint(client: pg.Client, table: string, only: { columns?: string[]; where?: string } = {}): Promise<{ count: number; sum: string }> {
  const row = only.columns ? `ROW(${only.columns.map((c) => `t."${c}"`).join(", ")})` : "t";
  const { rows } = await client.query(
    `SELECT count(*)::int AS count, coalesce(sum(('x' || substr(md5(${row}::text), 1, 15))::bit(60)::bigint), 0)::text AS sum FROM ${table} t${only.where ? ` WHERE ${only.where}` : ""}`,
  );
  return rows[0];
}

/** Ends the refresh's backend on one side, from outside, the first time the copy passes `afterRows` rows. */
export function terminateWhenCopying(env: TestEnv, admin: pg.Client, side: "source" | "target", afterRows: number) {
  const database = new URL(side === "source" ? env.sourceUrl : env.targetUrl).pathname.slice(1);
  const state = { fired: false };
  const onProgress = (e: { rows: number }) => {
    if (state.fired || e.rows <= afterRows) return;
    state.fired = true;
    void admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND datname = $2", [`uat-refresh run % (${side})`, database]);
  };
  return { onProgress, state };
}

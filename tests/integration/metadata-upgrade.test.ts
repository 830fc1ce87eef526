// Upgrading a metadata database filled by the version before environments: every migration up to 0019 applied and
// data written in that version's shape, then the rest of the migrations as `npm run db:migrate` applies them. The
// installation becomes one environment named after its target, keeping runs, audit events, schedules, steps, masking
// decisions and users; and the migrated database is exactly what prisma/schema.prisma describes.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { exportConfig } from "../../lib/config/store";
import { migrateMetadata } from "../../lib/metadata/migrate";
import { createMetadataClient, type Metadata } from "../../lib/metadata/client";
import { runRefresh } from "../../lib/engine/runner";

const MIGRATIONS = path.resolve("prisma/migrations");
const BEFORE_ENVIRONMENTS = readdirSync(MIGRATIONS).filter((d) => /^\d{4}_/.test(d) && d < "0020");

describe("metadata upgrade to environments", () => {
  const adminUrl = inject("adminUrl");
  const name = `upgrade_${Date.now()}`;
  const url = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  let admin: pg.Client;
  let old: pg.Client;
  let db: Metadata;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    old = new pg.Client({ connectionString: url });
    await old.connect();
    // The previous version's schema, and what `prisma migrate deploy` recorded of it.
    await old.query(`CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
      logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
    for (const m of BEFORE_ENVIRONMENTS) {
      const sql = readFileSync(path.join(MIGRATIONS, m, "migration.sql"), "utf8");
      await old.query(sql);
      const checksum = (await import("node:crypto")).createHash("sha256").update(sql).digest("hex");
      await old.query(`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid()::text, $1, now(), $2, 1)`, [checksum, m]);
    }
    // A lived-in installation of that version: connections, tables with masking decisions, a step, a schedule with
    // its fires, runs with table results, audit events, a user.
    await old.query(`INSERT INTO "Connection" (id, name, role, engine, host, port, database, "userEnv", "passwordEnv", options, "updatedAt") VALUES
      ('c1', 'source', 'source', 'postgres', '127.0.0.1', 5432, 'Prod_Sales', 'UAT_REFRESH_DB_USER', 'UAT_REFRESH_DB_PASSWORD', '{}', now()),
      ('c2', 'target', 'target', 'postgres', '127.0.0.1', 5432, 'UAT Sales', 'UAT_REFRESH_DB_USER', 'UAT_REFRESH_DB_PASSWORD', '{}', now())`);
    await old.query(`INSERT INTO "TableConfig" (id, name, strategy, "syncMode", masking, "personalData", position, "updatedAt") VALUES
      ('t1', 'customers', 'simple_copy', 'full_replace', '[{"column":"email","rule":"fake_email"}]', '[{"column":"email","found":"by hand"}]', 0, now()),
      ('t2', 'orders', 'simple_copy', 'full_replace', NULL, NULL, 1, now())`);
    await old.query(`INSERT INTO "PostRefreshStep" (id, name, position, sql, "updatedAt") VALUES ('s1', 'cut email', 0, 'UPDATE customers SET email = ''x''', now())`);
    await old.query(`INSERT INTO "Schedule" (id, name, cron, "updatedAt") VALUES ('sch1', 'nightly', '0 2 * * *', now())`);
    await old.query(`INSERT INTO "ScheduleFire" (id, "scheduleId", "dueAt") VALUES ('f1', 'sch1', now())`);
    await old.query(`INSERT INTO "RefreshRun" (id, trigger, "triggeredBy", status, "tablesTotal") VALUES ('r1', 'web', 'ada@example.test', 'succeeded', 1)`);
    await old.query(`INSERT INTO "TableResult" (id, "runId", "tableName", strategy, status) VALUES ('tr1', 'r1', 'customers', 'simple_copy', 'succeeded')`);
    await old.query(`INSERT INTO "AuditEvent" (id, actor, action, target) VALUES ('a1', 'ada@example.test', 'refresh.trigger', 'r1'), ('a2', 'ada@example.test', 'user.role', 'bob'), ('a3', 'ada@example.test', 'masking.rules', 'customers')`);
    await old.query(`INSERT INTO "User" (id, email, role) VALUES ('u1', 'ada@example.test', 'admin')`);
    await old.end();
    await migrateMetadata(url);
    db = createMetadataClient(url);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it("becomes one environment named after its target, keeping everything it had", async () => {
    expect(await db.environment.findMany({ select: { name: true } })).toEqual([{ name: "uat-sales" }]);
    const config = await exportConfig(db);
    expect(config.databases.target.database).toBe("UAT Sales");
    expect(config.tables.map((t) => [t.name, t.masking?.map((m) => m.column) ?? []])).toEqual([["customers", ["email"]], ["orders", []]]);
    expect(config.post_refresh_steps?.map((s) => s.name)).toEqual(["cut email"]);
    expect(await db.schedule.findMany({ select: { name: true, environment: true, fires: { select: { id: true } } } })).toEqual([{ name: "nightly", environment: "uat-sales", fires: [{ id: "f1" }] }]);
    expect(await db.refreshRun.findMany({ select: { id: true, environment: true, tables: { select: { tableName: true } } } })).toEqual([{ id: "r1", environment: "uat-sales", tables: [{ tableName: "customers" }] }]);
    const audit = await db.auditEvent.findMany({ orderBy: { id: "asc" }, select: { id: true, environment: true } });
    // Events about runs and tables concern the environment; a user's role is installation-wide.
    expect(audit).toEqual([{ id: "a1", environment: "uat-sales" }, { id: "a2", environment: null }, { id: "a3", environment: "uat-sales" }]);
    expect(await db.user.count()).toBe(1);
    // Runs now name an environment: an unknown one is refused, naming the one the upgrade made.
    await expect(runRefresh(db, url, { environment: "training", trigger: "cli", triggeredBy: "test" })).rejects.toThrow("unknown environment training; environments: uat-sales");
  });

  it("leaves the database exactly as prisma/schema.prisma describes it", async () => {
    const run = promisify(execFile);
    const cli = path.resolve("node_modules/prisma/build/index.js");
    const { stdout } = await run(process.execPath, [cli, "migrate", "diff", "--from-config-datasource", "--to-schema", "prisma/schema.prisma", "--script"], { env: { ...process.env, DATABASE_URL: url } });
    expect(stdout.replace(/^--.*$/gm, "").trim()).toBe("");
  });
});

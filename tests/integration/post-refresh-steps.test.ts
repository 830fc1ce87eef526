// Post-refresh steps on real PostgreSQL: a step scoped to a table runs inside that table's transaction (a failing one
// leaves the table as it was), run-wide steps run after the tables in one transaction with the run's facts as bind
// parameters (a failing one keeps none of them), the dry run lists them without running any, and the run records
// rows affected, executions and errors.
import pg from "pg";
import type { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { exportConfig } from "../../lib/config/store";
import { getRun, runSnapshot } from "../../lib/runs";
import { openSession } from "../../lib/engine/connections";
import { templatesFor } from "../../lib/config/step-templates";
import { rowsSaid, StepLog } from "../../lib/engine/steps";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";
import { runCli } from "../support/cli";

describe("post-refresh steps", () => {
  let env: TestEnv;
  const tables = [
    { name: "customers", sync_mode: "full_replace" as const },
    { name: "settings", sync_mode: "full_replace" as const },
  ];
  const cutEmail = { name: "cut outbound email", tables: ["customers"], sql: "UPDATE customers SET email = 'uat+' || id || '@example.invalid' WHERE email NOT LIKE '%@example.invalid'" };
  const logRun = { name: "log the refresh", sql: "INSERT INTO refresh_log (run_id, started_at, who) VALUES (@run_id, @run_started_at, @triggered_by)" };
  const repoint = { name: "re-point the site", sql: "UPDATE settings SET value = 'https://uat.example.invalid' WHERE key = 'site_url'" };
  const run = (dryRun = false) => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "tester@laptop", dryRun });
  const count = async (sql: string) => Number((await env.target.query(sql)).rows[0].n);

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL)");
      await c.query("CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)");
    }
    await env.target.query("CREATE TABLE refresh_log (run_id text NOT NULL, started_at timestamp NOT NULL, who text NOT NULL)");
    await env.source.query("INSERT INTO customers SELECT g, 'customer ' || g, 'customer' || g || '@mail.example.com' FROM generate_series(1, 3000) g");
    await env.source.query("INSERT INTO settings VALUES ('site_url', 'https://www.example.com'), ('smtp_host', 'smtp.example.com')");
    await env.config(tables, {}, [cutEmail, logRun, repoint]);
  });
  afterAll(() => env?.close());

  it("the dry run lists every step and where it would run, and runs none", async () => {
    const r = await run(true);
    expect(r.steps?.map((s) => [s.name, s.tables, s.status, s.executions])).toEqual([
      ["cut outbound email", ["customers"], "planned", 0],
      ["log the refresh", [], "planned", 0],
      ["re-point the site", [], "planned", 0],
    ]);
    // With the run's facts it would be given, as they would be bound.
    expect(r.steps?.find((s) => s.name === "log the refresh")?.parameters).toEqual({ run_id: r.runId, run_started_at: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/), triggered_by: "tester@laptop" });
    expect(r.steps?.find((s) => s.name === "cut outbound email")?.parameters).toEqual({});
    const cli = await runCli(["--dry-run"], { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! });
    expect(cli.code, cli.output).toBe(0);
    expect(cli.output).toMatch(/· post-refresh step log the refresh \(after the tables\): would run with @run_id = '\w+', @run_started_at = '[\d :.-]+', @triggered_by = '[^']+@[^']+'/);
    expect(cli.output).toContain("· post-refresh step cut outbound email (in the transaction of customers): would run\n");
    expect(await count("SELECT count(*) AS n FROM refresh_log")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM customers")).toBe(0);
  });

  it("runs a table's step before that table's commit and the run's steps after the tables, with the run's facts as parameters", async () => {
    const r = await run();
    expect(r.status, JSON.stringify(r.tables.map((t) => t.error))).toBe("succeeded");
    // No customer email of production is left in UAT, and none was ever committed without the step.
    expect(await count("SELECT count(*) AS n FROM customers WHERE email NOT LIKE '%@example.invalid'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM customers")).toBe(3000);
    // Verified on the rows as loaded, read in the same transaction before the step changed them.
    expect(r.tables[0].outcome?.verification?.detail).toBe(
      "verified: 3000 row(s), counts and checksums equal (the whole table; read before the post-refresh step(s) cut outbound email in the same transaction)",
    );
    expect((await env.target.query("SELECT value FROM settings WHERE key = 'site_url'")).rows[0].value).toBe("https://uat.example.invalid");
    const log = (await env.target.query("SELECT run_id, started_at, who FROM refresh_log")).rows;
    const row = await env.db.refreshRun.findUniqueOrThrow({ where: { id: r.runId } });
    expect(log).toEqual([{ run_id: r.runId, started_at: row.startedAt, who: "tester@laptop" }]);
    expect(r.steps?.map((s) => [s.name, s.status, s.rowsAffected, s.executions])).toEqual([
      ["cut outbound email", "succeeded", 3000, 1],
      ["log the refresh", "succeeded", 1, 1],
      ["re-point the site", "succeeded", 1, 1],
    ]);
    // Recorded with the run, as the run page and the API show it.
    const snapshot = runSnapshot((await getRun(env.db, r.runId))!);
    expect(snapshot.steps.map((s) => [s.name, s.status, s.rowsAffected])).toEqual([
      ["cut outbound email", "succeeded", 3000],
      ["log the refresh", "succeeded", 1],
      ["re-point the site", "succeeded", 1],
    ]);
  });

  it("a step the server gives no row count for (DDL) is recorded and shown as having no row count, never as 0 rows", async () => {
    await env.config(tables, {}, [{ name: "index the log", sql: "CREATE INDEX IF NOT EXISTS refresh_log_who ON refresh_log (who)" }, repoint]);
    try {
      const r = await run();
      expect(r.status).toBe("succeeded");
      expect(runSnapshot((await getRun(env.db, r.runId))!).steps.map((s) => [s.name, s.status, s.rowsAffected])).toEqual([
        ["index the log", "succeeded", null],
        ["re-point the site", "succeeded", 1],
      ]);
    } finally {
      await env.config(tables, {}, [cutEmail, logRun, repoint]);
    }
  });

  it("what a step SETs ends with it: a table's step setting default_transaction_read_only does not reach the next table's load on the same session", async () => {
    const readOnlyStep = { name: "read-only from here", tables: ["customers"], sql: "SET default_transaction_read_only = on; UPDATE customers SET name = name WHERE id = 1" };
    await env.config(tables, { max_parallel_tables: 1 }, [readOnlyStep]);
    try {
      const r = await run();
      expect(r.tables.map((t) => [t.table, t.status, t.error ?? null])).toEqual([
        ["customers", "succeeded", null],
        ["settings", "succeeded", null],
      ]);
      expect(r.steps?.map((s) => [s.name, s.status, s.rowsAffected])).toEqual([["read-only from here", "succeeded", 1]]);
    } finally {
      await env.config(tables, {}, [cutEmail, logRun, repoint]);
    }
  });

  it("a step's SET ROLE ends with it too: the next table's load runs as the connection's own login, not a role without its rights", async () => {
    // SET ROLE is no row of pg_settings (the GUC is hidden from it), so it is set back on its own.
    await env.target.query("DROP ROLE IF EXISTS step_reader; CREATE ROLE step_reader NOLOGIN; GRANT step_reader TO CURRENT_USER");
    const roleStep = { name: "as a reader from here", tables: ["customers"], sql: "UPDATE customers SET name = name WHERE id = 1; SET ROLE step_reader" };
    await env.config(tables, { max_parallel_tables: 1 }, [roleStep]);
    try {
      const r = await run();
      expect(r.tables.map((t) => [t.table, t.status, t.error ?? null])).toEqual([
        ["customers", "succeeded", null],
        ["settings", "succeeded", null],
      ]);
    } finally {
      await env.config(tables, {}, [cutEmail, logRun, repoint]);
      await env.target.query("DROP ROLE step_reader");
    }
  });

  it("a step that would end the refresh's transaction (COMMIT, BEGIN, END, ROLLBACK, ...) is refused where it is written, naming it", async () => {
    // A step runs inside the refresh's transaction; PostgreSQL has no nested transactions, so its COMMIT would make
    // the table's load permanent before the table's other steps and its verification ran.
    for (const [sql, said] of [
      ["UPDATE settings SET value = 'x'; COMMIT", "statement 2 is COMMIT"],
      ["BEGIN; UPDATE settings SET value = 'x'; END", "statement 1 is BEGIN"],
      ["start transaction", "statement 1 is START TRANSACTION"],
    ]) {
      const issues = await env.config(tables, {}, [{ name: "early", tables: ["customers"], sql }]).then(
        () => [],
        (e: z.ZodError) => e.issues.map((i) => `${i.path.join(".")}: ${i.message.replace(/:.*/, "")}`),
      );
      expect(issues, sql).toEqual([`post_refresh_steps.0.sql: ${said}`]);
    }
    await env.config(tables, {}, [cutEmail, logRun, repoint]);
  });

  it("a step that ended the transaction anyway (past the configuration's check) fails, saying so, never 'succeeded'", async () => {
    const config = await exportConfig(env.db);
    const session = await openSession(config.databases.target, "target", config.settings, { kind: "check" });
    try {
      const step = { sql: "UPDATE settings SET value = value; COMMIT", params: [], ownScope: true };
      const error = await session.transaction(() => session.execute(step)).then(() => null, (e) => (e as Error).message);
      expect(error).toBe("it ended the refresh's transaction: what the transaction wrote before it is committed, and what followed it ran outside it");
      // A step that leaves the transaction open is not taken for one that ended it.
      expect(await session.transaction(() => session.execute({ ...step, sql: "UPDATE settings SET value = value" }))).toBe(2);
    } finally {
      await session.close();
    }
  });

  it("a table's failing step rolls that table back, names the step, and the run's steps still run for the tables that were refreshed", async () => {
    await env.source.query("UPDATE customers SET name = name || ' (changed)' WHERE id <= 10");
    const before = await fingerprint(env.target, "customers");
    await env.config(tables, {}, [{ ...cutEmail, sql: "UPDATE customers SET mail = 'x'" }, logRun, repoint]);
    const r = await run();
    const customers = r.tables.find((t) => t.table === "customers")!;
    expect(r.status).toBe("partial");
    expect(customers.status).toBe("failed");
    expect(customers.error).toMatch(/^post-refresh step "cut outbound email" failed: column "mail" of relation "customers" does not exist/);
    expect(await fingerprint(env.target, "customers")).toEqual(before);
    expect(r.steps?.map((s) => [s.name, s.status])).toEqual([
      ["cut outbound email", "failed"],
      ["log the refresh", "succeeded"],
      ["re-point the site", "succeeded"],
    ]);
    expect(await count("SELECT count(*) AS n FROM refresh_log")).toBe(2);
  });

  it("a failing run-wide step keeps none of the run-wide steps' changes, and fails the run saying the tables stay committed", async () => {
    await env.config(tables, {}, [cutEmail, logRun, { ...repoint, sql: "UPDATE settings SET value = 1 / 0" }]);
    const r = await run();
    expect(r.tables.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    expect(r.status).toBe("failed");
    expect(r.steps?.map((s) => [s.name, s.status])).toEqual([
      ["cut outbound email", "succeeded"],
      ["log the refresh", "rolled_back"],
      ["re-point the site", "failed"],
    ]);
    expect(await count("SELECT count(*) AS n FROM refresh_log")).toBe(2);
    const row = await env.db.refreshRun.findUniqueOrThrow({ where: { id: r.runId } });
    expect(row.error).toBe(`post-refresh step "re-point the site" failed: division by zero; the tables' refreshes stay committed, no run-wide step's change was kept`);
    // The table's own step ran inside its committed refresh: UAT holds no production email.
    expect(await count("SELECT count(*) AS n FROM customers WHERE email NOT LIKE '%@example.invalid'")).toBe(0);
  });

  it("are part of the configuration: exported and imported as written; a step naming an unknown table is refused with its field path", async () => {
    await env.config(tables, {}, [cutEmail, { ...logRun, enabled: false, description: "who refreshed, when" }]);
    expect((await exportConfig(env.db)).post_refresh_steps).toEqual([
      { ...cutEmail, enabled: true },
      { ...logRun, enabled: false, description: "who refreshed, when" },
    ]);
    await expect(env.config(tables, {}, [{ ...cutEmail, tables: ["ghost"] }])).rejects.toThrow(/post_refresh_steps\.0\.tables\.0|ghost is not a configured table/);
    // A disabled step is not run.
    const r = await run();
    expect(r.steps?.map((s) => s.name)).toEqual(["cut outbound email"]);
  });

  it("the PostgreSQL templates run as written on the objects they name, parameters bound, rows counted (pg_cron: not installed here)", async () => {
    await env.target.query(`CREATE SCHEMA tpl;
      CREATE TABLE tpl.customers (customer_id int PRIMARY KEY, email text NOT NULL);
      INSERT INTO tpl.customers VALUES (1, 'ann@mail.example.com'), (2, 'bob@mail.example.com'), (3, 'uat+3@example.invalid');
      CREATE TABLE tpl.app_settings (name text PRIMARY KEY, value text NOT NULL);
      INSERT INTO tpl.app_settings VALUES ('site_url', 'https://www.example.com'), ('smtp_host', 'smtp.example.com'), ('mail_enabled', 'true');
      CREATE TABLE tpl.users (username text PRIMARY KEY, password_hash text NOT NULL, failed_logins int NOT NULL, locked boolean NOT NULL);
      INSERT INTO tpl.users VALUES ('test1', 'x', 3, true), ('ann', 'y', 0, false);
      CREATE TABLE tpl.uat_refresh_log (run_id text NOT NULL, refreshed_at timestamp NOT NULL, refreshed_by text NOT NULL);
      DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'uat_testers') THEN CREATE ROLE uat_testers; END IF; END $$;`);
    const session = await openSession((await exportConfig(env.db)).databases.target, "target", (await exportConfig(env.db)).settings, { kind: "check" });
    const values = { run_id: "run-1", run_started_at: "2026-12-03 10:11:12.345", triggered_by: "ada" };
    const results: Record<string, string> = {};
    try {
      await session.execute({ sql: "SET search_path = tpl", params: [] });
      for (const t of templatesFor("postgres").filter((x) => x.id !== "postgres-disable-pg-cron")) {
        const step = { name: t.id, sql: t.sql.replaceAll("public", "tpl"), tables: [], position: 0, enabled: true };
        const log = new StepLog([step], "postgres", values, false);
        results[t.id] = await session.transaction(() => log.execute(session, [step])).then(() => rowsSaid(log.list()[0].rowsAffected), (e) => (e as Error).message);
      }
    } finally {
      await session.close();
    }
    expect(results).toEqual({
      // GRANT changes no rows: the server gives no count, and none is made up.
      "postgres-grants": "no row count from the server",
      "postgres-cut-email": "2 rows",
      "postgres-mail-settings": "2 rows",
      "postgres-repoint-config": "1 rows",
      "postgres-reset-test-accounts": "1 rows",
      "postgres-record-refresh": "1 rows",
    });
    expect((await env.target.query("SELECT run_id, refreshed_at::text AS at, refreshed_by FROM tpl.uat_refresh_log")).rows).toEqual([{ run_id: "run-1", at: "2026-12-03 10:11:12.345", refreshed_by: "ada" }]);
    expect((await env.target.query("SELECT has_table_privilege('uat_testers', 'tpl.users', 'UPDATE') AS ok")).rows[0].ok).toBe(true);
  });

  it("the admin page's changes: checked as the configuration (field paths), saved in order, audited with before/after, never lost to another admin's", async () => {
    process.env.DATABASE_URL = env.metaUrl;
    const admin = await import("../../server/steps");
    await env.config(tables, {}, [cutEmail]);
    const actor = { actor: "ada@example.test", action: "step.create", target: "x" };
    expect(await admin.changeSteps(env.environment, (steps) => [...steps, { name: "bad", sql: "UPDATE t SET a = 'open", tables: ["ghost"], enabled: true }], actor)).toEqual({
      errors: ["post_refresh_steps[1].tables[0]: ghost is not a configured table", "post_refresh_steps[1].sql: has an unterminated string literal starting at character 18"],
    });
    expect(await admin.changeSteps(env.environment, (steps) => [{ ...repoint, enabled: true }, ...steps], actor)).toEqual({ errors: [] });
    expect((await exportConfig(env.db)).post_refresh_steps?.map((s) => s.name)).toEqual(["re-point the site", "cut outbound email"]);
    const [event] = await env.db.auditEvent.findMany({ where: { action: "step.create" } });
    expect(event.details).toEqual({ before: [{ ...cutEmail, enabled: true }], after: [{ ...repoint, enabled: true }, { ...cutEmail, enabled: true }] });
    // Two admins at once: both read the list, then wait for the change lock (held here until both do); the second
    // change was prepared on a list that no longer exists.
    const holder = new pg.Client({ connectionString: env.metaUrl });
    await holder.connect();
    await holder.query("SELECT pg_advisory_lock(hashtext($1))", [`uat-refresh post-refresh steps ${env.environment}`]);
    const pending = Promise.all([1, 2].map((n) => admin.changeSteps(env.environment, (steps) => steps.map((s) => ({ ...s, description: `edit ${n}` })), { ...actor, action: "step.update" })));
    const waiting = async () => Number((await holder.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0].n);
    for (let i = 0; i < 600 && (await waiting()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
    await holder.end();
    const results = await pending;
    expect(results.filter((r) => r.errors.length)).toEqual([{ errors: ["the post-refresh steps were changed by someone else meanwhile: reload the page and try again"] }]);
  });
});

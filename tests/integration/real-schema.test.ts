// A real schema on real PostgreSQL (tests/fixtures/real-schema.ts): day 1 into an empty UAT, day 2 after a day of
// production activity, a kill in the middle of the group, a key the load breaks, and tables outside the
// configuration; then the same schema lived in (testers' rows, a DBA's indexes and grants, a sale production commits
// after a later one) from day 1 to day 3.
// Every table is compared with production by count and checksum.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { getRun, runSnapshot } from "../../lib/runs";
import { DAY1, DAY2, SCHEMA, TABLE_NAMES, TABLES, TARGET_SCHEMA } from "../fixtures/real-schema";
import { catalog } from "../support/catalog";
import { runCli, spawnCli, waitFor } from "../support/cli";
import { createTestEnv, fingerprint, terminateWhenCopying, type TestEnv } from "../support/env";

describe("a real schema: foreign keys, a cycle, triggers, sequences", () => {
  let env: TestEnv;
  let admin: pg.Client;
  const run = (tables?: string[]) => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables });
  // One query at a time on one client (pg queues concurrent queries on a client, and pg@9 will refuse them).
  const snapshot = async (client: pg.Client) => {
    const out: Record<string, Awaited<ReturnType<typeof fingerprint>>> = {};
    for (const t of TABLE_NAMES) out[t] = await fingerprint(client, t);
    return out;
  };

  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY = "real-schema-test-key-0123456789";
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    await env.source.query(SCHEMA);
    await env.target.query(TARGET_SCHEMA);
    await env.source.query(DAY1);
    await env.config(TABLES);
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  it("day 1: an empty UAT gets every table equal to production, in one group, without firing UAT's triggers", async () => {
    const report = await run();
    expect(report.tables.map((t) => [t.table, t.status, t.error ?? ""])).toEqual(TABLE_NAMES.map((t) => [t, "succeeded", ""]));
    expect(await snapshot(env.target)).toEqual(await snapshot(env.source));
    // Every member was counted and checksummed against the group's snapshot of production.
    const rows = await env.db.tableResult.findMany({ where: { runId: report.runId }, orderBy: { tableName: "asc" } });
    expect(rows.filter((r) => !r.verified).map((r) => [r.tableName, r.verification])).toEqual([]);
    // Copied values arrive as they are: the BEFORE trigger did not stamp them, the AFTER trigger logged nothing.
    expect((await env.target.query("SELECT count(*)::int AS n FROM order_audit")).rows[0].n).toBe(0);
    expect((await env.target.query("SELECT max(last_update)::text AS m FROM customers")).rows[0].m).toBe("2025-01-03 02:00:00+00");
    // Triggers and keys are back: enabled, validated.
    const triggers = await env.target.query("SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1");
    expect(triggers.rows).toEqual([{ tgname: "customers_stamp", tgenabled: "O" }, { tgname: "orders_audit", tgenabled: "O" }, { tgname: "orders_stamp", tgenabled: "O" }]);
    const keys = await env.target.query("SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' ORDER BY 1");
    expect(keys.rows.length).toBe(15); // 12 declared, page_views' one cloned onto its 3 monthly partitions
    expect(keys.rows.every((k) => k.convalidated)).toBe(true);
    const plan = await env.db.tableResult.findFirstOrThrow({ where: { runId: report.runId, tableName: "orders" } });
    expect(plan.modeReason).toMatch(/refreshed as one group: regions \(merged\) -> customers \(merged\) -> products -> page_views -> employees \(merged\) -> stores \(merged\) -> orders \(merged\) -> order_items -> payments; checked after the load: /);
  });

  it("every sequence ends past the copied values: UAT's own inserts do not collide", async () => {
    // customer_no_seq is not owned by customers.id; orders.id is an identity; products.id a serial.
    await env.target.query("BEGIN");
    await env.target.query("INSERT INTO customers (region_id) VALUES (1)");
    await env.target.query("INSERT INTO orders (customer_id, status, ordered_at) VALUES (1, 'new', now())");
    await env.target.query("INSERT INTO products (sku, price) VALUES ('uat-only', 1)");
    await env.target.query("ROLLBACK");
  });

  it("day 2: inserts, updates and deletes on every level reach UAT; every table equals production again", async () => {
    await env.source.query(DAY2);
    const report = await run();
    expect(report.tables.filter((t) => t.status !== "succeeded")).toEqual([]);
    expect(await snapshot(env.target)).toEqual(await snapshot(env.source));
    const customers = await env.db.tableResult.findFirstOrThrow({ where: { runId: report.runId, tableName: "customers" } });
    expect(customers.modeReason).toMatch(/merged: 12 updated, 50 inserted, 5 deleted/);
    // Loaded by key, a member's figures are the rows it read from production and the rows it changed (before, both
    // were one number: a merge read "0", an identity append "committed" every row it re-read).
    const sourceCustomers = (await env.source.query("SELECT count(*)::int AS n FROM customers")).rows[0].n;
    expect([customers.rowsRead, customers.rowsCommitted]).toEqual([BigInt(sourceCustomers), 62n]);
    const payments = await env.db.tableResult.findFirstOrThrow({ where: { runId: report.runId, tableName: "payments" } });
    expect(payments.rowsCommitted).toBe(20n);
    expect(payments.rowsRead).toBeGreaterThan(20n);
    // Its throughput counts the rows it moved through (read), not only the 20 it changed.
    const shown = runSnapshot((await getRun(env.db, report.runId))!).tables.find((t) => t.table === "payments")!;
    expect(shown.rowsPerSec).toBe(Math.round((Number(payments.rowsRead) * 1000) / payments.durationMs!));
    expect([customers.verified, customers.verification]).toEqual([true, expect.stringMatching(/^verified: \d+ row\(s\), counts and checksums equal/)]);
    // Group members record their watermark after the commit, as tables refreshed alone do.
    const orders = await env.db.tableResult.findFirstOrThrow({ where: { runId: report.runId, tableName: "orders" } });
    expect(orders.watermarkAfter).not.toBeNull();
    // Order 8500, committed today but stamped four days below the window, found by the day bands and inserted.
    expect(orders.modeReason).toContain("production has 1 more row(s) dated from 2025-02-11 16:00:00+00 up to the window than UAT has there");
    expect((await env.target.query("SELECT count(*)::int AS n FROM order_items WHERE order_id = 8500")).rows[0].n).toBe(1);
    expect((await env.target.query("SELECT max(last_update) = $1::timestamptz AS same FROM orders", [orders.watermarkAfter])).rows[0].same).toBe(true);
    // Configured full_replace, merged by key: both recorded, so every surface says "full_replace → merge".
    expect([customers.configuredMode, customers.mode]).toEqual(["full_replace", "merge"]);
    // page_views (monthly partitions on a timestamptz key): March reloaded whole, April created as a month.
    const months = await env.target.query("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'page_views'::regclass ORDER BY 1");
    expect(months.rows.map((r) => r.name)).toEqual(["page_views_2025_01", "page_views_2025_02", "page_views_2025_03", "page_views_2025_04"]);
    const views = await env.db.tableResult.findFirstOrThrow({ where: { runId: report.runId, tableName: "page_views" } });
    expect(views.partitionsSwitched).toEqual(["2025-03-01 00:00:00+00..2025-04-01 00:00:00+00", "2025-04-01 00:00:00+00..2025-05-01 00:00:00+00"]);
  });

  it("a refresh killed in the middle of the group leaves every table as it was", async () => {
    await env.source.query("UPDATE customers SET tags = tags || ARRAY['killed-run'] WHERE id % 2 = 0; INSERT INTO payments VALUES (9001, 1, 1, now())");
    const before = await snapshot(env.target);
    const child = spawnCli(["--force"], { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD!, UAT_REFRESH_FAILPOINT: "between-group-tables" });
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`CLI exited before the failpoint: ${child.output()}`);
      return child.output().includes("failpoint between-group-tables");
    });
    child.kill("SIGKILL");
    await child.exited;
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh%' AND datname = $1", [new URL(env.targetUrl).pathname.slice(1)]);
    expect(await snapshot(env.target)).toEqual(before);
    // The next run (the CLI's, with its report) converges; the merged parent says what was configured and what it did.
    const next = await runCli(["--force"], { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! });
    expect(next.code, next.output).toBe(0);
    expect(next.output).toMatch(/^✓ customers: simple_copy \/ full_replace → merge \(/m);
    expect(await snapshot(env.target)).toEqual(await snapshot(env.source));
  });

  it("with max_retries, a target connection dropped in the middle of the group is retried on fresh sessions", async () => {
    await env.source.query("UPDATE customers SET tags = tags || ARRAY['retried'] WHERE id % 3 = 0");
    await env.config(TABLES, { max_retries: 2 });
    const kill = terminateWhenCopying(env, admin, "target", 1000);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", onProgress: kill.onProgress });
    expect(kill.state.fired).toBe(true);
    expect(report.status, report.tables.map((t) => t.error ?? "").join()).toBe("succeeded");
    expect(await snapshot(env.target)).toEqual(await snapshot(env.source));
    await env.config(TABLES);
  });

  it("a key the load breaks fails the whole group, naming the key and how many rows, and nothing is committed", async () => {
    const before = await snapshot(env.target);
    // A masking rule on a suspended key's column (employees.store_id, in the cycle) points every row nowhere.
    await env.config(TABLES.map((t) => (t.name === "employees" ? { ...t, masking: [{ column: "store_id", rule: "sql", expression: "999" }] } : t)));
    const report = await run();
    expect(report.status).toBe("failed");
    const employees = report.tables.find((t) => t.table === "employees")!;
    expect(employees.error).toMatch(/foreign key employees_store_fk of public\.employees \(store_id\) -> public\.stores: 121 row\(s\) reference a missing row after the load; nothing was committed/);
    expect(report.tables.every((t) => t.status === "failed")).toBe(true);
    expect(await snapshot(env.target)).toEqual(before);
    const keys = await env.target.query("SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND conname = 'employees_store_fk' AND convalidated");
    expect(keys.rows[0].n).toBe(1);
    await env.config(TABLES);
  });

  it("a table outside the configuration that references a refreshed table is named, and the group refused", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE customer_notes (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), note text)");
    const before = await snapshot(env.target);
    const report = await run();
    expect(report.status).toBe("failed");
    expect(report.tables.find((t) => t.table === "customers")!.error).toMatch(
      /customers is referenced by table\(s\) outside the configuration: public\.customer_notes \(customer_notes_customer_id_fkey\); emptying or re-syncing customers would break their rows/,
    );
    expect(await snapshot(env.target)).toEqual(before);
    // Said once, on the table it concerns; the other members point there.
    expect(report.tables.filter((t) => t.error?.includes("outside the configuration: public.customer_notes")).map((t) => t.table)).toEqual(["customers"]);
    expect(report.tables.find((t) => t.table === "regions")!.error).toBe("not refreshed: its group is refused (see customers: referenced by tables outside the configuration)");
    // Every other problem of the configuration is said in the same run, not hidden behind the refusal.
    await env.config(TABLES.map((t) => (t.name === "orders" ? { ...t, incremental_column: "last_updte" } : t)));
    const both = await run();
    expect(both.tables.find((t) => t.table === "orders")!.error).toMatch(/^incremental_column last_updte is not a column of public\.orders/);
    expect(both.tables.find((t) => t.table === "customers")!.error).toMatch(/^customers is referenced by table\(s\) outside the configuration/);
    await env.config(TABLES);
    // An admin records that UAT's notes are kept: customers is merged, and a customer gone from the source that a
    // kept note still references stays (counted), so the note is not broken.
    process.env.DATABASE_URL = env.metaUrl;
    const { decideKeepReferencing } = await import("../../server/relations");
    expect(await decideKeepReferencing(env.environment, "customers", "no_such_fkey", "public.customer_notes", "testers write notes in UAT", "ada@example.test")).toEqual({
      errors: ["public.customer_notes has no foreign key no_such_fkey into customers from outside the configuration (the target's catalog was read now)"],
    });
    // A config.yaml import naming a key the target does not have is refused with the entry's path (web and CLI).
    const { unknownKeepReferencing } = await import("../../lib/engine/validate");
    const { exportConfig } = await import("../../lib/config/store");
    const imported = await exportConfig(env.db);
    const at = imported.tables.findIndex((t) => t.name === "customers");
    imported.tables[at].keep_referencing = [{ foreign_key: "customer_notes_customer_id_fkey", table: "public.customer_notes", reason: "testers write notes in UAT" }, { foreign_key: "no_such_fkey", table: "customer_notes", reason: "testers write notes in UAT" }];
    expect(await unknownKeepReferencing(imported)).toEqual([`tables[${at}].keep_referencing[1].foreign_key: customer_notes has no foreign key no_such_fkey into customers in the target database`]);
    expect(await decideKeepReferencing(env.environment, "customers", "customer_notes_customer_id_fkey", "public.customer_notes", "testers write notes in UAT", "ada@example.test")).toEqual({ errors: [] });
    await env.target.query("INSERT INTO customer_notes VALUES (7, 2996, 'a UAT-only note')");
    await env.source.query("DELETE FROM customers WHERE id = 2996");
    const kept = await run();
    expect(kept.status, kept.tables.map((t) => t.error).join()).toBe("succeeded");
    const customers = kept.tables.find((t) => t.table === "customers")!;
    expect(customers.plan?.reason).toMatch(/merged: .*, 1 gone from the source kept \(still referenced\)/);
    // As its plan said: a merge that kept a row production deleted is not compared with production.
    expect(customers.plan?.verifies).toMatch(/; not verified if the merge keeps rows production no longer has \(UAT's rows still reference them\)$/);
    expect(customers.outcome?.verification).toBeUndefined();
    expect((await env.target.query("SELECT count(*)::int AS n FROM customer_notes")).rows[0].n).toBe(1);
    const decision = await env.db.auditEvent.findFirstOrThrow({ where: { action: "table.keep_referencing", target: "customers" } });
    expect(decision.details).toMatchObject({ before: [], after: [{ foreign_key: "customer_notes_customer_id_fkey", table: "public.customer_notes", decided_by: "ada@example.test" }] });
    expect(await decideKeepReferencing(env.environment, "customers", "customer_notes_customer_id_fkey", "public.customer_notes", null, "ada@example.test")).toEqual({ errors: [] });
    expect((await run()).status).toBe("failed");
    await env.target.query("DELETE FROM customer_notes");
    await env.source.query("INSERT INTO customers (id, region_id) VALUES (2996, 1)");

    // Configured, it joins the group and its rows refresh with it.
    await env.source.query("INSERT INTO customer_notes VALUES (1, 2, 'calls on Mondays')");
    await env.config([...TABLES, { name: "customer_notes", strategy: "simple_copy", sync_mode: "full_replace" }]);
    expect((await run()).status).toBe("succeeded");
    expect(await fingerprint(env.target, "customer_notes")).toEqual(await fingerprint(env.source, "customer_notes"));
    for (const c of [env.source, env.target]) await c.query("DROP TABLE customer_notes");
    await env.config(TABLES);
  });

  it("a single table of the group refreshes alone, keeping the rows of the configured tables that reference it", async () => {
    await env.source.query("UPDATE regions SET name = 'only regions' WHERE id = 7");
    const report = await run(["regions"]);
    expect(report.status).toBe("succeeded");
    expect(await fingerprint(env.target, "regions")).toEqual(await fingerprint(env.source, "regions"));
    expect(report.tables[0].plan?.reason).toMatch(/regions \(merged\)/);
  });
});

describe("the real schema, lived in: testers' rows, a DBA's indexes and grants, production committing out of id order, day 1 to day 3", () => {
  let env: TestEnv;
  const role = `uat_testers_${randomBytes(3).toString("hex")}`;
  const TESTER_ORDER = "9000000000000000000"; // orders.id (bigint identity): the first id of UAT's range
  // Testers' order lines are kept by rule: order_items has no generator of its own to give them UAT's range.
  const LIVED_IN = TABLES.map((t) => (t.name === "order_items" ? { ...t, keep_rows: `order_id >= ${TESTER_ORDER}` } : t));
  // Production's rows in UAT: below UAT's id range, and the lines under a tester's order (kept by rule).
  const PRODUCTIONS: Record<string, string> = { customers: "id < 2000000000", orders: `id < ${TESTER_ORDER}`, order_items: `order_id < ${TESTER_ORDER}` };
  const productions = async () => {
    const out: Record<string, Awaited<ReturnType<typeof fingerprint>>> = {};
    for (const t of TABLE_NAMES) out[t] = await fingerprint(env.target, t, { where: PRODUCTIONS[t] });
    return out;
  };
  const sources = async () => {
    const out: Record<string, Awaited<ReturnType<typeof fingerprint>>> = {};
    for (const t of TABLE_NAMES) out[t] = await fingerprint(env.source, t);
    return out;
  };

  // A sale on production: an order by production's identity, its line and its payment (numbered by the caller).
  const SALE = `WITH o AS (INSERT INTO orders (customer_id, store_id, status, ordered_at) VALUES (17, 3, 'paid', now()) RETURNING id),
    i AS (INSERT INTO order_items SELECT id, 1, 42, 1 FROM o) INSERT INTO payments SELECT $1::bigint, id, 12.5, now() FROM o`;
  let late: pg.Client; // a second production session, for the sale that commits late

  beforeAll(async () => {
    env = await createTestEnv();
    late = new pg.Client({ connectionString: env.sourceUrl });
    await late.connect();
    await env.source.query(SCHEMA);
    await env.target.query(`${TARGET_SCHEMA}; CREATE ROLE ${role}`);
    await env.source.query(DAY1);
    await env.config(LIVED_IN);
    const day1 = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(day1.tables.filter((t) => t.status !== "succeeded").map((t) => [t.table, t.error])).toEqual([]);
  });
  afterAll(async () => {
    await late?.end();
    await env?.target.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => undefined);
    await env?.close();
  });

  it("day 2 brings production's day; testers' rows, the index and grants UAT added, and UAT's id range stay", async () => {
    // Production's day; meanwhile testers work in UAT: a customer and an order by the applications' own defaults
    // (UAT's range; the order stamped by UAT's trigger after production's newest), a line under that order (kept by
    // rule), and a payment numbered by hand (max + 1, the id production took too).
    await env.source.query(DAY2);
    // Production commits out of id order: a sale's transaction takes order 8051 and payment 6021 and is still open
    // when a later sale (order 8052, payment 6022) commits and the refresh runs; it commits after (day 3).
    await late.query("BEGIN");
    await late.query(SALE, [6021]);
    await env.source.query(SALE, [6022]);
    const customer = (await env.target.query("INSERT INTO customers (region_id, email) VALUES (1, 'tester@uat.example') RETURNING id")).rows[0].id;
    expect(customer).toBe(2000000000);
    const order = (await env.target.query("INSERT INTO orders (customer_id, store_id, status, ordered_at) VALUES ($1, 1, 'new', now()) RETURNING id::text AS id", [customer])).rows[0].id;
    expect(order).toBe(TESTER_ORDER);
    await env.target.query("INSERT INTO order_items VALUES ($1, 1, 7, 3)", [order]);
    await env.target.query("INSERT INTO payments VALUES (6001, $1, 1, now())", [order]);
    // A DBA adds the indexes the testers' screens need, and gives them read access.
    await env.target.query(`CREATE INDEX uat_orders_by_status ON orders (status, ordered_at);
      CREATE INDEX uat_customers_by_email ON customers (email);
      CREATE INDEX uat_page_views_by_path ON page_views (path);
      GRANT SELECT ON customers, orders, order_items, page_views TO ${role};
      GRANT UPDATE (status) ON orders TO ${role}`);
    const catalogBefore = await catalog(env.target);

    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.tables.filter((t) => t.status !== "succeeded").map((t) => [t.table, t.error])).toEqual([]);

    // Production's rows equal production, table by table, by count and checksum; each member verified itself.
    expect(await productions()).toEqual(await sources());
    const results = await env.db.tableResult.findMany({ where: { runId: report.runId } });
    expect(results.filter((r) => !r.verified).map((r) => [r.tableName, r.verification])).toEqual([]);
    // The testers' customer, order and line stay; the hand-numbered payment gave way to production's 6001.
    expect((await env.target.query("SELECT count(*)::int AS n FROM customers WHERE id = $1", [customer])).rows[0].n).toBe(1);
    expect((await env.target.query("SELECT customer_id FROM orders WHERE id = $1", [order])).rows).toEqual([{ customer_id: customer }]);
    expect((await env.target.query("SELECT line, qty FROM order_items WHERE order_id = $1", [order])).rows).toEqual([{ line: 1, qty: 3 }]);
    expect((await env.target.query("SELECT order_id::text AS order_id FROM payments WHERE id = 6001")).rows).toEqual([{ order_id: "8001" }]);
    // The plans said so: order_items merged (its keep rule), the tester's customer kept as UAT's own, not as a
    // production row gone (which would have left customers unverified).
    const plans = Object.fromEntries(report.tables.map((t) => [t.table, t.plan?.reason ?? ""]));
    expect(plans.order_items).toContain("UAT's own rows: 1 kept by keep_rows; refreshed as one group: ");
    expect(plans.order_items).toContain(" -> order_items (merged) -> ");
    expect(plans.customers).toContain("UAT's own rows: 1 in UAT's id range replaced unless UAT's rows reference them (no rule keeps them)");
    expect(plans.customers).toMatch(/; merged: 12 updated, 50 inserted, 5 deleted, 1 of UAT's id range kept \(UAT's rows reference them\)$/);
    // The testers' order, stamped after production's newest, never moved orders' watermark past production's.
    const orders = results.find((r) => r.tableName === "orders")!;
    const stamps = async (c: pg.Client, where: string) => (await c.query(`SELECT max(last_update) AS m FROM orders WHERE ${where}`)).rows[0].m as Date;
    expect(await stamps(env.target, `id = ${TESTER_ORDER}`)).toBeInstanceOf(Date);
    expect((await stamps(env.target, `id = ${TESTER_ORDER}`)) > (await stamps(env.source, "true"))).toBe(true);
    const watermark = (await env.source.query("SELECT $1::timestamptz = max(last_update) AS same FROM orders", [orders.watermarkAfter])).rows[0].same;
    expect(watermark).toBe(true);
    // Every table and partition UAT had keeps its indexes, grants, triggers and keys as they were; April, created
    // by this refresh, has the DBA's index through page_views' own.
    const catalogAfter = await catalog(env.target);
    expect(catalogAfter.filter((t) => t.name !== "page_views_2025_04")).toEqual(catalogBefore);
    const april = catalogAfter.find((t) => t.name === "page_views_2025_04")!;
    expect(JSON.stringify(april.indexes)).toContain("USING btree (path)");
    // UAT's next rows still take UAT's ids.
    expect((await env.target.query("INSERT INTO customers (region_id) VALUES (1) RETURNING id")).rows[0].id).toBe(2000000001);
    expect((await env.target.query("INSERT INTO orders (customer_id, status, ordered_at) VALUES ($1, 'new', now()) RETURNING id::text AS id", [customer])).rows[0].id).toBe("9000000000000000001");
  });

  it("day 3: the sale production committed late arrives, below the ids and the stamp the last refresh reached", async () => {
    await late.query("COMMIT");
    const stamped = (await env.source.query("SELECT id::int AS id, last_update FROM orders WHERE id IN (8051, 8052) ORDER BY id")).rows;
    expect(stamped.map((r) => r.id)).toEqual([8051, 8052]);
    expect(stamped[0].last_update < stamped[1].last_update).toBe(true); // stamped when its transaction began
    const catalogBefore = await catalog(env.target);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.tables.filter((t) => t.status !== "succeeded").map((t) => [t.table, t.error])).toEqual([]);
    expect(await productions()).toEqual(await sources());
    expect((await env.target.query("SELECT count(*)::int AS n FROM order_items WHERE order_id = 8051")).rows[0].n).toBe(1);
    expect((await env.target.query("SELECT order_id::int AS o FROM payments WHERE id = 6021")).rows).toEqual([{ o: 8051 }]);
    // The testers' rows and the DBA's objects are still there, untouched by a second refresh.
    expect((await env.target.query(`SELECT count(*)::int AS n FROM order_items WHERE order_id >= ${TESTER_ORDER}`)).rows[0].n).toBe(1);
    expect(await catalog(env.target)).toEqual(catalogBefore);
  });
});

describe("a merged parent without a key to match rows on", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target])
      await c.query(`CREATE TABLE tags (name text NOT NULL, UNIQUE (name)); CREATE TABLE docs (id int PRIMARY KEY, tag text REFERENCES tags (name));
        CREATE TABLE loose (code text UNIQUE, label text); CREATE TABLE uses (id int PRIMARY KEY, code text REFERENCES loose (code))`);
    await env.source.query("INSERT INTO tags VALUES ('a'), ('b'); INSERT INTO docs VALUES (1, 'a'); INSERT INTO loose VALUES ('x', 'X'); INSERT INTO uses VALUES (1, 'x')");
  });
  afterAll(() => env?.close());

  it("is merged on a unique NOT NULL key; a nullable unique key is refused by the dry run already, naming the table", async () => {
    await env.config([
      { name: "tags", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "docs", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
      { name: "loose", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "uses", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
    ]);
    const dry = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun: true });
    expect(dry.tables.find((t) => t.table === "tags")?.status).toBe("succeeded");
    expect(dry.tables.find((t) => t.table === "loose")?.error).toMatch(/public\.loose must be merged \(tables that keep their rows reference it\) but has no primary key or unique NOT NULL key/);
    const real = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["tags", "docs"] });
    expect(real.status).toBe("succeeded");
    expect(await fingerprint(env.target, "docs")).toEqual(await fingerprint(env.source, "docs"));
  });
});

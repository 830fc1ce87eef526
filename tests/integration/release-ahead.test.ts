// UAT a release ahead of production, on the realistic schema (tests/fixtures/real-schema.ts) and real PostgreSQL:
// day 1 into an empty UAT; then UAT gets the next release (new columns on a merged parent, a date-window table, an
// identity-append table, a fully replaced child and the monthly-partitioned table, one of them computed), a DBA's
// index on a new column, one on the partitioned table and a grant, and testers work (their own customer and order, values in the new columns on
// production's rows); then a day of production activity, with a transaction open across the refresh while rows numbered
// and stamped after its own commit, and the next refresh; then the day that transaction commits. Production's columns
// equal production by count and checksum, UAT's columns keep UAT's values, copied rows get UAT's defaults, and UAT's
// objects stay.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { DAY1, DAY2, SCHEMA, TABLE_NAMES, TABLES, TARGET_SCHEMA } from "../fixtures/real-schema";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

/** The release UAT has and production has not yet. */
const RELEASE = `
ALTER TABLE customers ADD COLUMN loyalty_tier text NOT NULL DEFAULT 'standard', ADD COLUMN tested_by text;
ALTER TABLE orders ADD COLUMN fraud_score numeric(5, 2),
  ADD COLUMN ordered_day date GENERATED ALWAYS AS ((ordered_at AT TIME ZONE 'UTC')::date) STORED;
ALTER TABLE payments ADD COLUMN reconciled boolean NOT NULL DEFAULT false;
ALTER TABLE order_items ADD COLUMN gift_wrap boolean NOT NULL DEFAULT false;
ALTER TABLE page_views ADD COLUMN experiment text NOT NULL DEFAULT 'control';
`;

/** With the release, UAT's rules: customers a tester made (marked in the release's tested_by) stay, and so does
 *  UAT's email of a production customer. A tester's order needs no rule: its id is in UAT's range. */
const RULES = TABLES.map((t) => (t.name === "customers" ? { ...t, keep_rows: "tested_by IS NOT NULL", keep_columns: ["email"] } : t));

describe("UAT a release ahead of production, on a real schema", () => {
  let env: TestEnv;
  let admin: pg.Client;
  /** A production session whose transaction stays open across the day-2 refresh (it commits on day 3). */
  let late: pg.Client | undefined;
  const testers = `uat_testers_${randomBytes(3).toString("hex")}`;
  const run = () => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
  /** Production's columns of a table, in order (what a copy compares). */
  const productionColumns = async (table: string) =>
    (await env.source.query("SELECT column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position", [table])).rows.map((r) => r.c as string);
  /** Each table's production columns (but UAT's keep_columns), over the rows that are production's (UAT's own rows
   *  left out by `uatRows`). */
  const snapshot = async (client: pg.Client, uatRows: Record<string, string> = {}, uatColumns: Record<string, string[]> = {}) => {
    const out: Record<string, { count: number; sum: string }> = {};
    for (const t of TABLE_NAMES) {
      const columns = (await productionColumns(t)).filter((c) => !uatColumns[t]?.includes(c));
      out[t] = await fingerprint(client, t, { columns, where: uatRows[t] ? `NOT (${uatRows[t]})` : undefined });
    }
    return out;
  };
  const TESTERS_ROWS = { customers: "tested_by IS NOT NULL", orders: "customer_id >= 2000000000" };
  /** A refresh after the release: every table succeeded and verified, and production's columns over production's
   *  rows equal production by count and checksum. Left out as UAT's: the testers' rows, order 100 (a tester changed
   *  it, and UAT's trigger stamped it, production did not) and customers' email (keep_columns). */
  const runEqualToProduction = async () => {
    const report = await run();
    expect(report.tables.filter((t) => t.status !== "succeeded").map((t) => [t.table, t.error])).toEqual([]);
    const uatRows = { ...TESTERS_ROWS, orders: `${TESTERS_ROWS.orders} OR id = 100` };
    expect(await snapshot(env.target, uatRows, { customers: ["email"] })).toEqual(await snapshot(env.source, { orders: "id = 100" }, { customers: ["email"] }));
    const rows = await env.db.tableResult.findMany({ where: { runId: report.runId } });
    expect(rows.filter((r) => !r.verified).map((r) => [r.tableName, r.verification])).toEqual([]);
    return { rows };
  };

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE ${testers} NOLOGIN`);
    await env.source.query(SCHEMA);
    await env.target.query(TARGET_SCHEMA);
    await env.source.query(DAY1);
    await env.config(TABLES);
  });
  afterAll(async () => {
    await late?.end();
    await env?.close();
    await admin?.query(`DROP ROLE IF EXISTS ${testers}`);
    await admin?.end();
  });

  it("day 1: the empty UAT gets production", async () => {
    const report = await run();
    expect(report.tables.filter((t) => t.status !== "succeeded").map((t) => [t.table, t.error])).toEqual([]);
    expect(await snapshot(env.target)).toEqual(await snapshot(env.source));
    // Every table the refresh loaded has statistics at once (-1: never analysed), the incremental ones' first copies and
    // each month of the partitioned table included: UAT's first queries, and the next refresh's plan, do not wait for
    // autovacuum.
    const unanalysed = await env.target.query(
      "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.reltuples < 0 AND (c.relname = ANY ($1) OR c.relispartition) ORDER BY 1",
      [TABLE_NAMES],
    );
    expect(unanalysed.rows).toEqual([]);
  });

  it("between the refreshes: UAT's release, a DBA's index and grant, testers' rows and values", async () => {
    await env.target.query(RELEASE);
    await env.config(RULES);
    await env.target.query(`CREATE INDEX customers_loyalty_idx ON customers (loyalty_tier) WHERE loyalty_tier <> 'standard';
      GRANT SELECT, UPDATE (loyalty_tier, tested_by) ON customers TO ${testers}; GRANT SELECT ON orders, page_views TO ${testers};
      CREATE INDEX page_views_path_idx ON page_views (path)`);
    // A tester's customer and order take ids from UAT's range (the refresh moved the sequence and the identity there).
    const customer = await env.target.query("INSERT INTO customers (region_id, email, loyalty_tier, tested_by) VALUES (1, 'alice@uat.test', 'gold', 'alice') RETURNING id");
    expect(customer.rows[0].id).toBe(2000000000);
    const order = await env.target.query("INSERT INTO orders (customer_id, status, ordered_at) VALUES ($1, 'new', '2025-03-01T00:00:00Z') RETURNING id", [customer.rows[0].id]);
    expect(order.rows[0].id).toBe("9000000000000000000");
    // Testers' values in the new columns on production's rows, and UAT's own email on one production customer.
    await env.target.query("UPDATE customers SET loyalty_tier = 'gold', email = 'qa-' || id || '@uat.test' WHERE id IN (250, 500)");
    await env.target.query("UPDATE orders SET fraud_score = 0.75 WHERE id IN (7900, 7901, 100)");
    await env.target.query("UPDATE payments SET reconciled = true WHERE id <= 10");
    await env.target.query("UPDATE order_items SET gift_wrap = true WHERE order_id = 1");
    // View 1000 is in January, view 5990 in March, a month production's next day re-syncs.
    await env.target.query("UPDATE page_views SET experiment = 'b' WHERE id IN (1000, 5990)");
  });

  it("day 2: every table refreshes; production's columns equal production, UAT's columns and rows stay", async () => {
    await env.source.query(DAY2);
    // Production commits out of order: a transaction takes payment 6021, changes order 7000 (its trigger stamps the
    // transaction's start) and adds an order; while it is open another commits payment 6022 and a later order.
    late = new pg.Client({ connectionString: env.sourceUrl });
    await late.connect();
    await late.query("BEGIN");
    await late.query("INSERT INTO payments VALUES (6021, 8001, 12.5, now())");
    await late.query("UPDATE orders SET status = 'cancelled' WHERE id = 7000");
    await late.query("INSERT INTO orders (customer_id, store_id, status, ordered_at) VALUES (42, 1, 'new', now())");
    await env.source.query("INSERT INTO orders (customer_id, store_id, status, ordered_at) VALUES (43, 2, 'new', now()); INSERT INTO payments VALUES (6022, 8002, 7.25, now())");
    const dry = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun: true });
    expect(dry.tables.find((t) => t.table === "customers")!.plan?.reason).toMatch(
      /UAT has loyalty_tier \(default 'standard'::text\), tested_by \(NULL\), which production lacks: not copied; a copied row gets their defaults, a merged row keeps UAT's value/,
    );
    const { rows } = await runEqualToProduction();
    // Orders 100, 7900 and 7901 were changed in UAT (UAT's trigger stamped them): they moved neither the date window
    // nor left it. Production changed 7900 and 7901 too (its rows won, UAT's fraud_score stayed); 100 stays UAT's.
    const orders = rows.find((r) => r.tableName === "orders")!;
    expect(orders.modeReason).toContain("3 row(s) changed in UAT since the last refresh (last_update beyond");
    expect(orders.verification).toMatch(/^verified: \d+ row\(s\), counts and checksums equal \(the copied window; 1 row\(s\) UAT changed since the last refresh left out\)$/);

    const one = async (sql: string) => (await env.target.query(sql)).rows;
    // Merged rows kept UAT's values; production's changes to the same rows arrived beside them.
    expect(await one("SELECT id, loyalty_tier, email FROM customers WHERE id IN (250, 500, 2000000000) ORDER BY id")).toEqual([
      { id: 250, loyalty_tier: "gold", email: "qa-250@uat.test" },
      { id: 500, loyalty_tier: "gold", email: "qa-500@uat.test" },
      { id: 2000000000, loyalty_tier: "gold", email: "alice@uat.test" },
    ]);
    expect(await one("SELECT id::int, status, fraud_score::text FROM orders WHERE fraud_score IS NOT NULL ORDER BY id")).toEqual([
      { id: 100, status: "paid", fraud_score: "0.75" },
      { id: 7900, status: "shipped", fraud_score: "0.75" },
      { id: 7901, status: "shipped", fraud_score: "0.75" },
    ]);
    expect(await one("SELECT count(*)::int AS n FROM payments WHERE reconciled")).toEqual([{ n: 10 }]);
    // The tester's order stayed, its customer with it.
    expect(await one("SELECT id::text, customer_id FROM orders WHERE customer_id >= 2000000000")).toEqual([{ id: "9000000000000000000", customer_id: 2000000000 }]);
    // Rows copied today got UAT's defaults; a fully replaced table's rows all did (nothing merged there).
    expect(await one("SELECT count(*)::int AS n, count(*) FILTER (WHERE loyalty_tier = 'standard')::int AS standard FROM customers WHERE id > 3000 AND id < 2000000000")).toEqual([{ n: 50, standard: 50 }]);
    expect(await one("SELECT count(*)::int AS n, count(*) FILTER (WHERE NOT reconciled)::int AS open FROM payments WHERE id > 6000")).toEqual([{ n: 21, open: 21 }]);
    expect(await one("SELECT count(*) FILTER (WHERE gift_wrap)::int AS wrapped, count(*)::int AS n FROM order_items")).toEqual([{ wrapped: 0, n: (await env.source.query("SELECT count(*)::int AS n FROM order_items")).rows[0].n }]);
    // page_views: March re-synced by partition and April created; their rows have the default, the earlier months' stay.
    expect(await one("SELECT experiment, count(*)::int AS n FROM page_views WHERE viewed_at >= '2025-03-01' GROUP BY 1")).toEqual([{ experiment: "control", n: expect.any(Number) }]);
    // A month switched in is production's month: view 5990's UAT value went with March's old partition.
    expect(await one("SELECT id::int, experiment FROM page_views WHERE experiment <> 'control' ORDER BY id")).toEqual([{ id: 1000, experiment: "b" }]);
    // UAT's computed column holds UAT's computation for every row, copied or not.
    expect(await one("SELECT count(*)::int AS n FROM orders WHERE ordered_day IS DISTINCT FROM (ordered_at AT TIME ZONE 'UTC')::date")).toEqual([{ n: 0 }]);
  });

  it("day 3: what production committed late arrives: a payment below the watermark, an order's change and an order stamped before it", async () => {
    const one = async (sql: string) => (await env.target.query(sql)).rows;
    expect(await one("SELECT id::int FROM payments WHERE id IN (6021, 6022) UNION ALL SELECT id::int FROM orders WHERE id BETWEEN 8051 AND 8100 OR status = 'cancelled' ORDER BY 1")).toEqual([{ id: 6022 }, { id: 8052 }]);
    await late!.query("COMMIT");
    await runEqualToProduction();
    expect(await one("SELECT id::int, amount::text, reconciled FROM payments WHERE id IN (6021, 6022) ORDER BY id")).toEqual([
      { id: 6021, amount: "12.50", reconciled: false },
      { id: 6022, amount: "7.25", reconciled: false },
    ]);
    expect(await one("SELECT id::int, customer_id, status FROM orders WHERE id BETWEEN 8051 AND 8100 OR id = 7000 ORDER BY id")).toEqual([
      { id: 7000, customer_id: 1 + (7000 % 2990), status: "cancelled" },
      { id: 8051, customer_id: 42, status: "new" },
      { id: 8052, customer_id: 43, status: "new" },
    ]);
  });

  it("UAT's objects are as the DBA left them: the index, the grants, the triggers, the keys", async () => {
    const one = async (sql: string, params: unknown[] = []) => (await env.target.query(sql, params)).rows;
    expect(await one("SELECT indexdef FROM pg_indexes WHERE indexname = 'customers_loyalty_idx'")).toEqual([
      { indexdef: "CREATE INDEX customers_loyalty_idx ON public.customers USING btree (loyalty_tier) WHERE (loyalty_tier <> 'standard'::text)" },
    ]);
    expect(await one("SELECT indisvalid FROM pg_index WHERE indexrelid = 'customers_loyalty_idx'::regclass")).toEqual([{ indisvalid: true }]);
    // The DBA's index on the partitioned table: on every month, the switched-in March and the new April included.
    expect(
      await one(`SELECT c.relname AS month, bool_and(i.indisvalid) AS valid, count(x.inhrelid)::int AS indexes FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
        LEFT JOIN pg_inherits x ON x.inhparent = 'page_views_path_idx'::regclass AND x.inhrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = c.oid)
        LEFT JOIN pg_index i ON i.indexrelid = x.inhrelid WHERE h.inhparent = 'page_views'::regclass GROUP BY 1 ORDER BY 1`),
    ).toEqual(["2025_01", "2025_02", "2025_03", "2025_04"].map((m) => ({ month: `page_views_${m}`, valid: true, indexes: 1 })));
    expect(
      await one(
        `SELECT has_table_privilege($1, 'customers', 'SELECT') AS customers, has_column_privilege($1, 'customers', 'loyalty_tier', 'UPDATE') AS tier,
           has_column_privilege($1, 'customers', 'email', 'UPDATE') AS email, has_table_privilege($1, 'orders', 'SELECT') AS orders,
           has_table_privilege($1, 'page_views', 'SELECT') AS views`,
        [testers],
      ),
    ).toEqual([{ customers: true, tier: true, email: false, orders: true, views: true }]);
    expect(await one("SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")).toEqual([
      { tgname: "customers_stamp", tgenabled: "O" },
      { tgname: "orders_audit", tgenabled: "O" },
      { tgname: "orders_stamp", tgenabled: "O" },
    ]);
    expect(await one("SELECT count(*)::int AS n, bool_and(convalidated) AS valid FROM pg_constraint WHERE contype = 'f'")).toEqual([{ n: 16, valid: true }]);
    // The columns of UAT's release are all there, with their defaults.
    expect(await one("SELECT table_name, column_name, column_default FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('loyalty_tier', 'reconciled', 'gift_wrap') ORDER BY 1")).toEqual([
      { table_name: "customers", column_name: "loyalty_tier", column_default: "'standard'::text" },
      { table_name: "order_items", column_name: "gift_wrap", column_default: "false" },
      { table_name: "payments", column_name: "reconciled", column_default: "false" },
    ]);
  });

  it("a next production insert takes its id; a tester's next row still takes UAT's", async () => {
    const customer = await env.target.query("INSERT INTO customers (region_id, tested_by) VALUES (1, 'bob') RETURNING id");
    expect(customer.rows[0].id).toBe(2000000001);
    await env.target.query("DELETE FROM customers WHERE tested_by = 'bob'");
  });
});

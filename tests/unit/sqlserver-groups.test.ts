// Refresh groups on SQL Server executed, not only parsed: the real planning (planUnits), plans (simple_copy) and
// group executor (executeGroup) with the SQL Server dialect, against tests/support/sqlserver-db-model.ts, which
// enforces what SQL Server does with foreign keys (TRUNCATE refused on a referenced table, statement-end checks,
// NOCHECK / WITH CHECK CHECK and trust), IDENTITY_INSERT and rollback under XACT_ABORT.
import { describe, expect, it } from "vitest";
import { settingsSchema, type TableConfigInput } from "../../lib/config/schema";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { sqlServerDialect } from "../../lib/dialects/sqlserver";
import { truncateOrDelete } from "../../lib/dialects/sqlserver/compiler";
import type { ColumnInfo, TypeFamily } from "../../lib/dialects/types";
import { resolveTable } from "../../lib/engine/context";
import { executeGroup, type GroupMember } from "../../lib/engine/group-refresh";
import { ProgressTracker } from "../../lib/engine/progress";
import { planUnits } from "../../lib/engine/run-units";
import { simpleCopy } from "../../lib/engine/strategies/simple-copy";
import { annotatePlan } from "../../lib/engine/uat-report";
import { databaseSession, SqlServerDatabase, type KeyDef, type TableDef } from "../support/sqlserver-db-model";
import { SqlError } from "../support/sqlserver-model";
import { tsqlErrors } from "../support/tsql-check";

registerBuiltInDialects();

const TABLES: TableDef[] = [
  { name: "customers", columns: [{ name: "id", type: "int", identity: true }, { name: "name", type: "nvarchar(100)" }, { name: "referred_by", type: "int", nullable: true }], primaryKey: ["id"] },
  { name: "orders", columns: [{ name: "id", type: "int", identity: true }, { name: "customer_id", type: "int" }, { name: "total", type: "decimal(12,2)" }], primaryKey: ["id"], triggers: ["trg_orders_audit"] },
  { name: "order_lines", columns: [{ name: "order_id", type: "int" }, { name: "line", type: "int" }, { name: "qty", type: "int" }], primaryKey: ["order_id", "line"] },
];
const KEYS: KeyDef[] = [
  { name: "fk_customers_referrer", table: "customers", columns: ["referred_by"], references: "customers", referencedColumns: ["id"] },
  { name: "fk_orders_customer", table: "orders", columns: ["customer_id"], references: "customers", referencedColumns: ["id"] },
  { name: "fk_lines_order", table: "order_lines", columns: ["order_id"], references: "orders", referencedColumns: ["id"] },
];

const replace = (name: string): TableConfigInput => ({ name, schema: "dbo", strategy: "simple_copy", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true });
const appendById = (name: string): TableConfigInput => ({ ...replace(name), sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", batch_size: 1000 });

function production() {
  const db = new SqlServerDatabase(TABLES);
  // Customer 2 was referred by customer 5, a later row: the self-reference points forwards.
  db.insert("customers", [
    { id: 1, name: "Ada", referred_by: null },
    { id: 2, name: "Grace", referred_by: 5 },
    { id: 3, name: "Edsger", referred_by: 1 },
    { id: 4, name: "Barbara", referred_by: null },
    { id: 5, name: "Donald", referred_by: 1 },
  ]);
  db.insert("orders", [10, 11, 12, 13, 14].map((id, i) => ({ id, customer_id: (i % 5) + 1, total: `${id}.50` })));
  db.insert("order_lines", [10, 10, 11, 12, 13, 14].map((order_id, i) => ({ order_id, line: i, qty: i + 1 })));
  return db;
}

/** UAT: the same tables and keys, with rows of its own. */
function uat() {
  const db = new SqlServerDatabase(TABLES, KEYS);
  db.insert("customers", [{ id: 1, name: "old", referred_by: null }, { id: 9, name: "tester", referred_by: 1 }]);
  db.insert("orders", [{ id: 90, customer_id: 9, total: "1.00" }]);
  db.insert("order_lines", [{ order_id: 90, line: 1, qty: 1 }]);
  return db;
}

async function refreshGroup(source: SqlServerDatabase, target: SqlServerDatabase, configs: TableConfigInput[], maxRetries = 0) {
  // A session reopened after a failure is a new one (its predecessor may have a request still in flight).
  const sessions = {
    source: databaseSession(source, "source"),
    target: databaseSession(target, "target"),
    async reopen(which: "source" | "target") {
      sessions[which] = databaseSession(which === "source" ? source : target, which);
    },
  };
  const settings = settingsSchema.parse({ max_retries: maxRetries });
  const units = await planUnits(configs, configs, sessions.target, sqlServerDialect);
  const unit = units.find((u) => u.kind === "group");
  if (!unit || unit.kind !== "group") throw new Error("expected one refresh group");
  expect(unit.unit.refused).toBeUndefined();
  const members: GroupMember[] = [];
  for (const member of unit.unit.group.members) {
    const config = configs.find((c) => c.name === member.name)!;
    const ctx = await resolveTable(config, settings, sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", config.name));
    members.push({ member, ctx, plan: await simpleCopy.plan(ctx) });
  }
  return { group: unit.unit.group, results: await executeGroup(unit.unit.group, members, unit.unit.referencing) };
}

const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort()))).sort();
const expectSameRows = (a: SqlServerDatabase, b: SqlServerDatabase, table: string) => expect(sorted(b.rows(table)), table).toEqual(sorted(a.rows(table)));
const expectKeysTrusted = (db: SqlServerDatabase) => expect(db.keys.map((k) => [k.name, k.checked, k.trusted])).toEqual(KEYS.map((k) => [k.name, true, true]));
const at = (db: SqlServerDatabase, sql: string) => db.statements.indexOf(sql);

describe("refresh groups executed against a modelled SQL Server database", () => {
  it("day 1 and day 2: children emptied first (DELETE where referenced), parents loaded first, the self-reference re-validated, every table equal to production", async () => {
    const prod = production();
    const target = uat();
    const configs = ["customers", "orders", "order_lines"].map(replace);
    const { group } = await refreshGroup(prod, target, configs);
    expect(group.members.map((m) => m.name)).toEqual(["customers", "orders", "order_lines"]);
    for (const t of ["customers", "orders", "order_lines"]) expectSameRows(prod, target, t);
    expectKeysTrusted(target);
    // TRUNCATE only for the table nothing references; children first, parents loaded first.
    const empty = ["TRUNCATE TABLE [dbo].[order_lines]", "DELETE FROM [dbo].[orders]", "DELETE FROM [dbo].[customers]"].map((s) => at(target, s));
    expect(at(target, truncateOrDelete({ schema: "dbo", name: "order_lines" }).sql)).toBeLessThan(empty[0]);
    expect(empty.every((i) => i >= 0) && empty[0] < empty[1] && empty[1] < empty[2]).toBe(true);
    const loads = ["customers", "orders", "order_lines"].map((t) => at(target, `INSERT BULK [dbo].[${t}]`));
    expect(loads[0] > empty[2] && loads[0] < loads[1] && loads[1] < loads[2]).toBe(true);
    expect(at(target, "ALTER TABLE [dbo].[customers] NOCHECK CONSTRAINT [fk_customers_referrer]")).toBeLessThan(loads[0]);
    expect(at(target, "ALTER TABLE [dbo].[customers] WITH CHECK CHECK CONSTRAINT [fk_customers_referrer]")).toBeGreaterThan(loads[2]);
    // UAT's trigger did not fire during the load and is enabled again; identities moved past the copied values.
    expect(at(target, "DISABLE TRIGGER [dbo].[trg_orders_audit] ON [dbo].[orders]")).toBeLessThan(loads[1]);
    expect(target.table("orders").triggers.get("trg_orders_audit")).toBe(true);
    // The identity went past the copied values into UAT's own range (int: from 2,000,000,000): a tester's next
    // order takes 2,000,000,000, never an id production will use.
    expect(target.table("orders").identityCurrent).toBe(1_999_999_999);
    expect(target.statements).toContain("DBCC CHECKIDENT ('[dbo].[orders]', RESEED, 1999999999) WITH NO_INFOMSGS");
    expect(target.statements).toContain("DBCC CHECKIDENT ('[dbo].[customers]', RESEED, 1999999999) WITH NO_INFOMSGS");
    expect(target.insertDefault("orders", { customer_id: 1, total: "1.00" })).toBe(2_000_000_000);
    target.table("orders").rows.pop();
    expect(target.statements.filter((s) => !s.startsWith("INSERT BULK") && !s.startsWith("DBCC CHECKIDENT ('")).map((s) => ({ s, e: tsqlErrors(s) })).filter((x) => x.e.length)).toEqual([]);

    // Day 2: deletes, updates and inserts on every level.
    prod.table("order_lines").rows = prod.rows("order_lines").filter((r) => r.order_id !== 12);
    prod.table("orders").rows = prod.rows("orders").filter((r) => r.id !== 12);
    prod.table("customers").rows = prod.rows("customers").filter((r) => r.id !== 3);
    prod.rows("customers")[0].name = "Ada L.";
    prod.insert("customers", [{ id: 6, name: "Frances", referred_by: 2 }]);
    prod.insert("orders", [{ id: 15, customer_id: 6, total: "99.99" }]);
    prod.insert("order_lines", [{ order_id: 15, line: 1, qty: 3 }]);
    await refreshGroup(prod, target, configs);
    for (const t of ["customers", "orders", "order_lines"]) expectSameRows(prod, target, t);
    expectKeysTrusted(target);
  });

  it("a connection lost at any one statement the group sends to UAT: the retry leaves every table equal to production, every key trusted", async () => {
    const configs = ["customers", "orders", "order_lines"].map(replace);
    const clean = uat();
    await refreshGroup(production(), clean, configs);
    for (let i = 0; i < clean.statements.length; i++) {
      const [prod, target] = [production(), uat()];
      target.lostAt = i;
      const lost = `lost at ${clean.statements[i].slice(0, 70)}`;
      await expect(refreshGroup(prod, target, configs, 1), lost).resolves.toBeDefined();
      for (const t of ["customers", "orders", "order_lines"]) expect(sorted(target.rows(t)), `${t}, ${lost}`).toEqual(sorted(prod.rows(t)));
      expectKeysTrusted(target);
      expect(target.table("orders").triggers.get("trg_orders_audit"), lost).toBe(true);
      expect(target.insertDefault("orders", { customer_id: 1, total: "1.00" }), lost).toBe(2_000_000_000);
    }
  });

  it("a parent whose children keep their rows is merged: updated, inserted (IDENTITY_INSERT), deleted unless still referenced", async () => {
    const prod = production();
    const target = uat();
    // UAT holds production's customers and orders of yesterday.
    target.table("order_lines").rows = [];
    target.table("orders").rows = [];
    target.table("customers").rows = [];
    target.insert("customers", prod.rows("customers"));
    target.insert("orders", prod.rows("orders"));
    // Today production renamed Ada, deleted Grace (2, who has order 11 in UAT) and Barbara (4, order 13), added 7;
    // orders 13 was deleted with Barbara, 15 is new.
    prod.rows("customers")[0].name = "Ada L.";
    prod.table("orders").rows = prod.rows("orders").filter((r) => r.id !== 13);
    prod.table("order_lines").rows = prod.rows("order_lines").filter((r) => r.order_id !== 13);
    prod.table("customers").rows = prod.rows("customers").filter((r) => r.id !== 2 && r.id !== 4).map((r) => (r.referred_by === 2 ? { ...r, referred_by: null } : r));
    prod.insert("customers", [{ id: 7, name: "Margaret", referred_by: null }]);
    prod.insert("orders", [{ id: 15, customer_id: 7, total: "7.00" }]);
    // A tester's customer and order in UAT's id range (the int key's default range starts at 2,000,000,000).
    const tester = { id: 2000000000, name: "Tester", referred_by: null };
    target.insert("customers", [tester]);
    target.insert("orders", [{ id: 2000000000, customer_id: 2000000000, total: "1.00" }]);

    const { group, results } = await refreshGroup(prod, target, [replace("customers"), appendById("orders")]);
    expect([...group.merged]).toEqual(["customers"]);
    // Orders are appended (15), and kept: 11 (Grace's) and 13 (Barbara's) stay in UAT, so Grace and Barbara stay;
    // the tester's customer stays under the tester's order, counted as UAT's own (production's rows still verify).
    expect(results.get("customers")?.merge).toEqual({ updated: 1, inserted: 1, deleted: 0, kept: 2, keptOfUat: 1 });
    expect(sorted(target.rows("customers"))).toEqual(sorted([...prod.rows("customers"), production().rows("customers")[1], production().rows("customers")[3], tester]));
    expect(target.rows("orders").map((r) => r.id).sort()).toEqual([10, 11, 12, 13, 14, 15, 2000000000]);
    expect(target.statements.some((s) => s.startsWith("SET IDENTITY_INSERT [dbo].[customers] ON;"))).toBe(true);
    expect(target.tables.has("[dbo].[customers__uat_merge]")).toBe(false);
    expectKeysTrusted(target);
  });

  it("a key the source's rows break fails the group and leaves every table as it was", async () => {
    const prod = production();
    const target = uat();
    const before = JSON.stringify([...target.tables.values()].map((t) => t.rows));
    prod.insert("orders", [{ id: 16, customer_id: 99, total: "1.00" }]);
    await expect(refreshGroup(prod, target, ["customers", "orders", "order_lines"].map(replace))).rejects.toThrow(/FOREIGN KEY constraint "fk_orders_customer"/);
    expect(JSON.stringify([...target.tables.values()].map((t) => t.rows))).toBe(before);
    expectKeysTrusted(target);

    // A broken self-reference is found by the check before the commit, named with its row count.
    const prod2 = production();
    prod2.rows("customers")[3].referred_by = 42;
    await expect(refreshGroup(prod2, target, ["customers", "orders", "order_lines"].map(replace))).rejects.toThrow(/foreign key fk_customers_referrer of dbo\.customers \(referred_by\) -> dbo\.customers: 1 row\(s\) reference a missing row/);
    expect(JSON.stringify([...target.tables.values()].map((t) => t.rows))).toBe(before);
    expectKeysTrusted(target);
  });

  it("a table a UAT key references only while disabled is DELETEd, never TRUNCATEd (Msg 4712 counts disabled keys too)", async () => {
    const defs: TableDef[] = [
      { name: "products", columns: [{ name: "id", type: "int", identity: true }, { name: "name", type: "nvarchar(100)" }], primaryKey: ["id"] },
      { name: "uat_notes", columns: [{ name: "id", type: "int" }, { name: "product_id", type: "int" }], primaryKey: ["id"] },
    ];
    const prod = new SqlServerDatabase(defs);
    prod.insert("products", [{ id: 1, name: "kettle" }, { id: 2, name: "toaster" }]);
    // UAT's own notes table, its key to products disabled by a DBA (NOCHECK): the catalog lists it as disabled, so
    // the group logic never sees it, but TRUNCATE TABLE still refuses the table it references.
    const uatDb = new SqlServerDatabase(defs, [{ name: "fk_notes_product", table: "uat_notes", columns: ["product_id"], references: "products", referencedColumns: ["id"] }]);
    uatDb.insert("products", [{ id: 1, name: "old kettle" }]);
    uatDb.insert("uat_notes", [{ id: 1, product_id: 1 }]);
    uatDb.run("ALTER TABLE [dbo].[uat_notes] NOCHECK CONSTRAINT [fk_notes_product]");
    expect(() => uatDb.run("TRUNCATE TABLE [dbo].[products]")).toThrow(expect.objectContaining({ number: 4712 }) as SqlError);

    const before = uatDb.statements.length;
    const sessions = { source: databaseSession(prod, "source"), target: databaseSession(uatDb, "target"), async reopen() {} };
    const ctx = await resolveTable(replace("products"), settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", "products"));
    await simpleCopy.execute(ctx, await simpleCopy.plan(ctx));
    expect(sorted(uatDb.rows("products"))).toEqual(sorted(prod.rows("products")));
    const sent = uatDb.statements.slice(before);
    expect(sent).toContain("DELETE FROM [dbo].[products]");
    expect(sent).not.toContain("TRUNCATE TABLE [dbo].[products]");
  });

  it("a parent merged on a natural key never updates its identity column (Msg 8102) and compares xml as text (Msg 421)", async () => {
    const defs: TableDef[] = [
      { name: "accounts", columns: [{ name: "code", type: "nvarchar(20)" }, { name: "id", type: "int", identity: true }, { name: "profile", type: "xml", nullable: true }], primaryKey: ["code"] },
      { name: "logins", columns: [{ name: "id", type: "int", identity: true }, { name: "account_code", type: "nvarchar(20)" }], primaryKey: ["id"] },
    ];
    const keys: KeyDef[] = [{ name: "fk_logins_account", table: "logins", columns: ["account_code"], references: "accounts", referencedColumns: ["code"] }];
    const prod = new SqlServerDatabase(defs, keys);
    prod.insert("accounts", [{ code: "a", id: 1, profile: "<p>1</p>" }, { code: "b", id: 2, profile: "<p>2</p>" }]);
    prod.insert("logins", [{ id: 1, account_code: "a" }]);
    // UAT: account a under another identity value and an old profile; a tester's account t with a login of its own
    // (in UAT's id range), which keeps t and makes accounts a merge.
    const uatDb = new SqlServerDatabase(defs, keys);
    uatDb.insert("accounts", [{ code: "a", id: 5, profile: "<p>old</p>" }, { code: "t", id: 7, profile: null }]);
    uatDb.insert("logins", [{ id: 2_000_000_000, account_code: "t" }]);

    const { group, results } = await refreshGroup(prod, uatDb, [replace("accounts"), appendById("logins")]);
    expect([...group.merged]).toEqual(["accounts"]);
    expect(results.get("accounts")?.merge).toMatchObject({ updated: 1, inserted: 1, deleted: 0 });
    expect(sorted(uatDb.rows("accounts"))).toEqual(sorted([{ code: "a", id: 5, profile: "<p>1</p>" }, { code: "t", id: 7, profile: null }, { code: "b", id: 2, profile: "<p>2</p>" }]));
    const update = uatDb.statements.find((s) => s.startsWith("UPDATE t SET"))!;
    expect(update).toMatch(/^UPDATE t SET \[profile\] = s\.\[profile\] FROM/);
    expect(update).toContain("EXISTS (SELECT CONVERT(nvarchar(max), t.[profile]) EXCEPT SELECT CONVERT(nvarchar(max), s.[profile]))");
    expect(tsqlErrors(update)).toEqual([]);
  });

  it("a UAT table SQL Server will not TRUNCATE (tracked by change data capture, published, system-versioned, in an indexed view, an updatable ledger table) is emptied by DELETE, and the group succeeds", async () => {
    // Microsoft Learn, TRUNCATE TABLE, Restrictions (Msgs 4711, 13545, 3729), and "Ledger considerations and
    // limitations" ("TRUNCATE TABLE isn't supported"): before, only a referencing key led to DELETE, and every full
    // replace of such a table failed with the server's refusal.
    for (const refusal of [{ published: "change data capture" }, { published: "merge replication" }, { systemVersioned: true }, { indexedView: "dbo.v_line_totals" }, { ledger: "updatable" }] as const) {
      const prod = production();
      const target = new SqlServerDatabase(
        TABLES.map((t) => (t.name === "order_lines" ? { ...t, ...refusal } : t)),
        KEYS,
      );
      expect(() => target.run("TRUNCATE TABLE [dbo].[order_lines]")).toThrow(expect.objectContaining({ number: expect.any(Number) }) as SqlError);
      target.insert("order_lines", [{ order_id: 90, line: 1, qty: 1 }]);
      const before = target.statements.length;
      await refreshGroup(prod, target, ["customers", "orders", "order_lines"].map(replace));
      for (const t of ["customers", "orders", "order_lines"]) expectSameRows(prod, target, t);
      const sent = target.statements.slice(before);
      expect(sent, JSON.stringify(refusal)).toContain("DELETE FROM [dbo].[order_lines]");
      expect(sent).not.toContain("TRUNCATE TABLE [dbo].[order_lines]");
    }
    // A table with none of these is still truncated.
    const plain = uat();
    await refreshGroup(production(), plain, ["customers", "orders", "order_lines"].map(replace));
    expect(plain.statements).toContain("TRUNCATE TABLE [dbo].[order_lines]");
    expect(tsqlErrors(truncateOrDelete({ schema: "dbo", name: "order_lines" }).sql)).toEqual([]);
  });

  it("the model refuses what SQL Server refuses (so the tests above can fail)", async () => {
    const target = uat();
    expect(() => target.run("TRUNCATE TABLE [dbo].[orders]")).toThrow(expect.objectContaining({ number: 4712 }) as SqlError);
    expect(() => target.run("DELETE FROM [dbo].[customers]")).toThrow(expect.objectContaining({ number: 547 }) as SqlError);
    target.run("SELECT TOP (0) [id], [name], [referred_by] INTO [dbo].[stg] FROM [dbo].[customers] UNION ALL SELECT TOP (0) [id], [name], [referred_by] FROM [dbo].[customers]");
    target.insert("stg", [{ id: 50, name: "x", referred_by: null }]);
    expect(() => target.run("INSERT INTO [dbo].[customers] ([id], [name], [referred_by]) SELECT s.[id], s.[name], s.[referred_by] FROM [dbo].[stg] AS s WHERE NOT EXISTS (SELECT 1 FROM [dbo].[customers] AS t WHERE t.[id] = s.[id]);\nSELECT CAST(@@ROWCOUNT AS nvarchar(20)) AS [n];")).toThrow(
      expect.objectContaining({ number: 544 }) as SqlError,
    );
    target.run("ALTER TABLE [dbo].[orders] NOCHECK CONSTRAINT [fk_orders_customer]");
    target.insert("orders", [{ id: 91, customer_id: 77, total: "1.00" }]);
    expect(() => target.run("ALTER TABLE [dbo].[orders] WITH CHECK CHECK CONSTRAINT [fk_orders_customer]")).toThrow(expect.objectContaining({ number: 547 }) as SqlError);
    expect(target.key("fk_orders_customer").trusted).toBe(false);
    // An identity column updated (8102); an xml column compared by EXCEPT (421).
    const accounts = new SqlServerDatabase([
      { name: "a", columns: [{ name: "code", type: "int" }, { name: "id", type: "int", identity: true }, { name: "doc", type: "xml", nullable: true }], primaryKey: ["code"] },
      { name: "s", columns: [{ name: "code", type: "int" }, { name: "id", type: "int" }, { name: "doc", type: "xml", nullable: true }], primaryKey: ["code"] },
    ]);
    const merge = (set: string, t: string, s: string) => `UPDATE t SET ${set} FROM [dbo].[a] AS t JOIN [dbo].[s] AS s ON t.[code] = s.[code] WHERE EXISTS (SELECT ${t} EXCEPT SELECT ${s});\nSELECT CAST(@@ROWCOUNT AS nvarchar(20)) AS [n];`;
    expect(() => accounts.run(merge("[id] = s.[id]", "t.[id]", "s.[id]"))).toThrow(expect.objectContaining({ number: 8102 }) as SqlError);
    expect(() => accounts.run(merge("[doc] = s.[doc]", "t.[doc]", "s.[doc]"))).toThrow(expect.objectContaining({ number: 421 }) as SqlError);
    expect(accounts.run(merge("[doc] = s.[doc]", "CONVERT(nvarchar(max), t.[doc])", "CONVERT(nvarchar(max), s.[doc])"))).toEqual([{ n: "0" }]);
  });
});

describe("identity mode's watched gaps against a modelled SQL Server database", () => {
  const TICKETS: TableDef[] = [{ name: "tickets", columns: [{ name: "id", type: "int", identity: true }, { name: "note", type: "nvarchar(20)" }], primaryKey: ["id"] }];
  const rows = (ids: number[], note: string) => ids.map((id) => ({ id, note }));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it("asks again for the ids UAT lacked when the floor passed them, with the ones a row arrived in taken out: the late row arrives", async () => {
    // Production: 1..161, ticket 11 committed late. UAT: everything copied but 11; ticket 3 arrived in a gap an
    // earlier run watched, (2, 4).
    const source = new SqlServerDatabase(TICKETS);
    source.insert("tickets", [...rows([...range(1, 10), ...range(12, 161)], "early"), ...rows([11], "late")]);
    const target = new SqlServerDatabase(TICKETS);
    target.insert("tickets", rows([...range(1, 10), ...range(12, 161)], "early"));
    const sessions = { source: databaseSession(source, "source"), target: databaseSession(target, "target"), async reopen() {} };
    const config: TableConfigInput = { name: "tickets", schema: "dbo", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", identity_buffer: 5, truncate_target: false, fire_triggers: false, enabled: true };
    const ctx = await resolveTable(config, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", "tickets"));
    // What the last run recorded (lib/engine/id-gaps): its floor was 5, and it watched (2, 4).
    ctx.recordedGaps = { column: "id", upTo: "5", gaps: [{ after: "2", before: "4", since: new Date().toISOString() }] };
    const plan = await simpleCopy.plan(ctx);
    expect(plan.reason).toContain("re-reading ids above 156 (identity_buffer 5 below the watermark 161) and loading them by key; asking again for 1 id range(s) below that UAT lacked when earlier refreshes passed them (11; each for 7 days)");
    expect(ctx.gapWatch).toMatchObject({ column: "id", upTo: "156", gaps: [{ after: "10", before: "12" }] });
    const outcome = await simpleCopy.execute(ctx, plan);
    expect(outcome.verification).toMatchObject({ ok: true, rows: 6 });
    expect(target.rows("tickets").find((r) => r.id === 11)).toEqual({ id: 11, note: "late" });
    expect(sorted(target.rows("tickets"))).toEqual(sorted(source.rows("tickets")));
  });

  it("a connection lost at any one statement the pages send to UAT: every row arrives once, counted once", async () => {
    const config: TableConfigInput = { name: "tickets", schema: "dbo", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", identity_buffer: 5, batch_size: 20, truncate_target: false, fire_triggers: false, enabled: true };
    const refresh = async (lostAt?: number) => {
      const source = new SqlServerDatabase(TICKETS);
      source.insert("tickets", rows(range(1, 60), "production"));
      const target = new SqlServerDatabase(TICKETS);
      target.insert("tickets", rows(range(1, 10), "production"));
      target.lostAt = lostAt;
      const sessions = {
        source: databaseSession(source, "source"),
        target: databaseSession(target, "target"),
        async reopen(which: "source" | "target") {
          sessions[which] = databaseSession(which === "source" ? source : target, which);
        },
      };
      const ctx = await resolveTable(config, settingsSchema.parse({ max_retries: 1 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", "tickets"));
      const plan = await simpleCopy.plan(ctx);
      const planned = target.statements.length;
      return { source, target, ctx, planned, outcome: await simpleCopy.execute(ctx, plan) };
    };
    const clean = await refresh();
    expect(clean.outcome.rowsWritten).toBe(50);
    // From the first statement of the load (the plan is not retried: a failure there fails the table, nothing written).
    for (let i = clean.planned; i < clean.target.statements.length; i++) {
      const lost = `lost at ${clean.target.statements[i].slice(0, 70)}`;
      const { source, target, ctx, outcome } = await refresh(i);
      expect(sorted(target.rows("tickets")), lost).toEqual(sorted(source.rows("tickets")));
      expect(outcome.verification?.ok, lost).toBe(true);
      expect([outcome.rowsWritten, ctx.progress.committed], lost).toEqual([50, 50]);
    }
  });
});

describe("the day bands' key sums against a modelled SQL Server database", () => {
  it("sum a decimal key at its own scale: a late 19.25 beside a deleted 19.00 in one band differs (rounded to scale 0, both are 19)", async () => {
    const PLACED: TableDef[] = [{ name: "placed", columns: [{ name: "ref", type: "decimal(10,2)" }, { name: "day", type: "int" }], primaryKey: ["ref"] }];
    const [production, uat] = [new SqlServerDatabase(PLACED), new SqlServerDatabase(PLACED)];
    production.insert("placed", [{ ref: "7.00", day: 3 }, { ref: "19.25", day: 5 }]);
    uat.insert("placed", [{ ref: "7.00", day: 3 }, { ref: "19.00", day: 5 }]);
    const column = (name: string, nativeType: string, family: TypeFamily): ColumnInfo => ({ name, nativeType, family, nullable: false, identity: false, generated: false });
    const bands = sqlServerDialect.compiler.bandCounts({ schema: "dbo", name: "placed" }, column("day", "int", "integer"), ["0", "10"], undefined, [column("ref", "decimal(10,2)", "decimal")]);
    const [p, u] = await Promise.all([databaseSession(production, "source").query(bands), databaseSession(uat, "target").query(bands)]);
    expect([p, u]).toEqual([[{ n0: "2", s0: "26.25" }], [{ n0: "2", s0: "26.00" }]]);
  });
});

describe("a full replace's row figure against a modelled SQL Server database", () => {
  it("takes production's rows from the row count its storage keeps (sys.partitions), never scanning production to count them: the copy reads every row anyway", async () => {
    const source = production();
    const target = new SqlServerDatabase(TABLES);
    const sessions = { source: databaseSession(source, "source"), target: databaseSession(target, "target"), async reopen() {} };
    const ctx = await resolveTable(replace("order_lines"), settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", "order_lines"));
    const plan = await simpleCopy.plan(ctx);
    expect(plan).toMatchObject({ rowsExpected: 6, rowsEstimated: true });
    expect(source.statements.filter((s) => s.includes("FROM sys.partitions"))).toHaveLength(1);
    expect(source.statements.filter((s) => s.includes("COUNT_BIG"))).toEqual([]);
  });
});

describe("a memory-optimized table against a modelled SQL Server database", () => {
  // Microsoft Learn, "Transactions with memory-optimized tables": a memory-optimized table cannot be accessed when the
  // session's isolation level is SNAPSHOT (Msg 41332), which the source's read uses; in an explicit transaction it is
  // written only under WITH (SNAPSHOT) or MEMORY_OPTIMIZED_ELEVATE_TO_SNAPSHOT (Msg 41368).
  const memoryOptimized = (def: TableDef): TableDef => (def.name === "order_lines" ? { ...def, memoryOptimized: true } : def);
  for (const side of ["production", "UAT"] as const)
    it(`is refused by name when ${side}'s is one, by the plan, before a row of it is read or written`, async () => {
      const source = side === "production" ? new SqlServerDatabase(TABLES.map(memoryOptimized)) : production();
      const target = new SqlServerDatabase(side === "UAT" ? TABLES.map(memoryOptimized) : TABLES);
      const sessions = { source: databaseSession(source, "source"), target: databaseSession(target, "target"), async reopen() {} };
      const plan = resolveTable(replace("order_lines"), settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", "order_lines"));
      await expect(plan).rejects.toThrow(`dbo.order_lines in ${side} cannot be refreshed: it is memory-optimized (In-Memory OLTP), which refreshes do not support yet`);
      await expect(plan).rejects.toThrow("(Msg 41332)");
      for (const db of [source, target]) expect(db.statements.filter((s) => /\[order_lines\]/.test(s))).toEqual([]);
    });
});

/** order_lines resolved for a full replace between two modelled databases. */
const resolveLines = (source: SqlServerDatabase, target: SqlServerDatabase) =>
  resolveTable(replace("order_lines"), settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, { source: databaseSession(source, "source"), target: databaseSession(target, "target"), async reopen() {} }, new ProgressTracker(() => {}, "run", "order_lines"));

/** Production's order_lines, of a kind SQL Server treats apart (`as`), copied into UAT's plain one and verified. */
async function copiedFromProduction(as: (def: TableDef) => TableDef) {
  const source = new SqlServerDatabase(TABLES.map(as));
  source.insert("order_lines", production().rows("order_lines"));
  // UAT's order_lines references its orders (loaded in place, where the model runs the statements).
  const target = new SqlServerDatabase(TABLES, KEYS);
  for (const parent of ["customers", "orders"]) target.insert(parent, production().rows(parent));
  const ctx = await resolveLines(source, target);
  const outcome = await simpleCopy.execute(ctx, await simpleCopy.plan(ctx));
  expect(outcome.verification).toMatchObject({ ok: true, rows: 6 });
  expectSameRows(source, target, "order_lines");
}

describe("ledger tables against a modelled SQL Server database", () => {
  // Microsoft Learn, "Append-only ledger tables": they "allow only INSERT operations" (UPDATE and DELETE: Msg 37359).
  // "Updatable ledger tables": every row an UPDATE or DELETE removes stays in the ledger history table. "Ledger
  // considerations and limitations": no TRUNCATE TABLE, no SWITCH IN / OUT partition.
  const ledger = (kind: "updatable" | "append-only") => (def: TableDef): TableDef => (def.name === "order_lines" ? { ...def, ledger: kind } : def);
  const resolve = resolveLines;

  it("an append-only one as UAT's table is refused by name by the plan, before a row of it is read or written", async () => {
    const source = production();
    const target = new SqlServerDatabase(TABLES.map(ledger("append-only")));
    await expect(resolve(source, target)).rejects.toThrow("dbo.order_lines in UAT cannot be refreshed: it is an append-only ledger table: SQL Server takes only INSERTs into it");
    for (const db of [source, target]) expect(db.statements.filter((s) => /\[order_lines\]/.test(s))).toEqual([]);
  });

  it("an updatable one: the plan says its ledger history keeps every row the refresh deletes or updates", async () => {
    const ctx = await resolve(production(), new SqlServerDatabase(TABLES.map(ledger("updatable"))));
    const plan = await simpleCopy.plan(ctx);
    await annotatePlan(ctx, plan);
    expect(plan.reason).toContain("UAT's table is an updatable ledger table: SQL Server keeps every row this refresh deletes or updates in its ledger history, which nothing can remove");
  });

  it("an updatable one's history table as UAT's table is refused by name by the plan, before a row of it is read or written", async () => {
    // "Ledger considerations and limitations": deleting data in the history table of an updatable ledger table isn't supported.
    const source = production();
    const target = new SqlServerDatabase(TABLES.map((def) => (def.name === "order_lines" ? { ...def, ledgerHistoryOf: "dbo.order_lines_current" } : def)));
    await expect(resolve(source, target)).rejects.toThrow("dbo.order_lines in UAT cannot be refreshed: it is the history table of an updatable ledger table (dbo.order_lines_current): SQL Server lets no one delete its rows or truncate it");
    for (const db of [source, target]) expect(db.statements.filter((s) => /\[order_lines\]/.test(s))).toEqual([]);
  });

  it("as production's table is read like any other", () => copiedFromProduction(ledger("append-only")));

  it("is written in the model only as the server allows it (so the tests above can fail)", () => {
    const appendOnly = new SqlServerDatabase(TABLES.map(ledger("append-only")));
    appendOnly.insert("order_lines", [{ order_id: 1, line: 1, qty: 1 }]);
    expect(() => appendOnly.run("DELETE FROM [dbo].[order_lines]")).toThrow(expect.objectContaining({ number: 37359 }) as SqlError);
    expect(() => appendOnly.run("TRUNCATE TABLE [dbo].[order_lines]")).toThrow("Updates are not allowed for the append only Ledger table 'dbo.order_lines'.");
    const updatable = new SqlServerDatabase(TABLES.map(ledger("updatable")));
    expect(() => updatable.run("TRUNCATE TABLE [dbo].[order_lines]")).toThrow(expect.objectContaining({ number: 13545 }) as SqlError);
    updatable.run("DELETE FROM [dbo].[order_lines]");
    const history = new SqlServerDatabase(TABLES.map((def) => (def.name === "order_lines" ? { ...def, ledgerHistoryOf: "dbo.order_lines_current" } : def)));
    expect(() => history.run("DELETE FROM [dbo].[order_lines]")).toThrow("the history table of the updatable ledger table");
    expect(() => history.run("TRUNCATE TABLE [dbo].[order_lines]")).toThrow("the history table of the updatable ledger table");
  });
});

describe("temporal tables against a modelled SQL Server database", () => {
  // Microsoft Learn, "Temporal table security": while SYSTEM_VERSIONING is ON, "users can't alter history data,
  // regardless of their actual permissions" (Msgs 13559 insert, 13560 delete, 13561 update). "Modify data in a
  // system-versioned temporal table": an UPDATE or DELETE moves the previous version of each row into the history.
  const history = (def: TableDef): TableDef => (def.name === "order_lines" ? { ...def, historyOf: "dbo.order_lines_current" } : def);
  const resolve = resolveLines;

  it("as UAT's table is refused by name by the plan, before a row of it is read or written", async () => {
    const source = production();
    const target = new SqlServerDatabase(TABLES.map(history));
    await expect(resolve(source, target)).rejects.toThrow("dbo.order_lines in UAT cannot be refreshed: it is the history table of a system-versioned table (dbo.order_lines_current)");
    for (const db of [source, target]) expect(db.statements.filter((s) => /\[order_lines\]/.test(s))).toEqual([]);
  });

  it("a system-versioned UAT table: the plan says its history keeps every row the refresh deletes or updates", async () => {
    const versioned = (def: TableDef): TableDef => (def.name === "order_lines" ? { ...def, systemVersioned: true } : def);
    const source = production();
    const lines = TABLES.find((t) => t.name === "order_lines")!;
    const ctx = await resolve(source, new SqlServerDatabase([...TABLES.map(versioned), { ...lines, name: "order_lines_history", historyOf: "dbo.order_lines" }]));
    const plan = await simpleCopy.plan(ctx);
    await annotatePlan(ctx, plan);
    expect(plan.reason).toContain("UAT's table is system-versioned: SQL Server keeps every row this refresh deletes or updates in its history table dbo.order_lines_history (a full replace: the whole table, each time)");
    const plain = await resolve(source, new SqlServerDatabase(TABLES));
    const plainPlan = await simpleCopy.plan(plain);
    await annotatePlan(plain, plainPlan);
    expect(plainPlan.reason).not.toContain("system-versioned");
  });

  it("as production's table is read like any other", () => copiedFromProduction(history));

  it("is written by no one in the model either, as the server refuses it", () => {
    const db = new SqlServerDatabase(TABLES.map(history));
    expect(() => db.run("DELETE FROM [dbo].[order_lines]")).toThrow(/13560|Cannot delete rows from a temporal history table/);
    expect(() => db.bulkLoad("[dbo].[order_lines]", ["id"], [[1]])).toThrow("Cannot insert rows in a temporal history table");
    expect(() => db.run("TRUNCATE TABLE [dbo].[order_lines]")).toThrow("not a supported operation on system-versioned tables");
  });
});

// The SQL Server statements of refresh groups (lib/dialects/sqlserver/relations.ts and the introspector's catalog
// reads): valid T-SQL by the grammar, and the documented behaviour they rely on, pinned statement by statement.
import { describe, expect, it } from "vitest";
import type { ForeignKey, RowFilter } from "../../lib/dialects/types";
import { SQL } from "../../lib/dialects/sqlserver/introspector";
import { sqlServerRelations as r } from "../../lib/dialects/sqlserver/relations";
import { tsqlErrors } from "../support/tsql-check";

const orders = { schema: "sales", name: "orders" };
const items = { schema: "sales", name: "order]items" };
const key: ForeignKey = { name: "fk_items_orders", table: items, columns: ["order_id", "shop_id"], referenced: orders, referencedColumns: ["id", "shop_id"] };
const window: RowFilter = { kind: "atLeast", column: { name: "updated_at", nativeType: "datetime2(3)", family: "datetime", nullable: false, identity: false, generated: false }, value: "2025-03-01 00:00:00.000" };

describe("SQL Server refresh-group statements", () => {
  it("parse as T-SQL", () => {
    const stmts = [
      ...r.emptyTables([items, orders], true, [key]).map((q) => q.sql),
      ...r.emptyTables([items, orders], false, [key]).map((q) => q.sql),
      r.suspendForeignKey(key).sql,
      r.foreignKeyViolations(key).sql,
      r.restoreForeignKey(key).sql,
      ...r.setTriggersEnabled(orders, ["trg_stamp", "trg]odd"], false).map((q) => q.sql),
      ...r.setTriggersEnabled(orders, ["trg_stamp"], true).map((q) => q.sql),
      r.resyncSequence(orders, "order_no", { schema: "sales", name: "order_no_seq" }).sql,
      r.analyze(orders).sql,
      ...r.createMergeStaging(orders, r.mergeStaging(orders)).map((q) => q.sql),
      r.dropMergeStaging(r.mergeStaging(orders)).sql,
      SQL.foreignKeys,
      SQL.triggers,
      SQL.sequences,
      SQL.privileges,
    ];
    for (const identity of [false, true])
      for (const scope of [undefined, window]) {
        const m = r.mergeFromStaging(orders, r.mergeStaging(orders), ["id"], ["id", "shop_id", "status", "updated_at"], [key], identity, scope);
        stmts.push(m.update.sql, m.insert.sql, m.delete.sql, m.kept.sql);
      }
    const bad = stmts.map((sql) => ({ sql, errors: tsqlErrors(sql) })).filter((x) => x.errors.length);
    expect(bad).toEqual([]);
  });

  it("TRUNCATE only where no foreign key references the table (SQL Server refuses it even for a disabled key)", () => {
    expect(r.emptyTables([items, orders], true, [key]).map((q) => q.sql)).toEqual(["TRUNCATE TABLE [sales].[order]]items]", "DELETE FROM [sales].[orders]"]);
  });

  it("suspends with NOCHECK and restores WITH CHECK CHECK, which validates every row and trusts the key again", () => {
    expect(r.suspendForeignKey(key).sql).toBe("ALTER TABLE [sales].[order]]items] NOCHECK CONSTRAINT [fk_items_orders]");
    expect(r.restoreForeignKey(key).sql).toBe("ALTER TABLE [sales].[order]]items] WITH CHECK CHECK CONSTRAINT [fk_items_orders]");
    // MATCH SIMPLE, as SQL Server checks a key: a row with any NULL key column references nothing.
    expect(r.foreignKeyViolations(key).sql).toMatch(/WHERE c\.\[order_id\] IS NOT NULL AND c\.\[shop_id\] IS NOT NULL\s+AND NOT EXISTS \(SELECT 1 FROM \[sales\]\.\[orders\] AS p WHERE p\.\[id\] = c\.\[order_id\] AND p\.\[shop_id\] = c\.\[shop_id\]\)/);
  });

  it("merges NULL-safely, inserts identity values explicitly, keeps rows still referenced, and passes the window as a parameter", () => {
    const m = r.mergeFromStaging(orders, r.mergeStaging(orders), ["id"], ["id", "status"], [key], true, window);
    expect(m.update.sql).toContain("WHERE EXISTS (SELECT t.[status] EXCEPT SELECT s.[status])");
    expect(m.insert.sql).toMatch(/^SET IDENTITY_INSERT \[sales\]\.\[orders\] ON;\nINSERT INTO/);
    expect(m.insert.sql).toContain("SET IDENTITY_INSERT [sales].[orders] OFF;");
    expect(m.delete.sql).toContain("AND t.[updated_at] >= CONVERT(datetime2(3), @p1, 126)");
    expect(m.delete.sql).toContain("AND NOT (EXISTS (SELECT 1 FROM [sales].[order]]items] AS c WHERE c.[order_id] = t.[id] AND c.[shop_id] = t.[shop_id]))");
    expect(m.delete.params).toEqual(["2025-03-01T00:00:00.000"]);
    expect(r.createMergeStaging(orders, r.mergeStaging(orders))[0].sql).toBe("SELECT TOP (0) * INTO [sales].[orders__uat_merge] FROM [sales].[orders] UNION ALL SELECT TOP (0) * FROM [sales].[orders]");
  });

  it("moves a sequence only forwards, with the name as a parameter", () => {
    const q = r.resyncSequence(orders, "order_no", { schema: "sales", name: "order_no_seq" });
    expect(q.params).toEqual(["[sales].[order_no_seq]"]);
    expect(q.sql).toContain("IF @m IS NOT NULL AND @m >= @cur");
  });
});

describe("the T-SQL checker's constraint forms", () => {
  it("accepts Microsoft's documented forms and refuses broken ones", () => {
    for (const sql of ["ALTER TABLE [s].[t] NOCHECK CONSTRAINT [fk]", "ALTER TABLE [s].[t] WITH CHECK CHECK CONSTRAINT [fk]", "ALTER TABLE [s].[t] NOCHECK CONSTRAINT ALL"]) expect(tsqlErrors(sql), sql).toEqual([]);
    for (const sql of ["ALTER TABLE [s].[t] WITH CHECK NOCHECK CHECK CONSTRAINT [fk]", "ALTER TABLE [s].[t] NOCHECK CONSTRAINT [fk"]) expect(tsqlErrors(sql).length, sql).toBeGreaterThan(0);
  });
});

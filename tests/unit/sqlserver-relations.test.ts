// The SQL Server statements of refresh groups (lib/dialects/sqlserver/relations.ts and the introspector's catalog
// reads): valid T-SQL by the grammar, and the documented behaviour they rely on, pinned statement by statement.
import { describe, expect, it } from "vitest";
import type { ColumnInfo, ForeignKey, Partitioning, RowFilter } from "../../lib/dialects/types";
import { sqlServerCompiler } from "../../lib/dialects/sqlserver/compiler";
import { sqlServerPartitions } from "../../lib/dialects/sqlserver/partitions";
import { SQL, sqlServerIntrospector } from "../../lib/dialects/sqlserver/introspector";
import { sqlServerRelations as r } from "../../lib/dialects/sqlserver/relations";
import { tsqlErrors } from "../support/tsql-check";

const orders = { schema: "sales", name: "orders" };
const items = { schema: "sales", name: "order]items" };
const key: ForeignKey = { name: "fk_items_orders", table: items, columns: ["order_id", "shop_id"], referenced: orders, referencedColumns: ["id", "shop_id"] };
const keyColumn = (name: string, nativeType: string, family: ColumnInfo["family"]): ColumnInfo => ({ name, nativeType, family, nullable: false, identity: false, generated: false });
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
      r.resyncSequence(orders, "order_no", { schema: "sales", name: "order_no_seq" }, "2000000000").sql,
      r.analyze(orders).sql,
      ...r.createMergeStaging(orders, r.mergeStaging(orders), ["id", "status"]).map((q) => q.sql),
      r.dropMergeStaging(r.mergeStaging(orders)).sql,
      SQL.foreignKeys,
      SQL.triggers,
      SQL.sequences,
      SQL.privileges(["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "ALTER", "CREATE", "SEQUENCE"]),
      SQL.privileges(["SELECT"]),
      SQL.checks,
      r.stagedRowsPresent(orders, r.mergeStaging(orders), ["id", "shop_id"]).sql,
      ...Object.values(r.collectUnstagedKeys(orders, r.mergeStaging(orders), r.askedKeysTable(orders), [keyColumn("id", "int", "integer"), keyColumn("shop_id", "nvarchar(20)", "text")], window)).map((q) => q.sql),
      r.keysPage(r.askedKeysTable(orders), 2, 2000, 4000).sql,
      sqlServerCompiler.keyValues(orders, [keyColumn("id", "int", "integer"), keyColumn("placed", "datetime2(7)", "datetime")], {
        kind: "any",
        filters: [{ kind: "all", filters: [{ kind: "equals", column: keyColumn("id", "int", "integer"), value: "7" }, { kind: "equals", column: keyColumn("placed", "datetime2(7)", "datetime"), value: "2025-01-15 00:00:00.0000000" }] }],
      }).sql,
    ];
    for (const identity of [false, true])
      for (const scope of [undefined, window]) {
        const m = r.mergeFromStaging(orders, r.mergeStaging(orders), { key: ["id"], columns: ["id", "shop_id", "status", "updated_at"], keepers: [key], identity, scope, keep: "[status] = N'tester'" });
        stmts.push(m.update.sql, m.insert.sql, m.delete.sql, m.gone.sql);
      }
    const bad = stmts.map((sql) => ({ sql, errors: tsqlErrors(sql) })).filter((x) => x.errors.length);
    expect(bad).toEqual([]);
  });

  it("TRUNCATE only where SQL Server allows it: no foreign key references the table (even a disabled one), no indexed view, no replication or change data capture, no system versioning", () => {
    // A key the group knows means DELETE; otherwise the server decides from its catalog: sys.foreign_keys lists
    // disabled keys too (the introspector reads enabled ones only), and TRUNCATE TABLE refuses any referencing key
    // (Msg 4712) as it refuses the rest (Microsoft Learn, TRUNCATE TABLE, Restrictions; executed in the db model).
    const [first, second] = r.emptyTables([items, orders], true, [key]);
    expect(first).toEqual({
      sql:
        "IF EXISTS (SELECT 1 FROM sys.foreign_keys WHERE referenced_object_id = OBJECT_ID(@p1) AND parent_object_id <> referenced_object_id)" +
        " OR EXISTS (SELECT 1 FROM sys.sql_expression_dependencies AS d JOIN sys.indexes AS i ON i.object_id = d.referencing_id WHERE d.referenced_id = OBJECT_ID(@p1) AND OBJECTPROPERTY(d.referencing_id, 'IsView') = 1)" +
        " OR EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(@p1) AND (is_replicated = 1 OR is_merge_published = 1 OR is_tracked_by_cdc = 1 OR temporal_type = 2))" +
        " OR EXISTS (SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(@p1) AND generated_always_type BETWEEN 7 AND 10)" +
        " DELETE FROM [sales].[order]]items] ELSE TRUNCATE TABLE [sales].[order]]items]",
      params: ["[sales].[order]]items]"],
    });
    expect(second.sql).toBe("DELETE FROM [sales].[orders]");
    expect(tsqlErrors(first.sql)).toEqual([]);
  });

  it("suspends with NOCHECK and restores WITH CHECK CHECK, which validates every row and trusts the key again", () => {
    expect(r.suspendForeignKey(key).sql).toBe("ALTER TABLE [sales].[order]]items] NOCHECK CONSTRAINT [fk_items_orders]");
    expect(r.restoreForeignKey(key).sql).toBe("ALTER TABLE [sales].[order]]items] WITH CHECK CHECK CONSTRAINT [fk_items_orders]");
    // MATCH SIMPLE, as SQL Server checks a key: a row with any NULL key column references nothing.
    expect(r.foreignKeyViolations(key).sql).toMatch(/WHERE c\.\[order_id\] IS NOT NULL AND c\.\[shop_id\] IS NOT NULL\s+AND NOT EXISTS \(SELECT 1 FROM \[sales\]\.\[orders\] AS p WHERE p\.\[id\] = c\.\[order_id\] AND p\.\[shop_id\] = c\.\[shop_id\]\)/);
  });

  it("merges NULL-safely, inserts identity values explicitly, keeps rows still referenced, and passes the window as a parameter", () => {
    const m = r.mergeFromStaging(orders, r.mergeStaging(orders), { key: ["id"], columns: ["id", "status"], keepers: [key], identity: true, scope: window, keep: "[status] = N'tester'" });
    expect(m.update.sql).toContain("WHERE EXISTS (SELECT t.[status] EXCEPT SELECT s.[status])");
    expect(m.insert.sql).toMatch(/^SET IDENTITY_INSERT \[sales\]\.\[orders\] ON;\nINSERT INTO/);
    expect(m.insert.sql).toContain("SET IDENTITY_INSERT [sales].[orders] OFF;");
    expect(m.delete.sql).toContain("AND t.[updated_at] >= CONVERT(datetime2(3), @p1, 126)");
    // each keeper one anti-join (no EXISTS inside an OR), and the keep rule's rows never deleted
    expect(m.delete.sql).toContain("AND NOT EXISTS (SELECT 1 FROM [sales].[order]]items] AS c WHERE c.[order_id] = t.[id] AND c.[shop_id] = t.[shop_id])");
    expect(m.delete.sql).toContain("AND CASE WHEN ([status] = N'tester') THEN 1 ELSE 0 END = 0");
    expect(m.delete.params).toEqual(["2025-03-01T00:00:00.000"]);
    // The loaded columns only: a column the load does not fill (UAT's PERSISTED NOT NULL computed one) stays out.
    expect(r.createMergeStaging(orders, r.mergeStaging(orders), ["id", "odd]name"])[0].sql).toBe(
      "SELECT TOP (0) [id], [odd]]name] INTO [sales].[orders__uat_merge] FROM [sales].[orders] UNION ALL SELECT TOP (0) [id], [odd]]name] FROM [sales].[orders]",
    );
  });

  it("moves a sequence only forwards, with the name as a parameter", () => {
    const q = r.resyncSequence(orders, "order_no", { schema: "sales", name: "order_no_seq" }, "2000000000");
    expect(q.params).toEqual(["[sales].[order_no_seq]", "2000000000"]);
    expect(q.sql).toContain("IF @f IS NOT NULL AND @f <= @max AND (@m IS NULL OR @f > @m) SET @m = @f;");
    expect(q.sql).toContain("IF @m IS NOT NULL AND @m > @cur");
  });
});

describe("the T-SQL checker's constraint forms", () => {
  it("accepts Microsoft's documented forms and refuses broken ones", () => {
    for (const sql of ["ALTER TABLE [s].[t] NOCHECK CONSTRAINT [fk]", "ALTER TABLE [s].[t] WITH CHECK CHECK CONSTRAINT [fk]", "ALTER TABLE [s].[t] NOCHECK CONSTRAINT ALL"]) expect(tsqlErrors(sql), sql).toEqual([]);
    for (const sql of ["ALTER TABLE [s].[t] WITH CHECK NOCHECK CHECK CONSTRAINT [fk]", "ALTER TABLE [s].[t] NOCHECK CONSTRAINT [fk"]) expect(tsqlErrors(sql).length, sql).toBeGreaterThan(0);
  });
});

describe("the staging twin of a SQL Server partition switch", () => {
  // Catalog rows as sys.columns / sys.indexes / sys.check_constraints give them for a table that uses every
  // property SWITCH compares: collations, a persisted computed column, an identity with its own seed and step, a
  // rowversion, a clustered key with a DESC column, an index with INCLUDE columns, a filtered unique index, a CHECK.
  const catalog = (sql: string): unknown[] => {
    if (sql === SQL.columns)
      return [
        { name: "id", type: "bigint", declaredType: "bigint", clr: false, maxLength: 8, precision: 19, scale: 0, nullable: false, identity: true, computed: false, identitySeed: "1000", identityIncrement: "5" },
        { name: "day", type: "int", declaredType: "int", clr: false, maxLength: 4, precision: 10, scale: 0, nullable: false, identity: false, computed: false },
        { name: "code", type: "varchar", declaredType: "varchar", clr: false, maxLength: 20, precision: 0, scale: 0, nullable: false, identity: false, computed: false, collation: "Latin1_General_100_CS_AS" },
        { name: "status", type: "nvarchar", declaredType: "nvarchar", clr: false, maxLength: 40, precision: 0, scale: 0, nullable: true, identity: false, computed: false, collation: "SQL_Latin1_General_CP1_CI_AS" },
        { name: "amount", type: "decimal", declaredType: "decimal", clr: false, maxLength: 9, precision: 18, scale: 2, nullable: true, identity: false, computed: false },
        { name: "amount_x2", type: "decimal", declaredType: "decimal", clr: false, maxLength: 9, precision: 19, scale: 2, nullable: true, identity: false, computed: true, computedDefinition: "([amount]*(2))", persisted: true },
        { name: "rv", type: "timestamp", declaredType: "timestamp", clr: false, maxLength: 8, precision: 0, scale: 0, nullable: false, identity: false, computed: false },
      ];
    if (sql === SQL.indexes)
      return [
        { index: "pk_orders", unique: true, primaryKey: true, type: 1, column: "day", descending: false, included: false, filter: null },
        { index: "pk_orders", unique: true, primaryKey: true, type: 1, column: "id", descending: true, included: false, filter: null },
        { index: "ix_status", unique: false, primaryKey: false, type: 2, column: "status", descending: false, included: false, filter: null },
        { index: "ix_status", unique: false, primaryKey: false, type: 2, column: "amount", descending: false, included: true, filter: null },
        { index: "ix_status", unique: false, primaryKey: false, type: 2, column: "code", descending: false, included: true, filter: null },
        { index: "ux_open_code", unique: true, primaryKey: false, type: 2, column: "code", descending: false, included: false, filter: "([status]=N'open')" },
      ];
    if (sql === SQL.checks) return [{ name: "ck_amount", definition: "([amount]>=(0))" }];
    return [];
  };
  const introspector = sqlServerIntrospector(async <R>(sql: string) => catalog(sql) as R[]);
  const table = { schema: "dbo", name: "orders" };

  it("reproduces every column, index and CHECK property, and is valid T-SQL", async () => {
    const shape = { columns: await introspector.columns(table), indexes: await introspector.indexes(table), checks: await introspector.checks!(table) };
    const p: Partitioning = {
      column: "day",
      columnType: shape.columns[1],
      partitions: [
        { name: "1", number: 1, lower: null, upper: "20250101", isDefault: false, filegroup: "FG1" },
        { name: "2", number: 2, lower: "20250101", upper: "20250102", isDefault: false, filegroup: "FG2" },
        { name: "3", number: 3, lower: "20250102", upper: null, isDefault: false, filegroup: "FG3" },
      ],
      functionName: "pf_orders",
      schemeName: "ps_orders",
      rangeRight: true,
    };
    const staging = { schema: "dbo", name: "orders_stg_20250101" };
    const retired = { schema: "dbo", name: "orders_old_20250101" };
    const create = sqlServerPartitions.createStaging(table, staging, retired, p, 20250101, shape).map((q) => q.sql);
    const prepare = sqlServerPartitions.prepareStaging(table, staging, shape.indexes, p, 20250101).map((q) => q.sql);
    expect(create[0]).toBe(
      "CREATE TABLE [dbo].[orders_stg_20250101] ([id] bigint IDENTITY(1000, 5) NOT NULL, [day] int NOT NULL, [code] varchar(20) COLLATE Latin1_General_100_CS_AS NOT NULL, " +
        "[status] nvarchar(20) COLLATE SQL_Latin1_General_CP1_CI_AS NULL, [amount] decimal(18,2) NULL, [amount_x2] AS ([amount]*(2)) PERSISTED, [rv] timestamp NOT NULL) ON [FG2]",
    );
    expect(create).toContain("ALTER TABLE [dbo].[orders_stg_20250101] ADD CONSTRAINT [ck_orders_stg_20250101_1] CHECK ([amount]>=(0))");
    expect(prepare).toContain("ALTER TABLE [dbo].[orders_stg_20250101] ADD CONSTRAINT [pk_orders_stg_20250101] PRIMARY KEY CLUSTERED ([day] ASC, [id] DESC)");
    expect(prepare).toContain("CREATE NONCLUSTERED INDEX [ix_status] ON [dbo].[orders_stg_20250101] ([status] ASC) INCLUDE ([amount], [code])");
    expect(prepare).toContain("CREATE UNIQUE NONCLUSTERED INDEX [ux_open_code] ON [dbo].[orders_stg_20250101] ([code] ASC) WHERE ([status]=N'open')");
    // The empty twin the old partition is switched out into has the same columns and indexes.
    expect(create.some((s) => s.startsWith("CREATE TABLE [dbo].[orders_old_20250101] ([id] bigint IDENTITY(1000, 5) NOT NULL"))).toBe(true);
    expect(create).toContain("CREATE NONCLUSTERED INDEX [ix_status] ON [dbo].[orders_old_20250101] ([status] ASC) INCLUDE ([amount], [code])");
    const bad = [...create, ...prepare].filter((s) => !s.startsWith("EXEC sys.sp_addextendedproperty")).map((sql) => ({ sql, errors: tsqlErrors(sql) })).filter((x) => x.errors.length);
    expect(bad).toEqual([]);
  });

  it("a filtered unique index is never taken for a key to merge on", async () => {
    const indexes = await introspector.indexes(table);
    expect(indexes.find((i) => i.name === "ux_open_code")).toMatchObject({ unique: true, filter: "([status]=N'open')", columns: ["code"] });
  });
});

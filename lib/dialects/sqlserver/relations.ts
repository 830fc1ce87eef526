// SQL Server (T-SQL) statements of a refresh group (tables related by foreign keys, refreshed in one transaction)
// and of merging a parent whose children keep their rows. Names are bracket-quoted catalog names; values are
// parameters. Behaviour relied on, from Microsoft's documentation:
// - TRUNCATE TABLE is refused for a table referenced by any FOREIGN KEY (disabled or not): such tables are DELETEd.
// - ALTER TABLE ... NOCHECK CONSTRAINT stops checking a key; WITH CHECK CHECK CONSTRAINT validates every row and
//   marks the key trusted again (is_not_trusted = 0).
// - SELECT ... INTO from a UNION ALL creates a table without the IDENTITY property. The merge staging table is a
//   plain table in the target's schema (bulk loads address it like any table), created and dropped inside the
//   group's transaction: a rollback or a kill leaves none behind.
import { whereClause } from "../filters";
import type { ForeignKey, RelationsCompiler, RowFilter, TableRef } from "../types";
import { keyText, paramText, scopeParam, truncateOrDelete } from "./compiler";
import { qualified, quoteIdent } from "./compiler";

const cols = (names: string[], alias?: string) => names.map((n) => (alias ? `${alias}.${quoteIdent(n)}` : quoteIdent(n))).join(", ");
const joinOn = (a: string, b: string, left: string[], right: string[]) => left.map((c, i) => `${a}.${quoteIdent(c)} = ${b}.${quoteIdent(right[i])}`).join(" AND ");
const count = (sql: string) => `${sql};\nSELECT CAST(@@ROWCOUNT AS nvarchar(20)) AS [n];`;
const referenced = (t: { schema: string; name: string }, keys: ForeignKey[]) =>
  keys.some((k) => k.referenced.schema.toLowerCase() === t.schema.toLowerCase() && k.referenced.name.toLowerCase() === t.name.toLowerCase());


/** A column expression EXCEPT / DISTINCT can compare: xml and ntext as nvarchar(max), text as varchar(max), image,
 *  geography and geometry as varbinary(max) (hierarchyid is comparable as it is). */
export function comparableAs(expr: string, nativeType: string | undefined): string {
  const t = (nativeType ?? "").toLowerCase();
  if (t === "xml" || t === "ntext") return `CONVERT(nvarchar(max), ${expr})`;
  if (t === "text") return `CONVERT(varchar(max), ${expr})`;
  if (t === "image" || t === "geography" || t === "geometry") return `CONVERT(varbinary(max), ${expr})`;
  return expr;
}

/** The condition on a target row `t` that `staging` has no row of its key and it lies inside `scope`: the rows a merge
 *  finds gone from the source. */
function unstaged(staging: TableRef, key: string[], scope: RowFilter | undefined): { sql: string; params: string[] } {
  const inScope = whereClause(scope, (c) => `t.${quoteIdent(c)}`, scopeParam, paramText);
  return { sql: `NOT EXISTS (SELECT 1 FROM ${qualified(staging)} AS s WHERE ${joinOn("t", "s", key, key)})${inScope.where.replace(/^ WHERE /, " AND ")}`, params: inScope.params };
}

export const sqlServerRelations: RelationsCompiler = {
  emptyTables(tables, truncate, keys) {
    // Keys of the group are known here; a key the catalog reports disabled (not in `keys`) is the server's to see.
    return tables.map((t) => (truncate && !referenced(t, keys) ? truncateOrDelete(t) : { sql: `DELETE FROM ${qualified(t)}`, params: [] }));
  },
  suspendForeignKey(fk) {
    return { sql: `ALTER TABLE ${qualified(fk.table)} NOCHECK CONSTRAINT ${quoteIdent(fk.name)}`, params: [] };
  },
  foreignKeyViolations(fk) {
    const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(" AND ");
    return {
      sql: `SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [n] FROM ${qualified(fk.table)} AS c WHERE ${notNull}
            AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.referenced)} AS p WHERE ${joinOn("p", "c", fk.referencedColumns, fk.columns)})`,
      params: [],
    };
  },
  restoreForeignKey(fk) {
    return { sql: `ALTER TABLE ${qualified(fk.table)} WITH CHECK CHECK CONSTRAINT ${quoteIdent(fk.name)}`, params: [] };
  },
  setTriggersEnabled(table, triggers, enabled) {
    return triggers.map((t) => ({ sql: `${enabled ? "ENABLE" : "DISABLE"} TRIGGER ${quoteIdent(table.schema)}.${quoteIdent(t)} ON ${qualified(table)}`, params: [] }));
  },
  resyncSequence(table, column, sequence, floor) {
    // ALTER SEQUENCE takes no variables: the statement is built in T-SQL from the quoted name (a parameter) and a
    // number the server computed: past the column's max, and at UAT's floor when one is kept and the sequence's
    // maximum allows it. Only forwards: a sequence already past both stays.
    return {
      sql: `DECLARE @m decimal(38, 0) = (SELECT CAST(MAX(${quoteIdent(column)}) AS decimal(38, 0)) + 1 FROM ${qualified(table)});
            DECLARE @cur decimal(38, 0), @max decimal(38, 0);
            SELECT @cur = CAST(current_value AS decimal(38, 0)), @max = CAST(maximum_value AS decimal(38, 0)) FROM sys.sequences WHERE object_id = OBJECT_ID(@p1);
            DECLARE @f decimal(38, 0) = CAST(@p2 AS decimal(38, 0));
            IF @f IS NOT NULL AND @f <= @max AND (@m IS NULL OR @f > @m) SET @m = @f;
            IF @m IS NOT NULL AND @m > @cur
            BEGIN
              DECLARE @s nvarchar(max) = N'ALTER SEQUENCE ' + @p1 + N' RESTART WITH ' + CAST(@m AS nvarchar(40));
              EXEC sp_executesql @s;
            END`,
      params: [qualified(sequence), floor],
    };
  },
  analyze(table) {
    return { sql: `UPDATE STATISTICS ${qualified(table)}`, params: [] };
  },
  mergeStaging(table) {
    return { schema: table.schema, name: `${table.name.slice(0, 100)}__uat_merge` };
  },
  createMergeStaging(table, staging, columns) {
    // UNION ALL: the new table takes no IDENTITY property. Not *: a PERSISTED NOT NULL computed column, or a period
    // column, would become a NOT NULL column the load does not fill.
    const t = qualified(table);
    const list = cols(columns);
    return [{ sql: `SELECT TOP (0) ${list} INTO ${qualified(staging)} FROM ${t} UNION ALL SELECT TOP (0) ${list} FROM ${t}`, params: [] }];
  },
  mergeFromStaging(table, staging, { key, columns, update, keepers, identity, scope, keep, types = {} }) {
    const t = qualified(table);
    const s = qualified(staging);
    const other = update ?? columns.filter((c) => !key.includes(c));
    const match = joinOn("t", "s", key, key);
    const { sql: gone, params: scopeParams } = unstaged(staging, key, scope);
    // Each keeper an anti-join of its own: SQL Server hashes each child's keys once (EXISTS inside OR is probed per row).
    const unreferenced = keepers.map((fk) => ` AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.table)} AS c WHERE ${joinOn("c", "t", fk.columns, fk.referencedColumns)})`).join("");
    const unkept = keep ? ` AND CASE WHEN (${keep}) THEN 1 ELSE 0 END = 0` : "";
    // EXCEPT compares NULLs as equal: the documented NULL-safe "row differs" test. Types EXCEPT cannot compare (Msg
    // 421: xml, text, ntext, image; CLR types) are compared as the text or bytes they convert to.
    const comparable = (alias: string) => other.map((c) => comparableAs(`${alias}.${quoteIdent(c)}`, types[c])).join(", ");
    const differs = `EXISTS (SELECT ${comparable("t")} EXCEPT SELECT ${comparable("s")})`;
    const insert = `INSERT INTO ${t} (${cols(columns)}) SELECT ${cols(columns, "s")} FROM ${s} AS s WHERE NOT EXISTS (SELECT 1 FROM ${t} AS t WHERE ${match})`;
    return {
      update: {
        sql: other.length ? count(`UPDATE t SET ${other.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(", ")} FROM ${t} AS t JOIN ${s} AS s ON ${match} WHERE ${differs}`) : `SELECT N'0' AS [n]`,
        params: [],
      },
      insert: {
        sql: identity
          ? `SET IDENTITY_INSERT ${t} ON;\n${insert};\nDECLARE @n int = @@ROWCOUNT;\nSET IDENTITY_INSERT ${t} OFF;\nSELECT CAST(@n AS nvarchar(20)) AS [n];`
          : count(insert),
        params: [],
      },
      delete: { sql: count(`DELETE t FROM ${t} AS t WHERE ${gone}${unreferenced}${unkept}`), params: scopeParams },
      gone: { sql: `SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [n] FROM ${t} AS t WHERE ${gone}${unkept}`, params: scopeParams },
    };
  },
  insertFromStaging(table, staging, columns, identity) {
    const t = qualified(table);
    const insert = `INSERT INTO ${t} (${cols(columns)}) SELECT ${cols(columns)} FROM ${qualified(staging)}`;
    return { sql: identity ? `SET IDENTITY_INSERT ${t} ON;\n${insert};\nSET IDENTITY_INSERT ${t} OFF;` : insert, params: [] };
  },
  stagedRowsPresent(table, staging, key) {
    return { sql: `SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [n] FROM ${qualified(staging)} AS s WHERE EXISTS (SELECT 1 FROM ${qualified(table)} AS t WHERE ${joinOn("t", "s", key, key)})`, params: [] };
  },
  askedKeysTable(table) {
    return { schema: table.schema, name: `${table.name.slice(0, 100)}__uat_asked` };
  },
  collectUnstagedKeys(table, staging, asked, key, scope) {
    const { sql, params } = unstaged(staging, key.map((c) => c.name), scope);
    const keys = key.map((c, i) => `${keyText(`t.${quoteIdent(c.name)}`, c)} AS [k${i}]`).join(", ");
    const notNull = key.map((c) => ` AND t.${quoteIdent(c.name)} IS NOT NULL`).join("");
    return {
      collect: { sql: `SELECT CAST(ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS bigint) AS [rn], ${keys} INTO ${qualified(asked)} FROM ${qualified(table)} AS t WHERE ${sql}${notNull}`, params },
      index: { sql: `CREATE UNIQUE CLUSTERED INDEX [rn] ON ${qualified(asked)} ([rn])`, params: [] },
    };
  },
  keysPage(asked, columns, after, upTo) {
    const keys = Array.from({ length: columns }, (_, i) => `[k${i}]`).join(", ");
    return { sql: `SELECT ${keys} FROM ${qualified(asked)} WHERE [rn] > CAST(@p1 AS bigint) AND [rn] <= CAST(@p2 AS bigint)`, params: [String(after), String(upTo)] };
  },
  heldRowsTable(table) {
    return { schema: table.schema, name: `${table.name.slice(0, 100)}__uat_held` };
  },
  holdRows(table, held, columns, filter) {
    // UNION ALL: the new table takes no IDENTITY property (the rows go back with IDENTITY_INSERT, as a merge's do).
    const { where, params } = whereClause(filter, quoteIdent, scopeParam, paramText);
    const list = cols(columns);
    return [{ sql: `SELECT ${list} INTO ${qualified(held)} FROM ${qualified(table)}${where} UNION ALL SELECT TOP (0) ${list} FROM ${qualified(table)}`, params }];
  },
  deleteMatched(from, other, key) {
    return { sql: count(`DELETE f FROM ${qualified(from)} AS f WHERE EXISTS (SELECT 1 FROM ${qualified(other)} AS o WHERE ${joinOn("o", "f", key, key)})`), params: [] };
  },
  keptColumnsTable(table) {
    return { schema: table.schema, name: `${table.name.slice(0, 100)}__uat_keep` };
  },
  saveColumns(table, saved, key, columns) {
    return [{ sql: `SELECT ${cols([...key, ...columns])} INTO ${qualified(saved)} FROM ${qualified(table)}`, params: [] }];
  },
  restoreColumns(table, saved, key, columns) {
    return {
      sql: count(`UPDATE t SET ${columns.map((c) => `${quoteIdent(c)} = k.${quoteIdent(c)}`).join(", ")} FROM ${qualified(table)} AS t JOIN ${qualified(saved)} AS k ON ${joinOn("t", "k", key, key)}`),
      params: [],
    };
  },
  dropMergeStaging(staging) {
    return { sql: `DROP TABLE IF EXISTS ${qualified(staging)}`, params: [] };
  },
};

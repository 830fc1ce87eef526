// SQL Server (T-SQL) text for the simple_copy statements. Identifiers are bracket-quoted with QUOTENAME rules
// (`]` doubled); values are @p1..@pN parameters, cast to the column's own type so comparisons use its index.
// Dates and date-times travel as ISO 8601 text converted with an explicit style: a plain CAST of 'YYYY-MM-DD ...'
// to datetime depends on the session's SET DATEFORMAT / language.
import { both, whereClause } from "../filters";
import type { ColumnInfo, CompiledQuery, QueryCompiler, RowFilter, TableRef } from "../types";
import { base, declaredScale, transportOf } from "./transport";
import { numeric } from "../columns";

export function quoteIdent(name: string): string {
  return `[${name.replace(/]/g, "]]")}]`;
}

export function qualified(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

/** Catalog type names only ever come from sys.types; still, refuse anything that is not a plain type spec. */
function castType(c: ColumnInfo): string {
  if (!/^[a-z0-9_ ]+(\((\d+|max)(, ?\d+)?\))?$/i.test(c.nativeType)) throw new Error(`unexpected SQL Server type ${c.nativeType} for ${c.name}`);
  return c.nativeType;
}

/** The i-th parameter as the column's type (exported: the merge's window scope uses the same conversions). */
export const scopeParam = (i: number, c: ColumnInfo) =>
  c.family === "date" ? `CONVERT(${castType(c)}, @p${i}, 23)` : c.family === "datetime" ? `CONVERT(${castType(c)}, @p${i}, ${isOffset(c) ? 127 : 126})` : `CAST(@p${i} AS ${castType(c)})`;

/** datetimeoffset: its text carries the offset (ISO 8601, style 127 reads it). */
const isOffset = (c: ColumnInfo) => /^datetimeoffset/i.test(c.nativeType);

/** A filter value in the form its CONVERT style reads: `YYYY-MM-DD` (23) for dates, `YYYY-MM-DDThh:mm:ss[.f]` (126)
 *  for date-times (our own watermarks come back as ODBC canonical `YYYY-MM-DD hh:mm:ss.f`). */
export function paramText(value: string, c: ColumnInfo): string {
  if (c.family === "date") return value.slice(0, 10);
  if (c.family === "datetime") {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T00:00:00${isOffset(c) ? "Z" : ""}`;
    // `2025-01-01 10:00:00.1234567 +01:00` (our own watermark text) -> `2025-01-01T10:00:00.1234567+01:00`
    return value.replace(" ", "T").replace(/ ([+-]\d{2}:\d{2})$/, "$1");
  }
  return value;
}

function where(filter: RowFilter | undefined): { sql: string; params: string[] } {
  const w = whereClause(filter, quoteIdent, scopeParam, paramText);
  return { sql: w.where, params: w.params };
}

/** A value as comparable text: ODBC canonical for dates/times (style 23 / 121), plain digits for numbers. A
 *  datetimeoffset keeps each row's own offset, so its texts would order by clock time, not by instant (a row written
 *  at -08:00 after one at +00:00 reads earlier): it is given at +00:00, the same instant, so texts compare as the
 *  server does and a watermark never passes a production row. */
export function asText(expr: string, c: ColumnInfo): string {
  if (c.family === "date") return `CONVERT(nvarchar(10), ${expr}, 23)`;
  // datetimeoffset(7) text is 34 characters (`YYYY-MM-DD hh:mm:ss.nnnnnnn +hh:mm`): never cut.
  if (c.family === "datetime") return `CONVERT(nvarchar(40), ${isOffset(c) ? `SWITCHOFFSET(${expr}, '+00:00')` : expr}, 121)`;
  return `CAST(${expr} AS nvarchar(60))`;
}

/** A key's value as the text an `equals` filter takes back: strings as they are (never cut to a length), the rest
 *  as asText. */
export function keyText(expr: string, c: ColumnInfo): string {
  return c.family === "text" ? expr : asText(expr, c);
}

/** The digits after the point a number's values carry: money and smallmoney 4, a decimal its declared scale, whole
 *  numbers 0. */
function scaleOf(c: ColumnInfo): number {
  const t = base(c);
  return t === "money" || t === "smallmoney" ? 4 : declaredScale(c);
}

/** Per column the first 4 bytes of SHA2_256 of its value's bytes, weighted by the column's position (a value moved to
 *  another column changes the sum), summed: equal for equal values of the same column types. No binary
 *  concatenation (some TDS servers read `0x.. + 0x..` as arithmetic) and no BINARY_CHECKSUM (not on every TDS server). */
function rowHash(columns: ColumnInfo[]): string {
  const hash = (c: ColumnInfo, i: number) => `${i + 1} * CAST(CAST(CAST(HASHBYTES('SHA2_256', ${checksumBytes(c)}) AS binary(4)) AS int) AS bigint)`;
  return columns.length ? columns.map(hash).join(" + ") : "0";
}

/** A column's value as bytes for the row checksum: binary and CLR values as they are, everything else as its text in a
 *  style that keeps every digit (date-times 121, money 2; decimals and the rest print exactly by default), a NULL as
 *  0x00 (never an empty value's empty bytes). Nothing is converted from bytes to text (not every server can). */
function checksumBytes(c: ColumnInfo): string {
  const col = quoteIdent(c.name);
  const t = c.nativeType.toLowerCase().replace(/\(.*$/, "");
  const asText = ["xml", "text", "ntext", "time"].includes(t);
  const binary = !asText && (c.family === "binary" || c.family === "other" || t === "image");
  if (binary) return `ISNULL(CONVERT(varbinary(max), ${col}), 0x00)`;
  const style = c.family === "date" || c.family === "datetime" || t === "time" ? ", 121" : t === "money" || t === "smallmoney" ? ", 2" : "";
  const text = ["xml", "text", "ntext"].includes(t) ? `CONVERT(nvarchar(max), ${col})` : `CONVERT(nvarchar(max), ${col}${style})`;
  return `ISNULL(CAST(${text} AS varbinary(max)), 0x00)`;
}

/** Why SQL Server refuses to TRUNCATE a table, each a catalog test of OBJECT_ID(@p1). "You can't use TRUNCATE TABLE
 *  on tables that: are referenced by a FOREIGN KEY constraint [enabled or disabled alike; one referencing its own
 *  table does not count] ...; participate in an indexed view; are published by using transactional replication or
 *  merge replication; are system-versioned temporal" (Microsoft Learn, TRUNCATE TABLE; Msgs 4712, 3729, 4711,
 *  13545); nor on one change data capture tracks (Msg 4711, "published for replication or enabled for Change Data
 *  Capture"), nor on a ledger table ("TRUNCATE TABLE isn't supported", Microsoft Learn, "Ledger considerations and
 *  limitations": its GENERATED ALWAYS AS TRANSACTION_ID / SEQUENCE_NUMBER columns, generated_always_type 7-10). */
export const TRUNCATE_REFUSED = [
  "SELECT 1 FROM sys.foreign_keys WHERE referenced_object_id = OBJECT_ID(@p1) AND parent_object_id <> referenced_object_id",
  "SELECT 1 FROM sys.sql_expression_dependencies AS d JOIN sys.indexes AS i ON i.object_id = d.referencing_id WHERE d.referenced_id = OBJECT_ID(@p1) AND OBJECTPROPERTY(d.referencing_id, 'IsView') = 1",
  "SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(@p1) AND (is_replicated = 1 OR is_merge_published = 1 OR is_tracked_by_cdc = 1 OR temporal_type = 2)",
  "SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(@p1) AND generated_always_type BETWEEN 7 AND 10",
] as const;

/** TRUNCATE TABLE where SQL Server allows it, else DELETE, decided by the server from its catalog at that moment. */
export function truncateOrDelete(table: TableRef): CompiledQuery {
  const t = qualified(table);
  return { sql: `IF ${TRUNCATE_REFUSED.map((q) => `EXISTS (${q})`).join(" OR ")} DELETE FROM ${t} ELSE TRUNCATE TABLE ${t}`, params: [t] };
}

export const sqlServerCompiler: QueryCompiler = {
  quoteIdent,
  qualified,
  selectRows(table, columns, filter, orderBy, limit, expressions = {}) {
    const w = where(filter);
    const top = limit ? `TOP (${Math.trunc(limit)}) ` : "";
    const order = orderBy ? ` ORDER BY ${quoteIdent(orderBy)}` : "";
    // A masking `sql` rule's expression in the column's place; types the driver cannot read exactly as exact text
    // or binary (./transport).
    const list = columns.map((c) => {
      const exact = transportOf(c);
      if (expressions[c.name]) return exact ? `${exact.read(`CAST((${expressions[c.name]}) AS ${castType(c)})`)} AS ${quoteIdent(c.name)}` : `CAST((${expressions[c.name]}) AS ${castType(c)}) AS ${quoteIdent(c.name)}`;
      const read = exact ? exact.read(quoteIdent(c.name)) : quoteIdent(c.name);
      return read === quoteIdent(c.name) ? read : `${read} AS ${quoteIdent(c.name)}`;
    });
    return { sql: `SELECT ${top}${list.join(", ")} FROM ${qualified(table)}${w.sql}${order}`, params: w.params };
  },
  keyHistogram(table, column) {
    // The histogram of the first statistics object that leads with the key (an index's, or auto-created):
    // range_rows + equal_rows are the rows above the previous step up to range_high_key; a NULL step holds the NULLs.
    return {
      sql: `SELECT ${asText(`CAST(h.range_high_key AS ${castType(column)})`, column)} AS [bound], CAST(h.range_rows + h.equal_rows AS float) AS [rows]
            FROM sys.stats AS s JOIN sys.stats_columns AS sc ON sc.object_id = s.object_id AND sc.stats_id = s.stats_id AND sc.stats_column_id = 1
            CROSS APPLY sys.dm_db_stats_histogram(s.object_id, s.stats_id) AS h
            WHERE s.object_id = OBJECT_ID(@p1) AND sc.column_id = COLUMNPROPERTY(s.object_id, @p2, 'ColumnId')
              AND s.stats_id = (SELECT MIN(s2.stats_id) FROM sys.stats AS s2 JOIN sys.stats_columns AS sc2 ON sc2.object_id = s2.object_id AND sc2.stats_id = s2.stats_id AND sc2.stats_column_id = 1
                                WHERE s2.object_id = s.object_id AND sc2.column_id = sc.column_id)
            ORDER BY h.step_number`,
      params: [qualified(table), column.name],
    };
  },
  keyValues(table, key, filter) {
    const w = where(filter);
    return { sql: `SELECT ${key.map((c, i) => `${keyText(quoteIdent(c.name), c)} AS [k${i}]`).join(", ")} FROM ${qualified(table)}${w.sql}`, params: w.params };
  },
  keyBounds(table, column, filter) {
    const w = where(filter);
    const col = quoteIdent(column.name);
    return { sql: `SELECT ${asText(`MIN(${col})`, column)} AS [lo], ${asText(`MAX(${col})`, column)} AS [hi] FROM ${qualified(table)}${w.sql}`, params: w.params };
  },
  checksum(table, columns, filter) {
    // Each row's hash (rowHash) summed over the rows as decimal(38, 0): order-independent, equal for equal rows of the
    // same column types.
    const w = where(filter);
    return {
      sql: `SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [n], CAST(ISNULL(SUM(CAST(${rowHash(columns)} AS decimal(38, 0))), 0) AS nvarchar(40)) AS [sum] FROM ${qualified(table)}${w.sql}`,
      params: w.params,
    };
  },
  countRows(table, filter) {
    const w = where(filter);
    return { sql: `SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [n] FROM ${qualified(table)}${w.sql}`, params: w.params };
  },
  bandCounts(table, column, bounds, filter, summed = numeric(column) ? [column] : undefined) {
    const w = where(filter);
    // One number summed as itself, at its own scale (a key 19.25 beside a deleted 19.00 must not sum as 19 twice);
    // other values (a text, uniqueidentifier or composite key) as the checksum's hash.
    const summable = (cs: ColumnInfo[]) => (cs.length === 1 && numeric(cs[0]) ? `CAST(${quoteIdent(cs[0].name)} AS decimal(38, ${scaleOf(cs[0])}))` : `CAST(${rowHash(cs)} AS decimal(38, 0))`);
    const col = quoteIdent(column.name);
    const bound = (i: number) => scopeParam(w.params.length + i + 1, column);
    // ELSE 0, not NULL: an aggregate that skips NULLs sends warning 8153 with its answer. decimal(38, s): a band of
    // bigint ids sums past bigint.
    const bands = bounds.slice(1).flatMap((_, i) => {
      const within = `${col} > ${bound(i)} AND ${col} <= ${bound(i + 1)}`;
      const count = `CAST(ISNULL(SUM(CASE WHEN ${within} THEN CAST(1 AS bigint) ELSE 0 END), 0) AS nvarchar(20)) AS [n${i}]`;
      return summed ? [count, `CAST(ISNULL(SUM(CASE WHEN ${within} THEN ${summable(summed)} ELSE 0 END), 0) AS nvarchar(40)) AS [s${i}]`] : [count];
    });
    return { sql: `SELECT ${bands.join(", ")} FROM ${qualified(table)}${w.sql}`, params: [...w.params, ...bounds.map((b) => paramText(b, column))] };
  },
  idGaps(table, column, after, upTo, limit, filter) {
    const w = where(both(filter, { kind: "upTo", column, after, upTo }));
    const col = quoteIdent(column.name);
    const n = w.params.length;
    // The range's ends join the values as sentinels, so a gap at either end shows as one between neighbours.
    const ids = `SELECT CAST(${col} AS decimal(38, 0)) AS v FROM ${qualified(table)}${w.sql} UNION ALL SELECT CAST(@p${n + 1} AS decimal(38, 0)) UNION ALL SELECT CAST(@p${n + 2} AS decimal(38, 0)) + 1`;
    return {
      sql: `SELECT TOP (${Math.trunc(limit)}) CAST(g.a AS nvarchar(40)) AS [after], CAST(g.b AS nvarchar(40)) AS [before] FROM (SELECT v AS a, LEAD(v) OVER (ORDER BY v) AS b FROM (${ids}) AS ids) AS g WHERE g.b > g.a + 1 ORDER BY g.a DESC`,
      params: [...w.params, after, upTo],
    };
  },
  estimateRows(table) {
    // Row counts the storage engine keeps per partition (heap or clustered index): no scan.
    return {
      sql: `SELECT CAST(COALESCE(SUM(p.[rows]), -1) AS nvarchar(20)) AS [n], CAST(NULL AS nvarchar(20)) AS [bytes] FROM sys.partitions AS p WHERE p.[object_id] = OBJECT_ID(@p1) AND p.[index_id] IN (0, 1)`,
      params: [qualified(table)],
    };
  },
  watermark(table, column, bufferDays, filter) {
    const col = quoteIdent(column.name);
    const w = where(filter);
    const dated = column.family === "date" || column.family === "datetime";
    const days = `@p${w.params.length + 1}`;
    const cutoff = dated ? asText(`DATEADD(day, -CAST(${days} AS int), MAX(${col}))`, column) : asText(`MAX(${col})`, column);
    return { sql: `SELECT ${asText(`MAX(${col})`, column)} AS [max], ${cutoff} AS [cutoff] FROM ${qualified(table)}${w.sql}`, params: dated ? [...w.params, String(bufferDays)] : w.params };
  },
  isEmpty(table) {
    return { sql: `SELECT CASE WHEN EXISTS (SELECT 1 FROM ${qualified(table)}) THEN 0 ELSE 1 END AS [empty]`, params: [] };
  },
  emptyTable(table, truncate) {
    return truncate ? truncateOrDelete(table) : { sql: `DELETE FROM ${qualified(table)}`, params: [] };
  },
  deleteRows(table, filter) {
    const w = where(filter);
    return { sql: `DELETE FROM ${qualified(table)}${w.sql}`, params: w.params };
  },
  resyncIdentity(table, column, floor) {
    // Explicit values loaded into an identity column do not move the table's current identity value (and a TRUNCATE
    // sets it back to the seed), so every identity is reseeded with an explicit value: the largest of its current
    // value (IDENT_CURRENT, and sys.identity_columns.last_value, which some TDS servers keep right where
    // IDENT_CURRENT goes stale after a bulk load; MAX() as one such server repeats the view's rows), the column's max, and UAT's floor (its own id range) when one is
    // kept, so that the next row is the floor (a table with rows continues after the reseed value; one emptied by
    // TRUNCATE starts at it). Never backwards, never for a descending identity. DBCC takes no bind parameters: the
    // statement is built in T-SQL from the quoted name (a parameter) and the computed number, the name as a plain
    // '' literal (some TDS servers refuse N'' there). "Current identity value is set to the new_reseed_value"
    // (DBCC CHECKIDENT documentation): reseeded by construction.
    const t = qualified(table);
    const col = quoteIdent(column.name);
    return {
      sql: `DECLARE @v decimal(38, 0) = (SELECT MAX(x.v) FROM (VALUES (CAST(IDENT_CURRENT(@p1) AS decimal(38, 0))),
              ((SELECT MAX(CAST(ic.last_value AS decimal(38, 0))) FROM sys.identity_columns AS ic WHERE ic.object_id = OBJECT_ID(@p1) AND ic.name = @p3)),
              ((SELECT CAST(MAX(${col}) AS decimal(38, 0)) FROM ${t})),
              (CAST(@p2 AS decimal(38, 0)) - CASE WHEN EXISTS (SELECT 1 FROM ${t}) THEN 1 ELSE 0 END)) AS x(v));
            IF @v IS NOT NULL AND IDENT_INCR(@p1) > 0
            BEGIN
              DECLARE @s nvarchar(max) = N'DBCC CHECKIDENT (''' + REPLACE(@p1, N'''', N'''''') + N''', RESEED, ' + CAST(@v AS nvarchar(40)) + N') WITH NO_INFOMSGS';
              EXEC sp_executesql @s;
            END;`,
      params: [t, floor, column.name],
    };
  },
  distinctValues(table, column, filter) {
    const w = where(filter);
    return { sql: `SELECT DISTINCT ${asText(quoteIdent(column.name), column)} AS [value] FROM ${qualified(table)}${w.sql} ORDER BY [value]`, params: w.params };
  },
};

export type { CompiledQuery };

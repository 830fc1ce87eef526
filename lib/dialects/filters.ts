// The WHERE clause of a RowFilter, for any dialect: each supplies its identifier quoting, its placeholder for the
// i-th parameter and, where the engine reads parameters in a fixed text form, how a value is written (values never
// enter the SQL text).
import type { ColumnInfo, RowFilter } from "./types";

export type Placeholder = (i: number, column: ColumnInfo) => string;
export type ValueText = (value: string, column: ColumnInfo) => string;

/** `a` and `b` together (either may be absent). */
export function both(a: RowFilter | undefined, b: RowFilter | undefined): RowFilter | undefined {
  if (!a) return b;
  if (!b) return a;
  return { kind: "all", filters: [a, b] };
}

export function whereClause(filter: RowFilter | undefined, quote: (name: string) => string, param: Placeholder, text: ValueText = (v) => v): { where: string; params: string[] } {
  if (!filter) return { where: "", params: [] };
  const params: string[] = [];
  const bind = (value: string, column: ColumnInfo) => {
    params.push(text(value, column));
    return param(params.length, column);
  };
  return { where: ` WHERE ${condition(filter, quote, bind)}`, params };
}

function condition(filter: RowFilter, quote: (name: string) => string, bind: (value: string, column: ColumnInfo) => string): string {
  switch (filter.kind) {
    // Admin-written predicates are placed in parentheses; their text was checked to be one expression over the
    // table's columns. CASE keeps NULL apart: a predicate that is unknown for a row does not match it.
    case "matching":
      return `(${filter.sql})`;
    case "notMatching":
      return `CASE WHEN (${filter.sql}) THEN 1 ELSE 0 END = 0`;
    case "unstaged": {
      // The outer table by its full name: the statement reading it gives it no alias.
      const full = (t: { schema: string; name: string }) => `${quote(t.schema)}.${quote(t.name)}`;
      const match = filter.key.map((k) => `uat_refresh_stage.${quote(k)} = ${full(filter.table)}.${quote(k)}`).join(" AND ");
      return `NOT EXISTS (SELECT 1 FROM ${full(filter.staging)} AS uat_refresh_stage WHERE ${match})`;
    }
    case "all":
      return filter.filters.length ? filter.filters.map((f) => `(${condition(f, quote, bind)})`).join(" AND ") : "1 = 1";
    case "any":
      return filter.filters.length ? `(${filter.filters.map((f) => `(${condition(f, quote, bind)})`).join(" OR ")})` : "1 = 0";
  }
  const col = quote(filter.column.name);
  switch (filter.kind) {
    case "below":
      return `(${col} < ${bind(filter.value, filter.column)} OR ${col} IS NULL)`;
    case "equals":
      return `${col} = ${bind(filter.value, filter.column)}`;
    case "greater":
      return `${col} > ${bind(filter.value, filter.column)}`;
    case "atLeast":
      return filter.nulls ? `(${col} >= ${bind(filter.value, filter.column)} OR ${col} IS NULL)` : `${col} >= ${bind(filter.value, filter.column)}`;
    case "isNull":
      return `${col} IS NULL`;
    case "range":
      return `${col} >= ${bind(filter.lower, filter.column)} AND ${col} < ${bind(filter.upper, filter.column)}`;
    case "upTo":
      return `${filter.after === null ? "" : `${col} > ${bind(filter.after, filter.column)} AND `}${col} <= ${bind(filter.upTo, filter.column)}`;
    case "slice": {
      // One stream's key range [lower, upper) (open ends where null), NULL keys with the first range only.
      const within = filter.within ? [condition(filter.within, quote, bind)] : [];
      const bounds = [...(filter.lower !== null ? [`${col} >= ${bind(filter.lower, filter.column)}`] : []), ...(filter.upper !== null ? [`${col} < ${bind(filter.upper, filter.column)}`] : [])];
      const key = filter.nulls ? (bounds.length ? `(${bounds.join(" AND ")} OR ${col} IS NULL)` : `${col} IS NULL`) : bounds.join(" AND ");
      return [...within, ...(key ? [key] : [])].join(" AND ") || "1 = 1";
    }
  }
}

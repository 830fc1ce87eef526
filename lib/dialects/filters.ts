// The WHERE clause of a RowFilter, for any dialect: each supplies its identifier quoting and its placeholder
// for the i-th parameter (values never enter the SQL text).
import type { ColumnInfo, RowFilter } from "./types";

export type Placeholder = (i: number, column: ColumnInfo) => string;

export function whereClause(filter: RowFilter | undefined, quote: (name: string) => string, param: Placeholder): { where: string; params: string[] } {
  if (!filter) return { where: "", params: [] };
  const col = quote(filter.column.name);
  switch (filter.kind) {
    case "greater":
      return { where: ` WHERE ${col} > ${param(1, filter.column)}`, params: [filter.value] };
    case "atLeast":
      return { where: ` WHERE ${col} >= ${param(1, filter.column)}`, params: [filter.value] };
    case "range":
      return { where: ` WHERE ${col} >= ${param(1, filter.column)} AND ${col} < ${param(2, filter.column)}`, params: [filter.lower, filter.upper] };
  }
}

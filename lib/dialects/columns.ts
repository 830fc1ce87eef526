// Finding a column by the name another catalog query (or the other database) gave for it. SQL Server compares
// identifiers under the database's collation, usually case-insensitive, and a catalog may answer in another case
// than the table was created with (seen on a TDS server after SELECT ... INTO); PostgreSQL names are exact. An
// exact match wins; otherwise a single match ignoring case; otherwise an error that names the column and the table.
import type { ColumnInfo, TableRef } from "./types";

export class UnknownColumnError extends Error {
  constructor(name: string, table: TableRef, columns: ColumnInfo[], why = "is not a column of") {
    super(`${name} ${why} ${table.schema}.${table.name} (columns: ${columns.map((c) => c.name).join(", ")})`);
    this.name = "UnknownColumnError";
  }
}

export function columnNamed(columns: ColumnInfo[], name: string, table: TableRef): ColumnInfo {
  const exact = columns.find((c) => c.name === name);
  if (exact) return exact;
  const folded = columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  if (folded.length === 1) return folded[0];
  throw new UnknownColumnError(name, table, columns, folded.length ? "matches more than one column (names that differ only in case) of" : undefined);
}

/** Whether a band's values can be summed (bandCounts): a number (whole numbers only are compared exactly there). */
export function numeric(column: ColumnInfo): boolean {
  return column.family === "integer" || column.family === "decimal";
}

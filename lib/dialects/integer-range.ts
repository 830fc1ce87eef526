// The smallest value of a fixed-width integer type, by the names both engines' catalogs give them (SQL Server's
// tinyint is unsigned). A range compared with such a column stops there: a bound below it would not convert to the
// column's type (SQL Server error 8115, PostgreSQL "out of range for type smallint"), so the statement would fail.
import type { ColumnInfo } from "./types";

const SMALLEST: Record<string, bigint> = {
  tinyint: 0n,
  smallint: -32768n,
  int: -2147483648n,
  integer: -2147483648n,
  bigint: -9223372036854775808n,
};

/** null: not a fixed-width integer type (decimal, numeric: no smallest value the product needs to know). */
export function smallestInteger(column: ColumnInfo): bigint | null {
  return SMALLEST[column.nativeType.toLowerCase().trim()] ?? null;
}

/** The greatest of the columns' smallest values: what a bound compared with all of them may go down to. */
export function smallestOfAll(columns: ColumnInfo[]): bigint | null {
  const known = columns.map(smallestInteger).filter((v): v is bigint => v !== null);
  return known.length ? known.reduce((a, b) => (a > b ? a : b)) : null;
}

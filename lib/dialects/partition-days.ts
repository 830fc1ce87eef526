// Dialect-neutral rules for daily partitions: bounds in the key column's own type, and generated object names.
import { addDays, dayToIso } from "../engine/days";
import type { Partitioning, TableRef } from "./types";

/** A partition bound for `day` in the column's own type, as text. */
export function dayBound(p: Partitioning, day: number): string {
  return p.columnType.family === "date" || p.columnType.family === "datetime" ? dayToIso(day) : String(day);
}

export function partitionName(table: TableRef, suffix: string): TableRef {
  // PostgreSQL truncates identifiers at 63 bytes (SQL Server at 128): keep the suffix intact.
  const max = 63 - Buffer.byteLength(suffix);
  let base = table.name;
  while (Buffer.byteLength(base) > max) base = base.slice(0, -1);
  return { schema: table.schema, name: base + suffix };
}

/** The day a daily partition holds, or null when its range is not exactly one day. */
export function partitionDay(part: { lower: string | null; upper: string | null; isDefault: boolean }): number | null {
  if (part.isDefault || part.lower === null || part.upper === null) return null;
  const lower = dayOf(part.lower);
  const upper = dayOf(part.upper);
  if (lower === null || upper === null) return null;
  // Daily if the range holds exactly one valid day (integer ranges may end at day+1 or the next calendar day).
  return upper > lower && upper <= addDays(lower, 1) ? lower : null;
}

function dayOf(bound: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00:00(?:\.0+)?)?$/.exec(bound) ?? null;
  if (m) return Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  if (/^\d{8}$/.test(bound)) return Number(bound);
  return null;
}


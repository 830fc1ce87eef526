// Dialect-neutral rules for daily partitions: bounds in the key column's own type, which day (if any) a range
// holds alone, which range holds a day, and generated object names.
//
// A range is [lower, upper) everywhere except SQL Server's RANGE LEFT functions, whose ranges are (lower, upper]
// (the boundary belongs to the partition on its left). A null bound is open-ended (MINVALUE / MAXVALUE, or the
// first and last partitions of a SQL Server function).
import { addDays, dayToIso } from "./days";
import type { PartitionInfo, Partitioning, TableRef } from "./types";

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

/** Ranges are (lower, upper] rather than [lower, upper). */
export function isRangeLeft(p: Pick<Partitioning, "rangeRight">): boolean {
  return p.rangeRight === false;
}

/** A comparable form of a bound or key value: a number for integer and date keys (YYYYMMDD for dates), a
 *  fixed-width `YYYY-MM-DD HH:MM:SS.fffffff` string for date-times; null for text this module cannot read. */
export type Point = number | string;

export function toPoint(p: Pick<Partitioning, "columnType">, text: string): Point | null {
  const family = p.columnType.family;
  if (family === "integer") return /^-?\d+$/.test(text.trim()) ? Number(text) : null;
  // A time-zone offset (timestamptz bounds and values, printed in the session's zone: UTC for the engine's
  // sessions) moves the point to UTC, so bounds printed with different offsets compare as the instants they are.
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?)?(?:\s*(Z|[+-]\d{2}(?::?\d{2}){0,2}))?$/.exec(text.trim());
  if (!m) return null;
  if (family === "date") return m[4] && `${m[4]}${m[5]}${m[6]}${m[7] ?? ""}`.replace(/0/g, "") !== "" ? null : Number(m[1] + m[2] + m[3]);
  let [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4] ?? "00", m[5] ?? "00", m[6] ?? "00"];
  if (m[8] && m[8] !== "Z") {
    const [, sign, oh, om = "0", os = "0"] = /^([+-])(\d{2}):?(\d{2})?:?(\d{2})?$/.exec(m[8])!;
    const shift = (sign === "+" ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000;
    const utc = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +se) + shift).toISOString();
    [y, mo, d, h, mi, se] = [utc.slice(0, 4), utc.slice(5, 7), utc.slice(8, 10), utc.slice(11, 13), utc.slice(14, 16), utc.slice(17, 19)];
  }
  return `${y}-${mo}-${d} ${h}:${mi}:${se}.${(m[7] ?? "").padEnd(7, "0")}`;
}

/** The first day of `day`'s month, and of the next month (YYYYMMDD). */
export function monthStart(day: number): number {
  return Math.floor(day / 100) * 100 + 1;
}

export function nextMonthStart(day: number): number {
  const y = Math.floor(day / 10000);
  const m = Math.floor(day / 100) % 100;
  return m === 12 ? (y + 1) * 10000 + 101 : y * 10000 + (m + 1) * 100 + 1;
}

/** The day a bound is the start of (null: an open end, a bound inside a day, or text this module cannot read). */
export function boundDay(p: Pick<Partitioning, "columnType">, text: string | null): number | null {
  if (text === null) return null;
  const point = toPoint(p, text);
  if (point === null) return null;
  if (typeof point === "number") return point;
  return point.endsWith(" 00:00:00.0000000") ? Number(point.slice(0, 10).replace(/-/g, "")) : null;
}

/** Whether the column is PostgreSQL's timestamp with time zone (its bounds are written with an offset). */
export function withTimeZone(p: Pick<Partitioning, "columnType">): boolean {
  return /with time zone|timestamptz/i.test(p.columnType.nativeType);
}

export function comparePoints(a: Point, b: Point): number {
  return typeof a === "number" && typeof b === "number" ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/** The first value of `day` in the key's own type. */
export function dayStart(p: Pick<Partitioning, "columnType">, day: number): Point {
  return p.columnType.family === "datetime" ? `${dayToIso(day)} 00:00:00.0000000` : day;
}

/** Whether `value` lies inside the range of `part`. */
export function rangeHolds(p: Partitioning, part: Pick<PartitionInfo, "lower" | "upper" | "isDefault">, value: Point): boolean {
  if (part.isDefault) return false;
  const left = isRangeLeft(p);
  const lo = part.lower === null ? null : toPoint(p, part.lower);
  const hi = part.upper === null ? null : toPoint(p, part.upper);
  if ((part.lower !== null && lo === null) || (part.upper !== null && hi === null)) return false;
  const aboveLower = lo === null || (left ? comparePoints(value, lo) > 0 : comparePoints(value, lo) >= 0);
  const belowUpper = hi === null || (left ? comparePoints(value, hi) <= 0 : comparePoints(value, hi) < 0);
  return aboveLower && belowUpper;
}

/** The partition whose range holds the first value of `day` (a DEFAULT partition never counts). */
export function partitionHolding(p: Partitioning, day: number): PartitionInfo | undefined {
  const start = dayStart(p, day);
  return p.partitions.find((x) => rangeHolds(p, x, start));
}

/** The day a partition holds alone (every value of that day, no value of another day), or null. */
export function partitionDay(p: Partitioning, part: PartitionInfo): number | null {
  if (part.isDefault || part.lower === null || part.upper === null) return null;
  if (p.columnType.family === "datetime") {
    // A continuous key: exactly [d 00:00, d+1 00:00). A (lower, upper] range never is one day.
    const lower = toPoint(p, part.lower);
    if (isRangeLeft(p) || lower === null || !String(lower).endsWith(" 00:00:00.0000000")) return null;
    const day = Number(String(lower).slice(0, 10).replace(/-/g, ""));
    return toPoint(p, part.upper) === dayStart(p, addDays(day, 1)) ? day : null;
  }
  // Discrete keys (YYYYMMDD integers, dates): the valid days inside the range must be exactly one.
  const lower = toPoint(p, part.lower);
  if (typeof lower !== "number") return null;
  const first = firstDayFrom(isRangeLeft(p) ? lower + 1 : lower);
  if (first === null || !rangeHolds(p, part, first) || rangeHolds(p, part, addDays(first, 1))) return null;
  return first;
}

/** The partition holding exactly `day`, if there is one. */
export function dailyPartition(p: Partitioning, day: number): PartitionInfo | undefined {
  const part = partitionHolding(p, day);
  return part && partitionDay(p, part) === day ? part : undefined;
}

/** The first valid YYYYMMDD day at or after the integer `n` (e.g. 20250132 -> 20250201). */
export function firstDayFrom(n: number): number | null {
  if (!Number.isInteger(n) || n < 10000101 || n > 99991231) return null;
  const y = Math.floor(n / 10000);
  const m = Math.floor(n / 100) % 100;
  const d = n % 100;
  if (m < 1) return y * 10000 + 101;
  if (m > 12) return y < 9999 ? (y + 1) * 10000 + 101 : null;
  if (d < 1) return y * 10000 + m * 100 + 1;
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d > daysInMonth) return m < 12 ? y * 10000 + (m + 1) * 100 + 1 : y < 9999 ? (y + 1) * 10000 + 101 : null;
  return n;
}

// Which partition a day's rows are switched in with, on PostgreSQL: the unit loaded and switched is the target's
// partition that holds the whole day (a day, a month, any range), reloaded whole from the source. A day no partition
// holds gets a new one with the layout's own width: a calendar month when every partition is one, else the width of
// the latest partition counted from its lower bound, else a day. PostgreSQL cannot split a partition, so a day in an
// open-ended range (MINVALUE / MAXVALUE), in a range that ends inside the day, or whose new partition would overlap
// another is refused, with the reason, before anything is created.
import { addDays, dayToIso } from "../days";
import { boundDay, comparePoints, dayStart, monthStart, nextMonthStart, rangeHolds, toPoint, withTimeZone } from "../partition-days";
import type { PartitionInfo, Partitioning } from "../types";

export interface Slot {
  lower: string;
  upper: string;
  /** The partition that holds the range now; absent: it is created. */
  existing?: PartitionInfo;
  /** Suffix of a new partition's name: `_p20250207` for a day, `_p202502` for a month. */
  suffix: string;
  /** A new partition's whole name where the table's partitions name themselves after their dates in one pattern
   *  (`page_views_2025_01`: April's is `page_views_2025_04`); absent: the table's name and the suffix. */
  name?: string;
}

export type SlotOrRefusal = Slot | { refused: string };

/** A bound for a day in the key's own type and text (what CREATE / ATTACH ... FOR VALUES and filters take). */
export function dayBoundText(p: Partitioning, day: number): string {
  const f = p.columnType.family;
  if (f === "integer") return String(day);
  if (f === "date") return dayToIso(day);
  return `${dayToIso(day)} 00:00:00${withTimeZone(p) ? "+00" : ""}`;
}

function width(p: Partitioning): { month: true } | { days: number; from: number } {
  const bounded = p.partitions.filter((x) => !x.isDefault && x.lower !== null && x.upper !== null);
  const spans = bounded.map((x) => ({ lo: boundDay(p, x.lower), hi: boundDay(p, x.upper) }));
  if (!spans.length || spans.some((s) => s.lo === null || s.hi === null)) return { days: 1, from: 0 };
  if (spans.every((s) => s.lo === monthStart(s.lo!) && s.hi === nextMonthStart(s.lo!))) return { month: true };
  const latest = spans.reduce((a, b) => (b.lo! > a.lo! ? b : a));
  let days = 0;
  for (let d = latest.lo!; d < latest.hi! && days < 3660; d = addDays(d, 1)) days++;
  return { days: Math.max(days, 1), from: latest.lo! };
}

function overlaps(p: Partitioning, lo: number, hi: number): PartitionInfo | undefined {
  const a = toPoint(p, dayBoundText(p, lo))!;
  const b = toPoint(p, dayBoundText(p, hi))!;
  return p.partitions.find((x) => {
    if (x.isDefault) return false;
    const xl = x.lower === null ? null : toPoint(p, x.lower);
    const xu = x.upper === null ? null : toPoint(p, x.upper);
    return (xl === null || comparePoints(xl, b) < 0) && (xu === null || comparePoints(xu, a) > 0);
  });
}

const describe = (x: PartitionInfo) => `${x.name} [${x.lower ?? "MINVALUE"}, ${x.upper ?? "MAXVALUE"})`;

export function slotFor(p: Partitioning, day: number): SlotOrRefusal {
  const start = dayStart(p, day);
  const holder = p.partitions.find((x) => rangeHolds(p, x, start));
  if (holder) {
    if (holder.lower === null || holder.upper === null)
      return { refused: `falls in partition ${describe(holder)}, an open-ended range PostgreSQL cannot split: add a partition for it` };
    const end = toPoint(p, holder.upper)!;
    if (p.columnType.family === "datetime" && comparePoints(end, dayStart(p, addDays(day, 1))) < 0)
      return { refused: `partition ${describe(holder)} ends inside the day: a day's rows must lie in one partition` };
    return { lower: holder.lower, upper: holder.upper, existing: holder, suffix: holder.name };
  }
  const w = width(p);
  let lo: number;
  let hi: number;
  if ("month" in w) {
    lo = monthStart(day);
    hi = nextMonthStart(day);
  } else if (w.days === 1) {
    lo = day;
    hi = addDays(day, 1);
  } else {
    // Count whole widths from the latest partition's lower bound, backwards or forwards.
    lo = w.from;
    while (lo > day) lo = addDays(lo, -w.days);
    while (addDays(lo, w.days) <= day) lo = addDays(lo, w.days);
    hi = addDays(lo, w.days);
  }
  const clash = overlaps(p, lo, hi);
  if (clash) return { refused: `a new partition [${dayBoundText(p, lo)}, ${dayBoundText(p, hi)}) for it would overlap partition ${describe(clash)}` };
  const name = siblingName(p, lo, "month" in w);
  return { lower: dayBoundText(p, lo), upper: dayBoundText(p, hi), suffix: "month" in w ? `_p${Math.floor(lo / 100)}` : `_p${lo}`, ...(name ? { name } : {}) };
}

/** How a partition's name may write the date its range starts on (a month layout: its year and month). */
function dateForms(day: number, month: boolean): string[] {
  const y = String(Math.floor(day / 10000));
  const m = String(Math.floor(day / 100) % 100).padStart(2, "0");
  const d = String(day % 100).padStart(2, "0");
  return month ? [`${y}_${m}`, `${y}${m}`, `${y}-${m}`] : [`${y}_${m}_${d}`, `${y}${m}${d}`, `${y}-${m}-${d}`];
}

/** The name a new partition starting on `day` gets when every partition with a lower bound writes that bound's date in
 *  its name in one way (same text before and after it, same form): a DBA's scripts that find partitions by name find
 *  the new one too. Null when there are none, or they differ. */
function siblingName(p: Partitioning, day: number, month: boolean): string | null {
  let pattern: { before: string; after: string; form: number } | null = null;
  for (const x of p.partitions) {
    if (x.isDefault || x.lower === null) continue;
    const lo = boundDay(p, x.lower);
    if (lo === null) return null;
    const found = dateForms(lo, month)
      .map((text, form) => ({ at: x.name.lastIndexOf(text), text, form }))
      .find((f) => f.at >= 0);
    if (!found) return null;
    const seen = { before: x.name.slice(0, found.at), after: x.name.slice(found.at + found.text.length), form: found.form };
    if (pattern && (pattern.before !== seen.before || pattern.after !== seen.after || pattern.form !== seen.form)) return null;
    pattern = seen;
  }
  return pattern && pattern.before + dateForms(day, month)[pattern.form] + pattern.after;
}

// Incremental windows re-read a buffer below the watermark (identity_buffer ids, date_buffer_days days): a row
// production committed later than rows above it (a transaction that took id 11 or stamped 10:00 committing after the
// one that took 12 or stamped 10:05) arrives only while it is that close. Below the window the plan compares
// production's rows with UAT's copy of them, band by band (LATE_BANDS bands of the buffer, a day at least), and where
// production has more, the window reaches down to that band: a row committed later than the buffer (or one a tester
// deleted or changed in UAT) arrives instead of being skipped for good. Each band's rows (and the sum of their ids, or
// for dates of their key) in one index range read per side, both sides at once: where the counts are
// equal but the sums are not, a late row hides behind one production deleted (UAT still has it), and that band is
// re-read too.
import type { ColumnInfo, RowFilter } from "../dialects/types";
import type { TableContext } from "./context";
import { columnPair } from "./context";
import { both, productionRows } from "./uat-rows";
import { smallestOfAll } from "../dialects/integer-range";
import { stageAndUpsert } from "./upsert";
import { sourceQuery } from "./copy";
import { keyOf } from "./merge-key";
import { sameValueText } from "./native-type";

/** How far below the re-read window the plan looks, in bands of the buffer. */
export const LATE_BANDS = 8;

export interface LateRows {
  /** The widened window's floor: the lower end of the lowest band where production has rows UAT lacks (ids: read
   *  above it; dates: from it). */
  floor: string;
  /** Which band `floor` starts: its index in the bounds compared. */
  band: number;
  /** Production's rows the bands hold that UAT lacks, at least (exact unless `atLeast`). */
  missing: number;
  /** A band whose counts are equal has at least one such row: how many, the counts cannot tell. */
  atLeast: boolean;
}

/** Identity mode: production's rows below `floor` (the re-read window's, exclusive) that UAT lacks, within LATE_BANDS
 *  bands of `buffer` ids; null when every band holds the same rows on both sides, as far as counts and sums tell. */
export async function lateRowsBelow(ctx: TableContext, floor: string, buffer: number): Promise<LateRows | null> {
  const pair = columnPair(ctx, ctx.config.incremental_column!);
  // Ascending: bounds[0] is the lowest band's lower end, the last is the window's floor. None below the column type's
  // smallest value (it would not convert): the bands stop there, leaving out only a row holding that value itself.
  const smallest = smallestOfAll([pair.source, pair.target]);
  const bounds = Array.from({ length: LATE_BANDS + 1 }, (_, i) => {
    const bound = BigInt(floor) - BigInt(LATE_BANDS - i) * BigInt(buffer);
    return (smallest !== null && bound < smallest ? smallest : bound).toString();
  });
  return compareBands(ctx, pair, bounds);
}

/** Date modes: production's rows dated below `cutoff` (the window's start) that UAT lacks, within LATE_BANDS bands of
 *  `days` days; null when every band holds the same rows on both sides, as far as counts (and the key's sums) tell. */
export async function lateDaysBelow(ctx: TableContext, cutoff: string, days: number): Promise<LateRows | null> {
  const pair = columnPair(ctx, ctx.config.incremental_column!);
  const bounds: string[] = [];
  for (let i = LATE_BANDS; i >= 0; i--) {
    const bound = daysBefore(cutoff, i * days);
    if (bound !== null) bounds.push(bound);
  }
  if (bounds.at(-1) !== cutoff) return null;
  return bounds.length > 1 ? compareBands(ctx, pair, bounds, summedKey(ctx, pair.target.name)) : null;
}

/** A date has no sum, but a key does: the key's columns other than the banded one, whose sums tell a late row from
 *  one production deleted in the same band: one number as itself (a decimal at its own scale), other
 *  keys (text, uuid, several columns) as the checksum's hash of their values, where both sides' types hash a value
 *  alike (the same type, or one UAT only widened: equal values, equal hashes). None for a table without a key, a
 *  masked key, or other types on the two sides: counts only. */
export function summedKey(ctx: TableContext, banded: string): Pair[] | undefined {
  const others = (keyOf(ctx) ?? []).filter((c) => c.toLowerCase() !== banded.toLowerCase()).map((c) => columnPair(ctx, c));
  if (!others.length) return undefined;
  // A masked key holds other values in UAT by design: its sums would differ in every band.
  if (others.some((p) => ctx.masking?.masked.has(p.target.name.toLowerCase()))) return undefined;
  if (others.length === 1 && others[0].source.family === "integer" && others[0].target.family === "integer") return others;
  return others.every((p) => sameValueText(p.source, p.target)) ? others : undefined;
}

/** A date or date-time as its server writes it (`YYYY-MM-DD` first, then any time and offset), `days` calendar days
 *  earlier, the rest kept; null before the year 1, or for a value that is no calendar date (PostgreSQL's
 *  'infinity'): no bands then. */
export function daysBefore(value: string, days: number): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return null;
  const at = new Date(0);
  at.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]) - days);
  const year = at.getUTCFullYear();
  if (year < 1) return null;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(year, 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}${value.slice(10)}`;
}

type Pair = { source: ColumnInfo; target: ColumnInfo };

/** Per band (bounds[i], bounds[i + 1]] of `pair` (ascending bounds as the column's values): where production has more
 *  rows than UAT's production rows (or as many with another sum of `summed`, by default the column itself where it
 *  is a number), from the lowest such band up. */
export async function compareBands(ctx: TableContext, pair: Pair, bounds: string[], summed?: Pair[]): Promise<LateRows | null> {
  const count = bounds.length - 1;
  const bands = async (which: "source" | "target", scope: RowFilter | undefined) => {
    const table = which === "source" ? ctx.sourceTable : ctx.targetTable;
    const column = which === "source" ? pair.source : pair.target;
    const within = both({ kind: "upTo", column, after: bounds[0], upTo: bounds[count] }, scope);
    const [row] = await ctx.sessions[which].query<Record<string, string | number | null>>(ctx.dialect.compiler.bandCounts(table, column, bounds, within, summed?.map((p) => p[which])));
    return Array.from({ length: count }, (_, i) => ({ n: Number(row?.[`n${i}`] ?? 0), sum: row?.[`s${i}`] == null ? null : String(row[`s${i}`]) }));
  };
  // Each side on its own session, at once; UAT's side counts production's rows only (not its id range, nor kept rows).
  const [source, target] = await Promise.all([bands("source", undefined), bands("target", productionRows(ctx.uat))]);
  let lowest = -1;
  let missing = 0;
  let atLeast = false;
  source.forEach((s, i) => {
    const t = target[i];
    // Both sums are the same column's values written by the same server: equal rows, equal text.
    const hidden = s.n === t.n && s.sum !== t.sum;
    if (s.n <= t.n && !hidden) return;
    if (lowest < 0) lowest = i; // bands ascend: the first is the lowest
    missing += hidden ? 1 : s.n - t.n;
    atLeast ||= hidden;
  });
  return lowest < 0 ? null : { floor: bounds[lowest], band: lowest, missing, atLeast };
}

/** Date modes with a key: production's rows dated in [from, before) (below the re-synced window, down to where the
 *  bands found rows UAT lacks) whose key UAT lacks, inserted; a row UAT has under its key stays as it is (a tester's
 *  change, or production's row as copied). Every row read is in the target under its key after it, or the unit fails. */
export async function insertLateRows(ctx: TableContext, from: string, before: string): Promise<{ read: number; inserted: number }> {
  const column = columnPair(ctx, ctx.config.incremental_column!).source;
  const staged = await stageAndUpsert(ctx, sourceQuery(ctx, { kind: "range", column, lower: from, upper: before }), { onlyMissing: true });
  await staged.drop();
  return { read: staged.counts.read, inserted: staged.counts.inserted };
}

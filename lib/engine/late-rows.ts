// Identity mode re-reads identity_buffer ids below the watermark: a row production committed after higher ids arrives
// only while it is that close. Below that window the plan compares production's rows with UAT's copy of them, band by
// band (LATE_BANDS bands of identity_buffer ids), and where production has more, the window reaches down to that band:
// a row committed later than the buffer (or one a tester deleted in UAT) arrives instead of being skipped for good.
// Each band's rows and the sum of their ids, in one index range read per side, both sides at once: where the counts
// are equal but the sums are not, a late row hides behind one production deleted (UAT still has it), and that band
// is re-read too.
import type { RowFilter } from "../dialects/types";
import type { TableContext } from "./context";
import { columnPair } from "./context";
import { both, productionRows } from "./uat-rows";
import { smallestOfAll } from "../dialects/integer-range";

/** How far below the re-read window the plan looks, in identity_buffer bands. */
export const LATE_BANDS = 8;

export interface LateRows {
  /** The widened window's floor (exclusive): the lower end of the lowest band where production has rows UAT lacks. */
  floor: string;
  /** Production's rows the bands hold that UAT lacks, at least (exact unless `atLeast`). */
  missing: number;
  /** A band whose counts are equal has at least one such row: how many, the counts cannot tell. */
  atLeast: boolean;
}

/** Production's rows below `floor` (the re-read window's, exclusive) that UAT lacks, within LATE_BANDS bands of
 *  `buffer` ids; null when every band holds the same rows on both sides, as far as counts and sums tell. */
export async function lateRowsBelow(ctx: TableContext, floor: string, buffer: number): Promise<LateRows | null> {
  const pair = columnPair(ctx, ctx.config.incremental_column!);
  // Ascending: bounds[0] is the lowest band's lower end, the last is the window's floor. None below the column type's
  // smallest value (it would not convert): the bands stop there, leaving out only a row holding that value itself.
  const smallest = smallestOfAll([pair.source, pair.target]);
  const bounds = Array.from({ length: LATE_BANDS + 1 }, (_, i) => {
    const bound = BigInt(floor) - BigInt(LATE_BANDS - i) * BigInt(buffer);
    return (smallest !== null && bound < smallest ? smallest : bound).toString();
  });
  const bands = async (which: "source" | "target", scope: RowFilter | undefined) => {
    const table = which === "source" ? ctx.sourceTable : ctx.targetTable;
    const column = which === "source" ? pair.source : pair.target;
    const within = both({ kind: "upTo", column, after: bounds[0], upTo: bounds[LATE_BANDS] }, scope);
    const [row] = await ctx.sessions[which].query<Record<string, string | number | null>>(ctx.dialect.compiler.bandCounts(table, column, bounds, within));
    return Array.from({ length: LATE_BANDS }, (_, i) => ({ n: Number(row?.[`n${i}`] ?? 0), sum: String(row?.[`s${i}`] ?? "0") }));
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
  return lowest < 0 ? null : { floor: bounds[lowest], missing, atLeast };
}

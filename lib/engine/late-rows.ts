// Identity mode re-reads identity_buffer ids below the watermark: a row production committed after higher ids arrives
// only while it is that close. Below that window the plan compares production's rows with UAT's copy of them, band by
// band (LATE_BANDS bands of identity_buffer ids), and where production has more, the window reaches down to that band:
// a row committed later than the buffer (or one a tester deleted in UAT) arrives instead of being skipped for good.
// Index range counts on both sides, side by side: a fixed number of statements whatever the table's size.
import type { RowFilter } from "../dialects/types";
import type { TableContext } from "./context";
import { columnPair } from "./context";
import { both, productionRows } from "./uat-rows";

/** How far below the re-read window the plan looks, in identity_buffer bands. */
export const LATE_BANDS = 8;

export interface LateRows {
  /** The widened window's floor (exclusive): the lower end of the lowest band production has more rows in. */
  floor: string;
  /** Production's rows the bands hold beyond UAT's copy of them. */
  missing: number;
}

/** Production's rows below `floor` (the re-read window's, exclusive) that UAT lacks, within LATE_BANDS bands of
 *  `buffer` ids; null when every band holds as many rows on both sides. */
export async function lateRowsBelow(ctx: TableContext, floor: string, buffer: number): Promise<LateRows | null> {
  const pair = columnPair(ctx, ctx.config.incremental_column!);
  const bands = Array.from({ length: LATE_BANDS }, (_, i) => ({
    after: (BigInt(floor) - BigInt(i + 1) * BigInt(buffer)).toString(),
    upTo: (BigInt(floor) - BigInt(i) * BigInt(buffer)).toString(),
  }));
  const counts = async (which: "source" | "target", scope: RowFilter | undefined) => {
    const table = which === "source" ? ctx.sourceTable : ctx.targetTable;
    const column = which === "source" ? pair.source : pair.target;
    const out: number[] = [];
    for (const b of bands) {
      const [row] = await ctx.sessions[which].query<{ n: string | number }>(ctx.dialect.compiler.countRows(table, both({ kind: "upTo", column, after: b.after, upTo: b.upTo }, scope)));
      out.push(Number(row?.n ?? 0));
    }
    return out;
  };
  // Each side on its own session, at once; UAT's side counts production's rows only (not its id range, nor kept rows).
  const [source, target] = await Promise.all([counts("source", undefined), counts("target", productionRows(ctx.uat))]);
  let lowest = -1;
  let missing = 0;
  source.forEach((n, i) => {
    if (n > target[i]) {
      lowest = i;
      missing += n - target[i];
    }
  });
  return lowest < 0 ? null : { floor: bands[lowest].after, missing };
}

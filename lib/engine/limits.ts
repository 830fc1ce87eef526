import { dialectFor } from "../dialects";
import type { Session, TableRef } from "../dialects/types";

/** Above this many rows (by the planner's estimate) we show or plan with the estimate instead of scanning the table to count it. */
export const EXACT_COUNT_LIMIT = 1_000_000;

/** A table whose statistics are unknown (never analysed: PostgreSQL's reltuples = -1) is counted only while it is
 *  this small on disk; a count of anything bigger is a scan a dashboard must never cause. */
export const UNKNOWN_STATS_MAX_SCAN_BYTES = 64 * 1024 * 1024;

/** Values asked of a server in one question (a lookup by key: key width × keys): SQL Server takes at most 2,100
 *  parameters in a request (error 8003, "Maximum capacity specifications for SQL Server"). */
export const PARAMETERS_PER_QUESTION = 2000;

/** Keys of `width` columns asked at once within PARAMETERS_PER_QUESTION (at least one). */
export const keysPerQuestion = (width: number) => Math.max(1, Math.floor(PARAMETERS_PER_QUESTION / width));

export interface RowFigure {
  /** null: not known without a scan, and nothing else knows it. */
  rows: number | null;
  estimated: boolean;
  /** Where a figure that is not a count came from, when it is not the planner's estimate. */
  note?: string;
}

/**
 * A table's rows without scanning anything big: the planner's estimate for big tables, an exact count for small
 * ones. Where the catalog has no estimate (never analysed), a small table is counted; a bigger one takes
 * `fallback` (the dashboard: the rows its last full replace committed), else it is unknown.
 */
export async function countOrEstimate(
  session: Session,
  table: TableRef,
  opts: { fallback?: () => Promise<number | null>; maxScanBytes?: number; noScan?: boolean } = {},
): Promise<RowFigure> {
  const dialect = dialectFor(session.engine);
  const [e] = await session.query<{ n: string | number; bytes?: string | number | null }>(dialect.compiler.estimateRows(table));
  const estimate = Number(e?.n ?? -1);
  if (estimate >= EXACT_COUNT_LIMIT) return { rows: estimate, estimated: true };
  // `noScan`: the caller reads every row anyway; where the catalog keeps the figure as rows are written, it is taken.
  if (opts.noScan && dialect.catalogKeepsRowCounts && estimate > 0) return { rows: estimate, estimated: true };
  const bytes = e?.bytes === null || e?.bytes === undefined ? null : Number(e.bytes);
  if (estimate < 0 && bytes !== null && bytes > (opts.maxScanBytes ?? UNKNOWN_STATS_MAX_SCAN_BYTES)) {
    const known = (await opts.fallback?.()) ?? null;
    return known === null ? { rows: null, estimated: true, note: "no statistics yet (not analysed)" } : { rows: known, estimated: true, note: "rows its last full replace committed" };
  }
  const [c] = await session.query<{ n: string | number }>(dialect.compiler.countRows(table));
  return { rows: Number(c.n), estimated: false };
}

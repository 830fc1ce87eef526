import { dialectFor } from "../dialects";
import type { Session, TableRef } from "../dialects/types";

/** Above this many rows (by the planner's estimate) we show or plan with the estimate instead of scanning the table to count it. */
export const EXACT_COUNT_LIMIT = 1_000_000;

/** A table's rows: the planner's estimate for big tables (never scan production just to count), else an exact count. */
export async function countOrEstimate(session: Session, table: TableRef): Promise<{ rows: number; estimated: boolean }> {
  const { compiler } = dialectFor(session.engine);
  const [e] = await session.query<{ n: string | number }>(compiler.estimateRows(table));
  if (Number(e?.n ?? -1) >= EXACT_COUNT_LIMIT) return { rows: Number(e.n), estimated: true };
  const [c] = await session.query<{ n: string | number }>(compiler.countRows(table));
  return { rows: Number(c.n), estimated: false };
}

// What the strategies that load a staging table share: the target's whole structure (a twin must reproduce it), and
// the clean-up of tables an interrupted run left behind (found by the dialect's marker).
import type { TableRef, TableShape } from "../dialects/types";
import { unit, type TableContext } from "./context";

/** Columns (computed ones included), indexes and CHECKs of the target: SQL Server switches only identical tables.
 *  One catalog read after the other: a session is one connection, and a connection takes one request at a time. */
export async function targetShape(ctx: TableContext): Promise<TableShape> {
  const t = ctx.sessions.target.introspector;
  const indexes = await t.indexes(ctx.targetTable);
  const columns = await t.columns(ctx.targetTable);
  const checks = (await t.checks?.(ctx.targetTable)) ?? [];
  return { columns, indexes, checks };
}

/** Drops the staging and retired tables an interrupted run of this table left behind. */
export async function dropLeftovers(ctx: TableContext) {
  const { partitions: pc } = ctx.dialect;
  const left = await ctx.sessions.target.query<TableRef>(pc.findLeftovers(ctx.targetTable));
  for (const t of left) await ctx.sessions.target.execute(pc.dropTable(t));
}

/** The clean-up after a load: retried on a lost connection; anything else leaves the (marked) tables to the next run. */
export function tidyLeftovers(ctx: TableContext): Promise<void> {
  return unit(ctx, () => dropLeftovers(ctx)).catch(() => {});
}

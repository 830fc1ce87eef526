// What the strategies that load a staging table share: the target's whole structure (a twin must reproduce it),
// the load itself, and the clean-up of tables an interrupted run left behind (found by the dialect's marker).
import type { RowFilter, TableRef, TableShape } from "../dialects/types";
import type { TableContext } from "./context";
import { maskRows } from "./masking/stage";

/** Columns (computed ones included), indexes and CHECKs of the target: SQL Server switches only identical tables. */
export async function targetShape(ctx: TableContext): Promise<TableShape> {
  const t = ctx.sessions.target.introspector;
  const [indexes, columns, checks] = await Promise.all([t.indexes(ctx.targetTable), t.columns(ctx.targetTable), t.checks?.(ctx.targetTable) ?? []]);
  return { columns, indexes, checks };
}

/** Streams the source rows inside `filter` through the masking stage into the staging table. */
export async function loadStaging(ctx: TableContext, staging: TableRef, filter: RowFilter | undefined, label?: { partition: string }): Promise<number> {
  const query = ctx.dialect.compiler.selectRows(ctx.sourceTable, ctx.columns.map((c) => c.source), filter, undefined, undefined, ctx.masking?.expressions);
  const rows = maskRows(ctx, await ctx.sessions.source.exportRows(query));
  return ctx.sessions.target.importRows(staging, ctx.columns.map((c) => c.target.name), rows, {
    batchSize: ctx.batchSize,
    onRows: (n, bytes) => ctx.progress.update(n, bytes, label),
  });
}

/** Drops the staging and retired tables an interrupted run of this table left behind. */
export async function dropLeftovers(ctx: TableContext) {
  const { partitions: pc } = ctx.dialect;
  const left = await ctx.sessions.target.query<TableRef>(pc.findLeftovers(ctx.targetTable));
  for (const t of left) await ctx.sessions.target.execute(pc.dropTable(t));
}

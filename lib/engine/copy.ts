// The row path every strategy shares: the source SELECT of the table's columns (masking `sql` rules evaluated by the
// source in it) streamed through the masking stage into the target table, or into a staging table.
import type { CompiledQuery, RowFilter, TableRef } from "../dialects/types";
import type { TableContext } from "./context";
import { maskRows } from "./masking/stage";

export function sourceQuery(ctx: TableContext, filter?: RowFilter, orderBy?: string, limit?: number): CompiledQuery {
  return ctx.dialect.compiler.selectRows(ctx.sourceTable, ctx.columns.map((c) => c.source), filter, orderBy, limit, ctx.masking?.expressions);
}

/** Streams a source SELECT through the masking stage into `into` (the target table, a merge's or a switch's staging
 *  table); `label` goes with the progress events (the partition being loaded). */
export async function copyRows(ctx: TableContext, query: CompiledQuery, into: TableRef = ctx.targetTable, label?: { partition: string }): Promise<number> {
  const rows = maskRows(ctx, await ctx.sessions.source.exportRows(query));
  return ctx.sessions.target.importRows(into, ctx.columns.map((c) => c.target.name), rows, {
    batchSize: ctx.batchSize,
    fireTriggers: ctx.config.fire_triggers && into === ctx.targetTable,
    onRows: (n, bytes) => ctx.progress.update(n, bytes, label),
    // Into the target itself its columns are the ones the plan read: no second catalog read before the first row.
    columnInfo: into === ctx.targetTable ? ctx.columns.map((c) => c.target) : undefined,
  });
}

// The row path every strategy shares: the source SELECT of the table's columns (masking `sql` rules evaluated by the
// source in it) streamed through the masking stage into the target table, or into a staging table.
import type { CompiledQuery, RowFilter, TableRef } from "../dialects/types";
import { defaultsByInsert, type TableContext } from "./context";
import { maskRows } from "./masking/stage";

export function sourceQuery(ctx: TableContext, filter?: RowFilter, orderBy?: string, limit?: number): CompiledQuery {
  return ctx.dialect.compiler.selectRows(ctx.sourceTable, ctx.columns.map((c) => c.source), filter, orderBy, limit, ctx.masking?.expressions);
}

/** Streams a source SELECT through the masking stage into `into` (the target table, a merge's or a switch's staging
 *  table); `label` goes with the progress events (the partition being loaded). Into the target, where UAT has columns
 *  of its own whose defaults the engine's bulk load would not apply, through a staging table and one INSERT. */
export async function copyRows(ctx: TableContext, query: CompiledQuery, into: TableRef = ctx.targetTable, label?: { partition: string }): Promise<number> {
  if (into !== ctx.targetTable || !defaultsByInsert(ctx).length) return bulkLoad(ctx, query, into, label);
  const staged = await stageRows(ctx, query, label);
  await staged.insert();
  return staged.rows;
}

/** The rows bulk-loaded into a staging table of the loaded columns; `insert` then moves them into the table with one
 *  INSERT ... SELECT (which gives UAT's own columns their defaults, see defaultsByInsert) and drops the staging table. */
export async function stageRows(ctx: TableContext, query: CompiledQuery, label?: { partition: string }): Promise<{ rows: number; insert(): Promise<void> }> {
  const rel = ctx.dialect.relations;
  const target = ctx.sessions.target;
  const staging = rel.mergeStaging(ctx.targetTable);
  const columns = ctx.columns.map((c) => c.target.name);
  for (const q of rel.createMergeStaging(ctx.targetTable, staging, columns)) await target.execute(q);
  const rows = await bulkLoad(ctx, query, staging, label);
  return {
    rows,
    async insert() {
      await target.execute(rel.insertFromStaging(ctx.targetTable, staging, columns, ctx.columns.some((c) => c.target.identity)));
      await target.execute(rel.dropMergeStaging(staging));
    },
  };
}

async function bulkLoad(ctx: TableContext, query: CompiledQuery, into: TableRef, label?: { partition: string }): Promise<number> {
  const rows = maskRows(ctx, await ctx.sessions.source.exportRows(query));
  return ctx.sessions.target.importRows(into, ctx.columns.map((c) => c.target.name), rows, {
    batchSize: ctx.batchSize,
    fireTriggers: ctx.config.fire_triggers && into === ctx.targetTable,
    onRows: (n, bytes) => ctx.progress.update(n, bytes, label),
    // Into the target itself its columns are the ones the plan read: no second catalog read before the first row.
    columnInfo: into === ctx.targetTable ? ctx.columns.map((c) => c.target) : undefined,
  });
}

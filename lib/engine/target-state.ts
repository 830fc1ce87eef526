// What a load leaves behind in the target besides rows: triggers are off while rows are copied unless the table
// asks for them (as pg_dump --disable-triggers and SQL Server's bulk copy do), identities and every sequence a
// copied column's default draws from end past the copied values, and the planner's statistics describe the new rows.
import type { TableContext } from "./context";
import { resyncIdentities } from "./strategies/identity";
import { notKept, uatFloor } from "./uat-rows";

/** Empties the table for a full replace: whole (TRUNCATE or DELETE as configured), or, where a keep rule names UAT
 *  rows to keep, every row but those. */
export async function emptyForReplace(ctx: TableContext) {
  const kept = notKept(ctx.uat);
  const { compiler } = ctx.dialect;
  await ctx.sessions.target.execute(kept ? compiler.deleteRows(ctx.targetTable, kept) : compiler.emptyTable(ctx.targetTable, ctx.config.truncate_target));
}

/** Disables the table's enabled user triggers inside the caller's transaction; returns what re-enables them. */
export async function suspendTriggers(ctx: TableContext): Promise<() => Promise<void>> {
  if (ctx.config.fire_triggers) return async () => {};
  const { target } = ctx.sessions;
  const names = await target.introspector.triggers(ctx.targetTable);
  for (const q of ctx.dialect.relations.setTriggersEnabled(ctx.targetTable, names, false)) await target.execute(q);
  return async () => {
    for (const q of ctx.dialect.relations.setTriggersEnabled(ctx.targetTable, names, true)) await target.execute(q);
  };
}

/** Identities, and sequences used by column defaults whether or not they are owned by the column. */
export async function resyncGenerators(ctx: TableContext) {
  await resyncIdentities(ctx);
  const loaded = new Set(ctx.columns.map((c) => c.target.name.toLowerCase()));
  for (const use of await ctx.sessions.target.introspector.sequences(ctx.targetTable))
    if (loaded.has(use.column.toLowerCase())) await ctx.sessions.target.execute(ctx.dialect.relations.resyncSequence(ctx.targetTable, use.column, use.sequence, uatFloor(ctx.uat, use.column, use.sequence)));
}

/** Fresh statistics after a table's rows were replaced: the dashboard's estimates and UAT's own query plans. A server
 *  that cannot (probed before any transaction started) keeps its automatic statistics. */
export async function analyzeTarget(ctx: TableContext) {
  if (ctx.capabilities && !ctx.capabilities.updateStatistics) return;
  await ctx.sessions.target.execute(ctx.dialect.relations.analyze(ctx.targetTable));
}

/** After an incremental load into a table that held none of production's rows (its first copy): statistics that
 *  describe the rows at once, for UAT's queries, the dashboard's estimates and the next refresh's plan, where the
 *  server would not bring them up to date before the next query itself. */
export async function analyzeFirstLoad(ctx: TableContext) {
  if (!ctx.dialect.updatesStatisticsOnQuery) await analyzeTarget(ctx);
}

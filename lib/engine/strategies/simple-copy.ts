// simple_copy: full_replace, incremental (identity | date | datetime) and smart_sync.
// Every write happens inside a target transaction, so a failure or a kill leaves the last committed state.
import type { RowFilter } from "../../dialects/types";
import { failpoint } from "../failpoints";
import { countOrEstimate } from "../limits";
import { checkAborted, columnPair, displayName, RefreshError, unit, type TableContext } from "../context";
import type { StrategyImpl, TableOutcome } from "./types";
import { analyzeTarget, resyncGenerators, suspendTriggers } from "../target-state";
import { copyRows, sourceQuery } from "../copy";
import { replaceThroughTwin, twinDecision } from "./twin-replace";
import { planSlices } from "../streams/plan";

async function one<R>(ctx: TableContext, which: "source" | "target", q: { sql: string; params: readonly unknown[] }): Promise<R> {
  const [row] = await ctx.sessions[which].query<R>(q);
  return row;
}

async function count(ctx: TableContext, filter?: RowFilter): Promise<number> {
  const r = await one<{ n: string | number }>(ctx, "source", ctx.dialect.compiler.countRows(ctx.sourceTable, filter));
  return Number(r.n);
}

function watermarkColumn(ctx: TableContext) {
  const pair = columnPair(ctx, ctx.config.incremental_column!);
  const want = ctx.config.incremental_type!;
  const family = pair.target.family;
  const fits = want === "identity" ? family === "integer" || family === "decimal" : want === "date" ? family === "date" || family === "datetime" : family === "datetime" || family === "date";
  if (!fits)
    throw new RefreshError(
      `incremental_column ${pair.target.name} has type ${pair.target.nativeType}, which does not fit incremental_type ${want}`,
      { field: "incremental_type" },
    );
  return pair;
}

async function targetWatermark(ctx: TableContext) {
  const pair = watermarkColumn(ctx);
  const buffer = ctx.config.incremental_type === "identity" ? 0 : (ctx.config.date_buffer_days ?? 0);
  const r = await one<{ max: string | null; cutoff: string | null }>(ctx, "target", ctx.dialect.compiler.watermark(ctx.targetTable, pair.target, buffer));
  return { pair, max: r.max, cutoff: r.cutoff };
}

/** The target's watermark as it is now (shown as before -> after); null without an incremental column. */
export async function watermarkNow(ctx: TableContext): Promise<string | null> {
  if (!ctx.config.incremental_column) return null;
  return (await targetWatermark(ctx).catch(() => null))?.max ?? null;
}

function incrementalFilter(ctx: TableContext, wm: Awaited<ReturnType<typeof targetWatermark>>): RowFilter | undefined {
  if (wm.max === null) return undefined; // empty target: everything is new
  return ctx.config.incremental_type === "identity"
    ? { kind: "greater", column: wm.pair.source, value: wm.max }
    : { kind: "atLeast", column: wm.pair.source, value: wm.cutoff! };
}

export const simpleCopy: StrategyImpl = {
  async plan(ctx) {
    const { compiler } = ctx.dialect;
    let mode = ctx.config.sync_mode;
    let reason = `sync_mode is ${mode}`;
    if (mode === "smart_sync") {
      const empty = await one<{ empty: boolean | number }>(ctx, "target", compiler.isEmpty(ctx.targetTable));
      mode = empty.empty ? "full_replace" : "incremental";
      reason = empty.empty ? "smart_sync: target is empty, copying everything" : `smart_sync: target has rows, copying rows newer than its max(${ctx.config.incremental_column})`;
    }
    if (mode === "full_replace") {
      const n = await countOrEstimate(ctx.sessions.source, ctx.sourceTable);
      // Unknown without scanning production: the plan says so, the copy counts as it goes.
      if (n.rows === null) reason += `; rows expected unknown (${n.note})`;
      const twin = await twinDecision(ctx);
      const streams = twin?.twin ? (await planSlices(ctx, n.rows ?? 0)).why || undefined : undefined;
      if (twin) reason += `; ${twin.reason}${streams ? `, ${streams}` : ""}`;
      return { strategy: "simple_copy", mode, reason, sourceQuery: sourceQuery(ctx), rowsExpected: n.rows ?? 0, rowsEstimated: n.estimated, maskedColumns: ctx.masking?.describe, twin: twin?.twin };
    }
    const wm = await targetWatermark(ctx);
    const filter = incrementalFilter(ctx, wm);
    if (wm.max !== null && ctx.config.incremental_type !== "identity") reason += `, re-syncing from ${wm.cutoff} (${ctx.config.date_buffer_days ?? 0} day buffer)`;
    if (wm.max === null) reason += ", target is empty: copying everything";
    return {
      strategy: "simple_copy",
      mode: "incremental",
      reason,
      sourceQuery: sourceQuery(ctx, filter, wm.pair.source.name),
      filter,
      rowsExpected: await count(ctx, filter),
      watermarkBefore: wm.max,
      maskedColumns: ctx.masking?.describe,
    };
  },

  async execute(ctx, plan) {
    await failpoint("before-load");
    // The catalog is read again: what stands in the way of SWITCH may have changed since the plan.
    const twin = plan.mode === "full_replace" && plan.twin ? await twinDecision(ctx) : null;
    if (twin?.twin) {
      const load = await replaceThroughTwin(ctx, plan.rowsExpected, twin.storage);
      return { plan, rowsRead: load.rows, rowsWritten: load.rows, watermarkAfter: await watermarkNow(ctx), partitionsCreated: [], partitionsSwitched: [], streams: { count: load.streams, threads: load.threads } } satisfies TableOutcome;
    }
    const written = plan.mode === "full_replace" ? await fullReplace(ctx) : ctx.config.incremental_type === "identity" ? await identityBatches(ctx) : await dateResync(ctx);
    return { plan, rowsRead: written, rowsWritten: written, watermarkAfter: await watermarkNow(ctx), partitionsCreated: [], partitionsSwitched: [] } satisfies TableOutcome;
  },
};

async function copyInto(ctx: TableContext, filter?: RowFilter, orderBy?: string, limit?: number): Promise<number> {
  return copyRows(ctx, sourceQuery(ctx, filter, orderBy, limit));
}

/** Empty + load in one transaction: until the commit, readers wait (TRUNCATE) or see the old rows (DELETE), never a half-empty table. */
async function fullReplace(ctx: TableContext): Promise<number> {
  return unit(ctx, () =>
    ctx.sessions.target.transaction(async () => {
      ctx.progress.phase("loading", { message: `replacing all rows of ${displayName(ctx.targetTable)}` });
      const triggersBack = await suspendTriggers(ctx);
      await ctx.sessions.target.execute(ctx.dialect.compiler.emptyTable(ctx.targetTable, ctx.config.truncate_target));
      const n = await copyInto(ctx);
      await resyncGenerators(ctx);
      await triggersBack();
      await analyzeTarget(ctx);
      checkAborted(ctx);
      await failpoint("before-commit");
      return n;
    }),
  );
}

/** Identity mode: batches of batch_size rows, each committed; each batch starts from the target's current max. */
async function identityBatches(ctx: TableContext): Promise<number> {
  let total = 0;
  for (;;) {
    checkAborted(ctx);
    const n = await unit(ctx, () =>
      ctx.sessions.target.transaction(async () => {
        const wm = await targetWatermark(ctx);
        const triggersBack = await suspendTriggers(ctx);
        const n = await copyInto(ctx, incrementalFilter(ctx, wm), wm.pair.source.name, ctx.batchSize);
        if (n) await resyncGenerators(ctx);
        await triggersBack();
        return n;
      }),
    );
    total += n;
    ctx.progress.commitUnit();
    if (n === ctx.batchSize) await failpoint("between-batches");
    if (n < ctx.batchSize) return total;
  }
}

/** Date modes: delete the buffer window and copy it again in one transaction, so re-runs never duplicate. */
async function dateResync(ctx: TableContext): Promise<number> {
  return unit(ctx, () =>
    ctx.sessions.target.transaction(async () => {
      const wm = await targetWatermark(ctx);
      const filter = incrementalFilter(ctx, wm);
      const triggersBack = await suspendTriggers(ctx);
      if (filter) await ctx.sessions.target.execute(ctx.dialect.compiler.deleteRows(ctx.targetTable, { ...filter, column: wm.pair.target }));
      const n = await copyInto(ctx, filter);
      await resyncGenerators(ctx);
      await triggersBack();
      await failpoint("before-commit");
      return n;
    }),
  );
}

// simple_copy: full_replace, incremental (identity | date | datetime) and smart_sync.
// Every write happens inside a target transaction, so a failure or a kill leaves the last committed state.
import type { ColumnFilter, ColumnInfo, RowFilter } from "../../dialects/types";
import { failpoint } from "../failpoints";
import { countOrEstimate } from "../limits";
import { checkAborted, committingUnit, unit, type TableContext } from "../context";
import { displayName } from "../table-name";
import { RefreshError } from "../errors";
import type { StrategyImpl, TableOutcome, TablePlan } from "./types";
import { changedInUat, leftBehind, sourceChecksum, startSourceChecksum, targetSide, unitsVerified, verifyAgainst, verifyPending, verifying, type PendingChecksum, type Verification } from "../verify";
import type { Checksum } from "../checksum";
import { analyzeFirstLoad, analyzeTarget, emptyForReplace, resyncGenerators, suspendTriggers } from "../target-state";
import { copyRows, sourceQuery } from "../copy";
import { replaceThroughTwin, twinDecision } from "./twin-replace";
import { planSlices } from "../streams/plan";
import { isUniqueColumn, keyOf, mergeKey, unenforcedKeys } from "../merge-key";
import { stageAndUpsert } from "../upsert";
import { countChangedInUat, later, productionWatermark, watermarkNow, type Watermark } from "../watermark";
import { lastValueOf } from "../last-watermark";
import { insertLateRows, lateDaysBelow, lateRowsBelow, type LateRows } from "../late-rows";
import { smallestOfAll } from "../../dialects/integer-range";
import { holdChangedRows, productionWindow, upsertWindow } from "../uat-changes";
import { watchGaps } from "../id-gaps";
import { describeGaps, gapFilters, GAP_WATCH_DAYS, GAP_WATCH_MAX, type GapWatch } from "../gap-watch";
import { both } from "../../dialects/filters";

async function one<R>(ctx: TableContext, which: "source" | "target", q: { sql: string; params: readonly unknown[] }): Promise<R> {
  const [row] = await ctx.sessions[which].query<R>(q);
  return row;
}

async function count(ctx: TableContext, filter?: RowFilter): Promise<number> {
  const r = await one<{ n: string | number }>(ctx, "source", ctx.dialect.compiler.countRows(ctx.sourceTable, filter));
  return Number(r.n);
}

/** Ids below an identity watermark re-read on every run: rows production committed out of order (a transaction that
 *  took id 11 committing after the one that took 12; a readable secondary a moment behind) arrive with them. */
export const DEFAULT_IDENTITY_BUFFER = 10_000;

const identityBuffer = (ctx: TableContext) => ctx.config.identity_buffer ?? DEFAULT_IDENTITY_BUFFER;

/** Identity mode reads above this (exclusive): the buffer below the watermark; null: everything (an empty target, or
 *  a buffer reaching below the column type's smallest value). */
function identityFloor(ctx: TableContext, wm: Watermark): string | null {
  if (wm.max === null) return null;
  const floor = BigInt(wm.max.replace(/\..*$/, "")) - BigInt(identityBuffer(ctx));
  const smallest = smallestOfAll([wm.pair.source, wm.pair.target]);
  return smallest !== null && floor < smallest ? null : floor.toString();
}

function incrementalFilter(ctx: TableContext, wm: Watermark): ColumnFilter | undefined {
  if (wm.max === null) return undefined; // no production rows yet: everything is new
  if (ctx.config.incremental_type === "identity") {
    const floor = identityFloor(ctx, wm);
    return floor === null ? undefined : { kind: "greater", column: wm.pair.source, value: floor };
  }
  // No date says whether a row production left without one is new or changed: such rows are read with every window.
  return { kind: "atLeast", column: wm.pair.source, value: wm.cutoff!, ...(wm.pair.source.nullable ? { nulls: true } : {}) };
}

/** Date modes: the window the plan widened down to production's rows UAT lacks (lib/engine/late-rows), where it
 *  starts earlier than the one read now. */
function widenedWindow(fresh: ColumnFilter | undefined, planned: RowFilter | undefined): ColumnFilter | undefined {
  if (fresh?.kind !== "atLeast" || planned?.kind !== "atLeast") return fresh;
  return later(fresh.column.family, fresh.value, planned.value) ? { ...fresh, value: planned.value } : fresh;
}

/** Identity mode pages through the source by the column (ORDER BY + LIMIT, then above the last value read): a value
 *  two rows share could fall between two pages and one of them be skipped, so the column must be unique. */
async function refuseNonUniqueIdentity(ctx: TableContext, column: string) {
  if (!isUniqueColumn(ctx, column))
    throw new RefreshError(
      `incremental_column ${column} of ${displayName(ctx.targetTable)} is not unique (no primary key or unique index on it alone): rows that share a value across a batch boundary would be skipped`,
      { field: "incremental_column", hint: "Use a unique column (the identity key), or incremental_type date/datetime with date_buffer_days." },
    );
}

/** Identity mode never reads a row production left without a value in the column (the pages run up its values). */
async function refuseNullIdentity(ctx: TableContext, column: ColumnInfo) {
  if (!column.nullable) return;
  const missing = await count(ctx, { kind: "isNull", column });
  if (missing)
    throw new RefreshError(
      `incremental_column ${column.name} of ${displayName(ctx.targetTable)} has ${missing} row(s) with no value (NULL) in production: identity mode pages by the column and would never read them`,
      { field: "incremental_column", hint: "Use a column production always fills (the identity key), incremental_type date/datetime (rows without a date are read with every window), or sync_mode full_replace." },
    );
}

/** The run's watch of identity gaps (kept on the context for the run to record) and the ones below `readFloor` it
 *  asks production for again, as the plan says them. */
async function watchedGaps(ctx: TableContext, wm: Watermark, readFloor: string) {
  const { watch, dropped } = await watchGaps(ctx, wm.pair.target, identityFloor(ctx, wm)!);
  ctx.gapWatch = watch;
  const filters = gapFilters(watch, wm.pair.source, readFloor);
  const asked = filters.length
    ? `; asking again for ${filters.length} id range(s) below that UAT lacked when earlier refreshes passed them (${describeGaps(filters)}; each for ${GAP_WATCH_DAYS} days): a row production commits into one later arrives too`
    : "";
  const beyond = dropped ? `; ${dropped} lower gap(s) beyond the ${GAP_WATCH_MAX} watched are no longer asked` : "";
  return { filters, note: asked + beyond };
}

/** Identity mode's read: the ids above `floor`, or in one of the watched gaps below it. */
function aboveOrInGaps(column: ColumnInfo, floor: string, gaps: ColumnFilter[]): RowFilter {
  const above: ColumnFilter = { kind: "greater", column, value: floor };
  return gaps.length ? { kind: "any", filters: [above, ...gaps] } : above;
}

/** Identity mode's floor in a plan's filter: the ids above it are read (the watched gaps below it too). */
function floorOf(filter: RowFilter | undefined): string | null {
  const above = filter?.kind === "any" ? filter.filters[0] : filter;
  return above?.kind === "greater" ? above.value : null;
}

/** Date modes, production's rows dated below the window that UAT lacks (lib/engine/late-rows): with a key, the ones
 *  UAT lacks by key are inserted (`lateFrom`), the rows UAT has there stay; without one the window reaches down to them
 *  (`widened`: deleted and copied again), unless UAT changed rows, which a keyless copy could not tell from them. */
function lateWindow(ctx: TableContext, filter: Extract<ColumnFilter, { kind: "atLeast" }>, late: LateRows, changed: number): { note: string; lateFrom?: string; widened?: ColumnFilter } {
  const found = `production has ${late.atLeast ? "at least " : ""}${late.missing} more row(s) dated from ${late.floor} up to the window than UAT has there (committed after later-dated rows, or changed or deleted in UAT)`;
  if (keyOf(ctx)) return { note: `; ${found}: the ones UAT lacks by key are inserted, rows UAT has there stay as they are`, lateFrom: late.floor };
  if (!changed) return { note: `; ${found}: the window reaches down to ${late.floor}`, widened: { ...filter, value: late.floor } };
  return { note: `; ${found}: not copied, since without a key they cannot be told from the ${changed} row(s) UAT changed (give the table a key, or raise date_buffer_days)` };
}

/** What the plan says of production's rows UAT changed since the last refresh (date modes). */
function changedNote(wm: Watermark, changed: number): string {
  const where = wm.upToFrom === "last refresh" ? `since the last refresh (${wm.pair.target.name} beyond ${wm.upTo}, where it left production's rows)` : `beyond production's max (${wm.pair.target.name} after ${wm.upTo})`;
  return `${changed} row(s) changed in UAT ${where}: they never move the watermark, and stay as UAT has them unless production changed them too`;
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
      // Production's rows figured on its session while the target's storage is read on the target's; the copy reads
      // every row, so production is not scanned a second time to count them where the catalog keeps the figure.
      const [n, twin] = await Promise.all([countOrEstimate(ctx.sessions.source, ctx.sourceTable, { noScan: true }), twinDecision(ctx)]);
      // Unknown without scanning production: the plan says so, the copy counts as it goes.
      if (n.rows === null) reason += `; rows expected unknown (${n.note})`;
      const streams = twin?.twin ? (await planSlices(ctx, n.rows ?? 0)).why || undefined : undefined;
      if (twin) reason += `; ${twin.reason}${streams ? `, ${streams}` : ""}`;
      return { strategy: "simple_copy", mode, reason, sourceQuery: sourceQuery(ctx), rowsExpected: n.rows ?? 0, rowsEstimated: n.estimated, ...(n.rows === null ? { rowsUnknown: true } : {}), maskedColumns: ctx.masking?.describe, twin: twin?.twin };
    }
    const wm = await productionWatermark(ctx);
    const identity = ctx.config.incremental_type === "identity";
    if (identity) await refuseNonUniqueIdentity(ctx, wm.pair.target.name);
    if (identity) await refuseNullIdentity(ctx, wm.pair.source);
    let filter = incrementalFilter(ctx, wm);
    // Identity mode: production's rows further below the buffer that UAT lacks widen the window down to them.
    const buffer = identityBuffer(ctx);
    const late = identity && filter?.kind === "greater" ? await lateRowsBelow(ctx, filter.value, buffer) : null;
    if (late && filter?.kind === "greater") filter = { ...filter, value: late.floor };
    // Date modes: production's rows dated further below the buffer than UAT has (lib/engine/late-rows).
    const lateDays = !identity && filter?.kind === "atLeast" ? await lateDaysBelow(ctx, filter.value, Math.max(1, ctx.config.date_buffer_days ?? 0)) : null;
    // Identity mode: the ids the floor passed while UAT lacked them, asked again (lib/engine/id-gaps).
    const gaps = identity && filter?.kind === "greater" ? await watchedGaps(ctx, wm, filter.value) : null;
    if (wm.max === null) reason += `, no production rows in the target: copying everything${ctx.dialect.updatesStatisticsOnQuery ? "" : ", then analysing the table"}`;
    else if (identity) {
      const widened = late ? `; widened below the buffer: production has ${late.atLeast ? "at least " : ""}${late.missing} row(s) there that UAT lacks (committed after higher ids, or deleted in UAT)` : "";
      reason += filter
        ? `, re-reading ids above ${"value" in filter ? filter.value : ""} (identity_buffer ${buffer} below the watermark ${wm.max}${widened}) and loading them by key${gaps?.note ?? ""}`
        : `, re-reading every id (identity_buffer ${buffer} below the watermark ${wm.max} reaches below the column type's smallest value) and loading them by key`;
    }
    else {
      const how = keyOf(ctx)
        ? " by key"
        : `, deleted and copied again: without a key${unenforcedKeys(ctx)} a row production updated arrives beside its old version, and a row UAT changed before the last refresh leaves with the window (suits append-only data)`;
      reason += `, re-syncing from ${wm.cutoff} (${ctx.config.date_buffer_days ?? 0} day buffer below the watermark ${wm.max})${how}; UAT's own rows in the window stay`;
      if (wm.pair.source.nullable) reason += `; rows with no ${wm.pair.source.name} (NULL) in production are read again with every window: no date says whether they changed`;
      // The first window after an upgrade, or into a UAT restored from a backup of production: nothing says where the
      // last copy left production's rows, so a row UAT changed since, dated up to production's max, counts as theirs.
      if (lastValueOf(ctx.lastWatermark, wm.pair.target.name) === null)
        reason += `; no earlier refresh recorded where it left production's rows in ${wm.pair.target.name} (the first since an upgrade or a restore): a row UAT changed since, dated up to production's max${wm.upTo ? ` (${wm.upTo})` : ""}, is taken for production's and can move the window's start past rows production changed; the next refresh starts from the watermark this one records`;
    }
    const changed = identity ? 0 : await countChangedInUat(ctx, wm.upTo);
    const below = lateDays && filter?.kind === "atLeast" ? lateWindow(ctx, filter, lateDays, changed) : undefined;
    if (below) reason += below.note;
    if (below?.widened) filter = below.widened;
    if (identity && wm.capped) reason += `; UAT has rows beyond production's max (${wm.max}), which never move the watermark`;
    else if (changed) reason += `; ${changedNote(wm, changed)}`;
    const scope = gaps && filter?.kind === "greater" ? aboveOrInGaps(filter.column, filter.value, gaps.filters) : filter;
    return {
      strategy: "simple_copy",
      mode: "incremental",
      reason,
      sourceQuery: sourceQuery(ctx, scope, wm.pair.source.name),
      filter: scope,
      rowsExpected: (await count(ctx, scope)) + (below?.lateFrom && filter?.kind === "atLeast" ? await count(ctx, { kind: "range", column: filter.column, lower: below.lateFrom, upper: filter.value }) : 0),
      watermarkBefore: wm.max,
      lateFrom: below?.lateFrom,
      changedAfter: wm.upTo,
      maskedColumns: ctx.masking?.describe,
    };
  },

  async execute(ctx, plan) {
    await failpoint("before-load");
    // The catalog is read again: what stands in the way of SWITCH may have changed since the plan.
    const twin = plan.mode === "full_replace" && plan.twin ? await twinDecision(ctx) : null;
    if (twin?.twin) {
      const load = await replaceThroughTwin(ctx, plan.rowsExpected, twin.storage);
      return { plan, rowsRead: load.rows, rowsWritten: load.rows, watermarkAfter: await watermarkNow(ctx), partitionsCreated: [], partitionsSwitched: [], streams: { count: load.streams, threads: load.threads }, verification: load.verification } satisfies TableOutcome;
    }
    const moved: Moved = plan.mode === "full_replace" ? await fullReplace(ctx) : ctx.config.incremental_type === "identity" ? await identityBatches(ctx, plan) : await dateResync(ctx, plan);
    return { plan, rowsRead: moved.read, rowsWritten: moved.written, watermarkAfter: await watermarkNow(ctx, moved.copiedUpTo), partitionsCreated: [], partitionsSwitched: [], verification: moved.verification, gapWatch: moved.gapWatch } satisfies TableOutcome;
  },
};

async function copyInto(ctx: TableContext, filter?: RowFilter, orderBy?: string, limit?: number): Promise<number> {
  return copyRows(ctx, sourceQuery(ctx, filter, orderBy, limit));
}

/** Empty + load in one transaction: until the commit, readers wait (TRUNCATE) or see the old rows (DELETE), never a half-empty table. */
async function fullReplace(ctx: TableContext): Promise<Moved> {
  // The source is read on one snapshot: the copy and the checksum it is verified against see the same rows. The
  // source's checksum runs on its own session while the target finishes, commits and is read: the sides overlap.
  type Replaced = { rows: number; pending: PendingChecksum; target?: Checksum };
  return committingUnit<Replaced, Moved>(
    ctx,
    (committed) =>
      ctx.sessions.source.snapshot(async () => {
        let pending: PendingChecksum = Promise.resolve({ status: "fulfilled", value: undefined });
        try {
          const { n, target } = await ctx.sessions.target.transaction(async () => {
            ctx.progress.phase("loading", { message: `replacing all rows of ${displayName(ctx.targetTable)}` });
            const triggersBack = await suspendTriggers(ctx);
            const keptColumns = await saveKeptColumns(ctx);
            await emptyForReplace(ctx);
            const n = await copyInto(ctx);
            pending = startSourceChecksum(ctx);
            await keptColumns.restore();
            await resyncGenerators(ctx);
            await triggersBack();
            await analyzeTarget(ctx);
            const target = await targetSide(ctx);
            checkAborted(ctx);
            await failpoint("before-commit");
            return { n, target };
          });
          return committed({ rows: n, pending, target });
        } finally {
          await pending;
        }
      }),
    async ({ rows, pending, target }) => {
      if (verifying(ctx)) ctx.progress.phase("verifying");
      return { read: rows, written: rows, verification: await verifyPending(ctx, pending, undefined, target) };
    },
  );
}

/** What a unit moved, and how its result compares with the source (absent: not verified). */
interface Moved {
  read: number;
  written: number;
  verification?: Verification;
  /** Date windows: production's max as the copy read it, the watermark the refresh leaves. */
  copiedUpTo?: string | null;
  /** Identity mode: the gaps the run watched, recorded for the next (lib/engine/id-gaps). */
  gapWatch?: GapWatch;
}

/** keep_columns: UAT's values of those columns, saved by key before the rows are replaced and written back onto the
 *  rows production still has; `restore` does nothing where the table keeps no columns. */
async function saveKeptColumns(ctx: TableContext) {
  const columns = ctx.uat?.keepColumns ?? [];
  if (!columns.length) return { restore: async () => 0 };
  const rel = ctx.dialect.relations;
  const key = mergeKey(ctx);
  const saved = rel.keptColumnsTable(ctx.targetTable);
  for (const q of rel.saveColumns(ctx.targetTable, saved, key, columns)) await ctx.sessions.target.execute(q);
  return {
    async restore() {
      const [r] = await ctx.sessions.target.query<{ n: string | number }>(rel.restoreColumns(ctx.targetTable, saved, key, columns));
      await ctx.sessions.target.execute(rel.dropMergeStaging(saved));
      return Number(r?.n ?? 0);
    },
  };
}

/** Identity mode: pages of batch_size rows by the column, from the buffer below the production watermark up; each
 *  page staged, loaded by key (rows already there updated, missing ones inserted, so rows committed out of order
 *  arrive) and committed. Every row read must land, or the page fails. Each page is verified on its own: its id range
 *  (cursor, last] on the page's source snapshot against the target after the page's commit. */
async function identityBatches(ctx: TableContext, plan: TablePlan): Promise<Moved> {
  const wm = await unit(ctx, () => productionWatermark(ctx));
  const column = wm.pair.target.name;
  let cursor = identityFloor(ctx, wm);
  // The plan's floor where it reaches lower (widened down to production's rows UAT lacks, lib/engine/late-rows).
  const planned = floorOf(plan.filter);
  if (cursor !== null && planned !== null && BigInt(planned) < BigInt(cursor)) cursor = planned;
  // The watched gaps below it (lib/engine/id-gaps) come first: the pages run up the ids from the lowest.
  const gaps = cursor === null ? [] : gapFilters(ctx.gapWatch, wm.pair.source, cursor);
  const scope = gaps.length ? aboveOrInGaps(wm.pair.source, cursor!, gaps) : undefined;
  for (const g of gaps) if (g.kind === "upTo" && g.after !== null && BigInt(g.after) < BigInt(cursor!)) cursor = g.after;
  let read = 0;
  let written = 0;
  const pages: { label: string; verification?: Verification }[] = [];
  for (;;) {
    checkAborted(ctx);
    const page = await committingUnit(
      ctx,
      (committed) =>
        ctx.sessions.source.snapshot(async () =>
          committed(await ctx.sessions.target.transaction(async () => {
            const triggersBack = await suspendTriggers(ctx);
            const filter = both(scope, cursor === null ? undefined : { kind: "greater", column: wm.pair.source, value: cursor });
            const staged = await stageAndUpsert(ctx, sourceQuery(ctx, filter, wm.pair.source.name, ctx.batchSize), { cursor: column });
            const window = staged.counts.last === null ? undefined : both(scope, { kind: "upTo", column: wm.pair.source, after: cursor, upTo: staged.counts.last });
            const left = window && (await leftBehind(ctx, window, staged.unstaged));
            await staged.drop();
            if (staged.counts.read) await resyncGenerators(ctx);
            await triggersBack();
            const source = window && (await sourceChecksum(ctx, window));
            const target = window && (await targetSide(ctx, window));
            return { ...staged.counts, rows: staged.counts.updated + staged.counts.inserted, window, source, target, left };
          })),
        ),
      async (page) => ({ ...page, verification: page.read && page.source ? await verifyAgainst(ctx, page.source, page.window, page.target, page.left) : undefined }),
    );
    read += page.read;
    written += page.rows;
    if (page.read) pages.push({ label: `batch ${pages.length + 1}`, verification: page.verification });
    if (page.read === ctx.batchSize) await failpoint("between-batches");
    if (page.read < ctx.batchSize || page.last === null) {
      if (wm.max === null && written) await unit(ctx, () => analyzeFirstLoad(ctx));
      return { read, written, verification: batchesVerified(pages), gapWatch: ctx.gapWatch };
    }
    cursor = page.last;
  }
}

/** The batches' verifications as the table's: which batch differs ("batch 2 of 4"), else all equal. */
function batchesVerified(pages: { label: string; verification?: Verification }[]): Verification | undefined {
  const v = unitsVerified(pages.map((p) => ({ ...p, label: `${p.label} of ${pages.length}` })), "committed batch(es)");
  return v?.ok ? { ...v, detail: `${v.detail} (the copied ids)` } : v;
}

/** Date modes, in one transaction, so re-runs never duplicate. With a key, the window is loaded by key: a row
 *  production changed since the last refresh is updated wherever its old date put it, and production's rows of the
 *  window it no longer has are deleted. Without one, production's rows of the window are deleted and copied again.
 *  UAT's own rows in the window (its id range, kept by rule) stay, and so do production's rows UAT changed since the
 *  last refresh unless production changed them too (lib/engine/uat-changes). */
async function dateResync(ctx: TableContext, plan: TablePlan): Promise<Moved> {
  const key = keyOf(ctx);
  return committingUnit(
    ctx,
    (committed) =>
      ctx.sessions.source.snapshot(async () =>
        committed(await ctx.sessions.target.transaction(async () => {
          const wm = await productionWatermark(ctx);
          const filter = widenedWindow(incrementalFilter(ctx, wm), plan.filter);
          const triggersBack = await suspendTriggers(ctx);
          const { n, uat } = key ? await windowByKey(ctx, wm, filter, plan.lateFrom) : await windowAgain(ctx, wm, filter);
          await resyncGenerators(ctx);
          await triggersBack();
          if (wm.max === null && n) await analyzeFirstLoad(ctx);
          // The window as copied, on the copy's snapshot.
          const source = await sourceChecksum(ctx, filter);
          const target = await targetSide(ctx, filter);
          await failpoint("before-commit");
          return { rows: n, source, filter, target, uat, copiedUpTo: wm.sourceMax };
        })),
      ),
    async ({ rows, source, filter, target, uat, copiedUpTo }) => {
      if (source) ctx.progress.phase("verifying");
      return { read: rows, written: rows, verification: await verifyAgainst(ctx, source, filter, target, changedInUat(uat)), copiedUpTo };
    },
  );
}

async function windowByKey(ctx: TableContext, wm: Watermark, filter: ColumnFilter | undefined, lateFrom?: string) {
  const late = lateFrom && filter?.kind === "atLeast" ? await insertLateRows(ctx, lateFrom, filter.value) : { read: 0, inserted: 0 };
  const { staged, uat } = await upsertWindow(ctx, sourceQuery(ctx, filter), filter, wm.upTo);
  await staged.finishMerge();
  return { n: staged.counts.read + late.read, uat };
}

async function windowAgain(ctx: TableContext, wm: Watermark, filter: ColumnFilter | undefined) {
  const keptColumns = await saveKeptColumns(ctx);
  const held = await holdChangedRows(ctx, wm.upTo, true);
  if (filter) await ctx.sessions.target.execute(ctx.dialect.compiler.deleteRows(ctx.targetTable, productionWindow(ctx, filter)!));
  const n = await copyInto(ctx, filter);
  await keptColumns.restore();
  return { n, uat: await held.settle() };
}

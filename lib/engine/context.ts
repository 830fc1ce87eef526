// Everything one table's refresh needs: its config, resolved catalog objects, and sessions that can be reopened
// between retries. Resolving here is what turns unknown tables/columns into errors that name them.
import type { Settings, TableConfigInput } from "../config/schema";
import type { ColumnInfo, Dialect, FoundTable, IndexInfo, RowFilter, ServerCapabilities, Session, TableRef } from "../dialects/types";
import type { ProgressTracker } from "./progress";
import { compileMasking, type CompiledMasking } from "./masking/stage";
import { withRetry } from "./retry";
import type { Endpoint } from "./connections";
import { columnDrift } from "./drift";
import { RefreshError } from "./errors";
import { displayName } from "./table-name";
import { refuseFilteredSource } from "./row-security";
import { refuseMaskedColumns } from "./dynamic-masks";
import { resolveUatRows, type UatRows } from "./uat-rows";
import type { GapWatch } from "./gap-watch";
import type { LastWatermark } from "./last-watermark";
import { readCatalog, type ReadAhead, type TableCatalog } from "./read-ahead";

export interface Sessions {
  source: Session;
  target: Session;
  /** Replaces a session whose connection died (before a retry). */
  reopen(which: "source" | "target"): Promise<void>;
  /** Where more sessions can be opened from (parallel streams); absent: only these two exist. */
  endpoints?: { source: Endpoint; target: Endpoint };
  /** The source's catalog of the run's first table, read while the run planned its units (perhaps still being read:
   *  then nothing else may use the source's session before taking it). */
  readAhead?: ReadAhead;
}

export interface TableContext {
  config: TableConfigInput;
  settings: Settings;
  dialect: Dialect;
  sessions: Sessions;
  sourceTable: TableRef;
  targetTable: FoundTable;
  /** Target columns to load (generated ones excluded), paired with the source column of the same name. */
  columns: { source: ColumnInfo; target: ColumnInfo }[];
  /** The target's indexes as the plan read them (its keys: what a load by key matches on, what streams slice). */
  targetIndexes: IndexInfo[];
  /** UAT's own columns, which production lacks (a schema ahead of production's): never loaded, so a loaded row gets
   *  their default (or NULL, or its identity), and a merged row keeps UAT's values. */
  uatOnly: ColumnInfo[];
  batchSize: number;
  progress: ProgressTracker;
  signal?: AbortSignal;
  /** The table's masking rules, checked against the catalog and compiled (none: rows copy verbatim). */
  masking?: CompiledMasking;
  /** What belongs to UAT in the target table: kept rows, UAT's id range (lib/engine/uat-rows). */
  uat?: UatRows;
  /** Date modes and partition switches: the watermark the table's last successful refresh left, and its column
   *  (absent: none recorded). A later value in the target is UAT's, never production's (lib/engine/watermark). */
  lastWatermark?: LastWatermark;
  /** Identity mode: the gaps the table's last run recorded (lib/engine/id-gaps), and this run's watch, which the
   *  plan computes and a run that commits records. */
  recordedGaps?: GapWatch;
  gapWatch?: GapWatch;
  /** What the target server can do, where the dialect probes it: read through targetCapabilities, known before the
   *  table runs (lib/dialects/types ServerCapabilities). */
  capabilities?: ServerCapabilities;
  /** Differences from production the plan reports (lib/engine/drift). */
  drift: string[];
  /** Post-refresh steps scoped to this table: they run in each of its transactions just before the commit. */
  stepsInTransaction: string[];
}

export async function resolveTable(
  config: TableConfigInput,
  settings: Settings,
  dialect: Dialect,
  sessions: Sessions,
  progress: ProgressTracker,
  signal?: AbortSignal,
): Promise<TableContext> {
  // Each side's catalog on its own session, both at once (a session takes one request at a time); the source's may
  // have been read while the run planned its units (lib/engine/read-ahead). The source's refusal is the one reported
  // when both sides refuse.
  const catalogs = await Promise.allSettled([sessions.readAhead?.take(config) ?? readCatalog(sessions.source, config), readCatalog(sessions.target, config)]);
  const [source, target] = (["source", "target"] as const).map((which, i) => {
    const r = catalogs[i];
    if (r.status === "rejected") throw r.reason;
    if (!r.value.table) throw new RefreshError(`table ${config.schema ? `${config.schema}.` : ""}${config.name} does not exist in the ${which} database`, { field: "name" });
    return r.value as TableCatalog & { table: FoundTable };
  });
  for (const [which, side] of [["production", source], ["UAT", target]] as const)
    if (side.table.unsupported) throw new RefreshError(`${displayName(side.table)} in ${which} cannot be refreshed: ${side.table.unsupported}`, { field: "name" });
  if (target.table.unwritable) throw new RefreshError(`${displayName(target.table)} in UAT cannot be refreshed: ${target.table.unwritable}`, { field: "name" });
  const { table: sourceTable, columns: sourceCols, indexes: sourceIndexes } = source;
  const { table: targetTable, columns: targetCols, indexes: targetIndexes } = target;
  // A catalog that lists a column twice (a server's view repeating rows) would have it declared twice in the load.
  for (const [which, cols, table] of [["source", sourceCols, sourceTable], ["target", targetCols, targetTable]] as const) {
    const twice = cols.map((c) => c.name.toLowerCase()).filter((n, i, all) => all.indexOf(n) !== i);
    if (twice.length) throw new RefreshError(`the ${which} catalog lists column(s) ${[...new Set(twice)].join(", ")} of ${displayName(table)} more than once; nothing was read or written`);
  }
  const byName = new Map(sourceCols.map((c) => [c.name.toLowerCase(), c]));
  const loadable = targetCols.filter((c) => !c.generated);
  const uatOnly = loadable.filter((c) => !byName.has(c.name.toLowerCase()));
  const columns = loadable.filter((c) => byName.has(c.name.toLowerCase())).map((t) => ({ source: byName.get(t.name.toLowerCase())!, target: t }));
  // Checked before anything else about the table: a column UAT cannot hold production's values in refuses it, and so
  // does a column of UAT's own that a copied row cannot fill.
  const drift = columnDrift(columns, sourceCols, { source: sourceIndexes, target: targetIndexes }, uatOnly);
  if (drift.refusals.length) throw new RefreshError(`${displayName(targetTable)} differs from production: ${drift.refusals.join("; ")}`, { field: "name" });
  // Either side's column may be what cannot be copied (one encrypted in production only, say).
  const unloadable = [...new Set(columns.flatMap((c) => dialect.unloadableColumns([c.source, c.target])))];
  if (unloadable.length) throw new RefreshError(`table ${displayName(targetTable)} cannot be copied: ${unloadable.join("; ")}`, { field: "name" });

  for (const key of ["incremental_column", "partition_column"] as const) {
    const name = config[key];
    if (!name || columns.some((c) => c.target.name.toLowerCase() === name.toLowerCase())) continue;
    // UAT computes that column itself (computed, rowversion, a period's GENERATED ALWAYS): its values are UAT's,
    // never production's, so a watermark or a day read there would be UAT's own.
    if (targetCols.some((c) => c.generated && c.name.toLowerCase() === name.toLowerCase()))
      throw new RefreshError(`${key} ${name} of ${displayName(targetTable)} is generated by UAT's server (computed, rowversion or GENERATED ALWAYS), so it holds UAT's values, not production's: choose a column the refresh copies`, { field: key });
    throw new RefreshError(`${key} ${name} is not a column of ${displayName(targetTable)} (columns: ${columns.map((c) => c.target.name).join(", ")})`, { field: key });
  }
  const known = new Set([...sourceCols, ...targetCols].map((c) => c.name.toLowerCase()));
  const unknown = (config.personal_data ?? []).filter((p) => !known.has(p.column.toLowerCase())).map((p) => p.column);
  if (unknown.length) throw new RefreshError(`personal_data: ${unknown.join(", ")} ${unknown.length > 1 ? "are not columns" : "is not a column"} of ${displayName(targetTable)}`, { field: "personal_data" });
  let masking: CompiledMasking | undefined;
  if (config.masking?.length) {
    const own = config.masking.find((m) => uatOnly.some((c) => c.name.toLowerCase() === m.column.toLowerCase()));
    if (own)
      throw new RefreshError(`masking: ${own.column} is UAT's own column of ${displayName(targetTable)} (production has none), so no production value reaches it: remove the rule`, { field: "masking" });
    const unique = new Set(targetIndexes.filter((ix) => ix.unique || ix.primaryKey).flatMap((ix) => ix.columns.map((c) => c.toLowerCase())));
    masking = compileMasking(config.masking, { targetTable, columns, engine: dialect.engine }, unique);
    for (const key of ["incremental_column", "partition_column"] as const)
      if (config[key] && masking?.masked.has(config[key]!.toLowerCase()))
        throw new RefreshError(`masking: ${config[key]} is the ${key} of ${displayName(targetTable)} and cannot be masked`, { field: "masking" });
  }
  // The source login must be allowed to read the table (said before anything reads its rows), asked on the source's
  // session while the target's reads UAT's rows.
  const [readable, read] = await Promise.allSettled([
    refuseUnreadableSource(sessions.source, sourceTable, columns.map((c) => c.source.name)),
    resolveUatRows(config, settings, dialect.engine, sessions.target, targetTable, columns, uatOnly),
  ]);
  for (const r of [readable, read]) if (r.status === "rejected") throw r.reason;
  const uat = (read as PromiseFulfilledResult<UatRows>).value;
  return {
    config,
    settings,
    dialect,
    sessions,
    sourceTable,
    targetTable,
    columns,
    targetIndexes,
    uatOnly,
    masking,
    uat,
    drift: drift.notes,
    stepsInTransaction: [],
    batchSize: config.batch_size ?? settings.default_batch_size,
    progress,
    signal,
  };
}

/** The source login must read every row of the table as it is: allowed to, not filtered by row-level security, no
 *  copied column behind a dynamic data mask. */
async function refuseUnreadableSource(source: Session, table: TableRef, copied: string[]) {
  const missing = await source.introspector.missingPrivileges(table, ["SELECT"]);
  if (missing.length) throw new RefreshError(`the source login lacks SELECT on ${displayName(table)}`);
  await refuseFilteredSource(source, table);
  await refuseMaskedColumns(source, table, copied, "source");
}

/** UAT's own columns with a default the engine's bulk load would not give them (SQL Server keeps production's NULLs,
 *  which turns defaults off for the load): the rows then go in through a staging table and one INSERT, which does. */
export function defaultsByInsert(ctx: TableContext): ColumnInfo[] {
  return ctx.dialect.bulkLoadAppliesDefaults ? [] : ctx.uatOnly.filter((c) => c.default !== undefined);
}

export function columnPair(ctx: TableContext, name: string) {
  return ctx.columns.find((c) => c.target.name.toLowerCase() === name.toLowerCase())!;
}

/** A filter written on production's columns, on UAT's (the same columns by name; the case may differ). */
export function onTarget(ctx: TableContext, filter: RowFilter): RowFilter {
  switch (filter.kind) {
    case "all":
    case "any":
      return { ...filter, filters: filter.filters.map((f) => onTarget(ctx, f)) };
    case "matching":
    case "notMatching":
    case "unstaged":
      return filter;
    case "slice":
      return { ...filter, column: columnPair(ctx, filter.column.name).target, within: filter.within && onTarget(ctx, filter.within) };
    default:
      return { ...filter, column: columnPair(ctx, filter.column.name).target };
  }
}

/** What the target server can do (lib/dialects/types ServerCapabilities), probed once on the target's session where
 *  the dialect probes: asked by the plan where its answer decides the path (on the target's session while the
 *  source's counts), and by every plan before its table runs, since the probe's own transactions would end one
 *  already open. */
export async function targetCapabilities(ctx: TableContext): Promise<ServerCapabilities | undefined> {
  ctx.capabilities ??= await ctx.sessions.target.capabilities?.();
  return ctx.capabilities;
}

/** Runs one transaction-sized unit with retries, reopening dead sessions in between. */
export function unit<T>(ctx: TableContext, fn: () => Promise<T>): Promise<T> {
  return withRetry(fn, {
    maxRetries: ctx.settings.max_retries,
    isTransient: (e) => ctx.dialect.isTransient(e),
    signal: ctx.signal,
    beforeRetry: async () => {
      await ctx.sessions.reopen("source");
      await ctx.sessions.reopen("target");
    },
  });
}

/** What a unit hands on at its commit: the rows it committed, and whatever its after-commit work needs. */
type Committed = { rows: number };

/** A unit that ends in a target commit: `work` runs (with retries, on fresh sessions) until it calls `committed(done)`
 *  right after that commit, and returns what it gave it. From then on its rows are the target's, whatever happens next
 *  (the source's snapshot ending, a lost connection, a cancel): `onCommit` counts them, once, and they are never loaded
 *  again; only `afterCommit(done)` (statistics, tidying, the verification) is retried. */
export async function unitToCommit<C, R>(ctx: TableContext, work: (committed: <T>(done: T) => T) => Promise<C>, onCommit: (done: C) => void, afterCommit: (done: C) => Promise<R>): Promise<R> {
  let done: { value: C } | undefined;
  const committed = <T>(value: T): T => {
    done = { value: value as unknown as C }; // what work returns, by the contract above
    onCommit(done.value);
    return value;
  };
  await unit(ctx, async () => {
    if (!done) await work(committed);
  });
  const settled = done;
  if (!settled) throw new Error("a unit of work returned without committing");
  return unit(ctx, () => afterCommit(settled.value));
}

/** unitToCommit for one table: its rows committed count in its progress. */
export function committingUnit<C extends Committed, R>(ctx: TableContext, work: (committed: <T>(done: T) => T) => Promise<C>, afterCommit: (done: C) => Promise<R>): Promise<R> {
  return unitToCommit(ctx, work, (c) => ctx.progress.commitUnit(c.rows), afterCommit);
}

export function checkAborted(ctx: TableContext) {
  if (ctx.signal?.aborted) throw new RefreshError("refresh cancelled");
}

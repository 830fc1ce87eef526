// staging_partition_switch: for each incoming day, bulk-load a staging table, build its indexes, then swap it
// in for the day's partition in one short transaction. Missing daily partitions are created first (empty).
// Until the switch commits the target is untouched; after it, the day holds exactly the source's rows.
import type { ColumnFilter, ColumnInfo, Partitioning, RowFilter, TableRef } from "../../dialects/types";
import { productionRows } from "../uat-rows";
import { lastValueOf } from "../last-watermark";
import { addDays, toDayNumber } from "../../dialects/days";
import { failpoint } from "../failpoints";
import { checkAborted, columnPair, committingUnit, defaultsByInsert, targetCapabilities, unit, type TableContext } from "../context";
import { displayName } from "../table-name";
import { RefreshError } from "../errors";
import type { StrategyImpl, TableOutcome, TablePlan } from "./types";
import { analyzeTarget, resyncGenerators, suspendTriggers } from "../target-state";
import { refuseMaskedKey } from "../masking/stage";
import { sourceQuery, stageRows } from "../copy";
import { dropLeftovers, targetShape, tidyLeftovers } from "../staging";
import { loadInStreams, type StagingLoad } from "../streams/load";
import { sourceChecksum, targetChecksum, targetSide, unitsVerified, verifyAgainst, type Verification } from "../verify";
import type { Checksum } from "../checksum";
import { planSlices } from "../streams/plan";
import { compareBands, LATE_BANDS, summedKey } from "../late-rows";
import { dayBound, partitionName } from "../../dialects/partition-days";

async function partitioning(ctx: TableContext): Promise<Partitioning> {
  const p = await ctx.sessions.target.introspector.partitioning(ctx.targetTable);
  if (!p) throw new RefreshError(`target table ${displayName(ctx.targetTable)} is not partitioned: staging_partition_switch needs a table range-partitioned by day`, { field: "strategy" });
  refuseMaskedKey(ctx, p.column, "partition key");
  // The original config names the partition key as incremental_column; either name must be the real key.
  for (const field of ["partition_column", "incremental_column"] as const) {
    const named = ctx.config[field];
    if (named && named.toLowerCase() !== p.column.toLowerCase())
      throw new RefreshError(`${field} ${named} does not match the partition key ${p.column} of ${displayName(ctx.targetTable)}`, { field });
  }
  if (ctx.dialect.engine === "sqlserver") {
    const fn = ctx.config.partition_function ?? `pf_${ctx.config.name}`;
    const scheme = ctx.config.partition_scheme ?? `ps_${ctx.config.name}`;
    if (p.functionName && p.functionName.toLowerCase() !== fn.toLowerCase())
      throw new RefreshError(`${displayName(ctx.targetTable)} is partitioned by function ${p.functionName}, not partition_function ${fn}`, { field: "partition_function" });
    if (p.schemeName && p.schemeName.toLowerCase() !== scheme.toLowerCase())
      throw new RefreshError(`${displayName(ctx.targetTable)} uses partition scheme ${p.schemeName}, not partition_scheme ${scheme}`, { field: "partition_scheme" });
  }
  return p;
}

/** Why UAT's table takes no SWITCH of a staging table built here, as its catalog shows it: system-versioned or a
 *  ledger table (known from findTable), else what the table's storage names, as for a full replace's twin (SQL
 *  Server: a key from or to it, a non-rowstore index, an index not aligned, an indexed view, CDC...:
 *  lib/dialects/sqlserver/introspector switchBlockers; a day's staging table is built as that twin is). None where
 *  the dialect reads no storage. */
async function switchRefusals(ctx: TableContext): Promise<string[]> {
  if (ctx.targetTable.switchRefused) return [ctx.targetTable.switchRefused];
  const introspector = ctx.sessions.target.introspector;
  if (!introspector.storage) return [];
  return introspector.storage(ctx.targetTable).then(
    (s) => s.blockers,
    (e: Error) => [`its storage could not be read from the catalog (${e.message})`],
  );
}

/** Where each day goes; a day that can get no partition of its own is refused before anything is touched. */
function placeDays(ctx: TableContext, p: Partitioning, days: number[]) {
  return days.map((day) => {
    const placement = ctx.dialect.partitions.placeDay(p, day);
    if (placement.kind === "refused") throw new RefreshError(`day ${day}: ${placement.reason}`);
    return { day, placement };
  });
}

/** UAT's own indexes of the partitions to be switched out that are invalid: not carried to the ones switched in. */
async function invalidIndexesNote(ctx: TableContext, placed: ReturnType<typeof placeDays>) {
  const existing = placed.flatMap(({ placement }) => (placement.kind === "exists" ? [placement.partition.name] : []));
  const query = existing.length ? ctx.dialect.partitions.invalidOwnIndexes?.(ctx.targetTable, existing) : undefined;
  if (!query) return "";
  const rows = await ctx.sessions.target.query<{ partition: string; index: string }>(query);
  return rows
    .map((r) => `; UAT's index ${r.index} of ${r.partition} is invalid (a CREATE INDEX CONCURRENTLY that failed): not built again on the partition switched in, as pg_dump leaves it out; build it again there once it can be`)
    .join("");
}

/** The rows switched in with `day`: the day's, or those of the whole partition that holds it (a month, any range). */
function dayFilter(ctx: TableContext, p: Partitioning, day: number): ColumnFilter {
  const col = columnPair(ctx, p.column).source;
  const placement = ctx.dialect.partitions.placeDay(p, day);
  if (placement.kind !== "refused" && placement.range) return { kind: "range", column: col, lower: placement.range.lower, upper: placement.range.upper };
  const bound = (d: number) => (col.family === "date" || col.family === "datetime" ? dayBound({ ...p, columnType: col }, d) : String(d));
  return { kind: "range", column: col, lower: bound(day), upper: bound(addDays(day, 1)) };
}

/** What a switched unit is called on the run page: its day, or the range of the wider partition it is. */
function unitLabel(ctx: TableContext, p: Partitioning, day: number): string {
  const placement = ctx.dialect.partitions.placeDay(p, day);
  const range = placement.kind === "refused" ? undefined : placement.range;
  if (!range || (toDayNumber(range.lower) === day && toDayNumber(range.upper) === addDays(day, 1))) return String(day);
  return `${range.lower}..${range.upper}`;
}

/** One day per partition to switch: days that share a partition (a month) are switched in once, together. */
function unitDays(placed: ReturnType<typeof placeDays>): number[] {
  const seen = new Set<string>();
  return placed
    .filter(({ day, placement }) => {
      const key = placement.range ? `${placement.range.lower}|${placement.range.upper}` : String(day);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((d) => d.day);
}

/** Rows whose partition key is NULL belong to no day: they are replaced as a unit of their own, in the partition
 *  that holds them (SQL Server: the left-most; PostgreSQL: the DEFAULT one), whenever production or UAT has any (a
 *  row production dated since is then in its day, not twice). Where UAT cannot hold them (no such partition, or its
 *  column is NOT NULL) they are not copied: the plan says so. One index read per side, where the column allows NULL. */
async function undatedRows(ctx: TableContext, p: Partitioning, key: { source: ColumnInfo; target: ColumnInfo }) {
  const count = async (side: "source" | "target", table: TableRef, column: ColumnInfo) =>
    column.nullable ? Number((await ctx.sessions[side].query<{ n: string }>(ctx.dialect.compiler.countRows(table, { kind: "isNull", column })))[0]?.n ?? 0) : 0;
  const source = await count("source", ctx.sourceTable, key.source);
  const holder = key.target.nullable ? ctx.dialect.partitions.nullKeyPartition(p) : null;
  if (!holder) {
    const why = key.target.nullable
      ? "no partition of UAT's table can hold them (PostgreSQL: a DEFAULT partition), so they are never copied (add one, or make the column NOT NULL in production)"
      : `UAT's ${key.target.name} is NOT NULL, so they are never copied (allow NULL there, or make production's NOT NULL)`;
    return { source, replaced: false, note: source ? `; ${source} production row(s) have no ${key.source.name} (NULL), and ${why}` : "" };
  }
  const inUat = await count("target", ctx.targetTable, key.target);
  if (!source && !inUat) return { source, replaced: false, note: "" };
  return { source, replaced: true, note: `; the rows without a ${key.target.name} (NULL: no day), in partition ${holder}: UAT's ${inUat} replaced by production's ${source}, in one transaction` };
}

/** What the unit of rows without a day is called on the run page. */
const UNDATED = "no day (NULL)";

/** Production's rows in the LATE_BANDS bands of `bandDays` days below `from` that UAT lacks (lib/engine/late-rows):
 *  the first day of the lowest band that differs, where the days to load start instead. */
async function lateDays(ctx: TableContext, key: { source: ColumnInfo; target: ColumnInfo }, from: number, bandDays: number, asValue: (day: number) => string) {
  // A band (bounds[i], bounds[i + 1]] holds day bounds[i] of a date-time column (after its midnight), the day after
  // it of a date or day-number column: loading from the band's first bound covers either.
  const days = Array.from({ length: LATE_BANDS + 1 }, (_, i) => addDays(from, -(LATE_BANDS - i) * bandDays));
  const late = await compareBands(ctx, key, days.map(asValue), summedKey(ctx, key.target.name));
  return late && { from: days[late.band], missing: `${late.atLeast ? "at least " : ""}${late.missing}` };
}

export const partitionSwitch: StrategyImpl = {
  async plan(ctx) {
    const p = await partitioning(ctx);
    const { compiler } = ctx.dialect;
    const key = columnPair(ctx, p.column);
    if (ctx.uat?.keep || ctx.uat?.keepColumns.length)
      throw new RefreshError("keep_rows / keep_columns are not applied by staging_partition_switch (a switched partition holds exactly production's rows): use simple_copy for this table, or keep those rows in a table of their own", { field: "keep_rows" });
    // Production's rows only, never beyond the source's own max nor beyond the day the last refresh left production's
    // rows at: a row UAT added or changed since (a tester's, today's or future-dated) cannot move the window.
    const wm = await ctx.sessions.target.query<{ max: string | null }>(compiler.watermark(ctx.targetTable, key.target, 0, productionRows(ctx.uat)));
    const sourceMax = (await ctx.sessions.source.query<{ max: string | null }>(compiler.watermark(ctx.sourceTable, key.source, 0)))[0]?.max ?? null;
    const targetMax = wm[0]?.max ?? null;
    const last = lastValueOf(ctx.lastWatermark, key.target.name);
    const bounds = [sourceMax, last].filter((b): b is string => b !== null);
    const lowest = (a: string, b: string) => (toDayNumber(String(b)) < toDayNumber(String(a)) ? b : a);
    const max = targetMax === null ? null : bounds.reduce(lowest, String(targetMax));
    const boundedByLast = max !== null && last !== null && max === last && toDayNumber(String(targetMax)) > toDayNumber(last);
    const buffer = ctx.config.date_buffer_days;
    let filter: RowFilter | undefined;
    let reason = "all days in the source";
    if (max !== null && buffer !== undefined) {
      const bufferFrom = addDays(toDayNumber(max), -buffer);
      const asValue = (day: number) => (key.source.family === "date" || key.source.family === "datetime" ? dayBound({ ...p, columnType: key.source }, day) : String(day));
      // Days further down where production has more rows than UAT (a late-arriving fact) are loaded again too.
      const late = await lateDays(ctx, key, bufferFrom, Math.max(1, buffer), asValue);
      const from = late?.from ?? bufferFrom;
      filter = { kind: "atLeast", column: key.source, value: asValue(from) };
      const widened = late ? `; from ${from}: production has ${late.missing} more row(s) in the days below the buffer than UAT (committed late, or deleted in UAT)` : "";
      reason = `days from ${from} (target max ${toDayNumber(max)} - ${buffer} day buffer${boundedByLast ? `; UAT's rows beyond the last refresh's ${toDayNumber(last!)} never move it` : ""}${widened})`;
    }
    // A server that cannot SWITCH or add partitions (probed on the target's session while the source answers) gets
    // each day replaced in place instead: said here, so the dry run promises nothing the server cannot do.
    const [values, can] = await Promise.all([ctx.sessions.source.query<{ value: string | null }>(compiler.distinctValues(ctx.sourceTable, key.source, filter)), targetCapabilities(ctx)]);
    const changed = [...new Set(values.filter((v) => v.value !== null).map((v) => toDayNumber(v.value)))].sort((a, b) => a - b);
    const undated = await undatedRows(ctx, p, key);
    const serverInPlace = !!can && (!can.switch || !can.partitionDdl);
    // UAT's own columns with defaults a bulk load into the staging table would not apply: the day goes in by INSERT.
    const defaults = defaultsByInsert(ctx);
    // UAT's table itself refuses a SWITCH of a staging table built here: the day goes in by INSERT.
    const refused = serverInPlace ? [] : await switchRefusals(ctx);
    const inPlace = serverInPlace || defaults.length > 0 || refused.length > 0;
    // Every day is placed before anything is created: one that cannot be is refused with its reason.
    const placed = placeDays(ctx, p, changed);
    const days = unitDays(placed);
    const missingDays = serverInPlace ? [] : days.filter((d) => placed.find((x) => x.day === d)!.placement.kind === "create");
    // The rows to load: every switched partition whole (a monthly partition is reloaded from the source).
    const dayRows: Record<number, number> = {};
    for (const d of days) dayRows[d] = Number((await ctx.sessions.source.query<{ n: string }>(compiler.countRows(ctx.sourceTable, dayFilter(ctx, p, d))))[0]?.n ?? 0);
    const expected = Object.values(dayRows).reduce((a, b) => a + b, 0) + (undated.replaced ? undated.source : 0);
    // How the largest partition will be loaded (each is planned again when it is loaded).
    const largest = days.reduce<number | undefined>((a, d) => (a === undefined || dayRows[d] > dayRows[a] ? d : a), undefined);
    const streams = largest === undefined ? undefined : (await planSlices(ctx, dayRows[largest], dayFilter(ctx, p, largest))).why || undefined;
    const wider = days.length !== changed.length || days.some((d) => unitLabel(ctx, p, d) !== String(d));
    const units = wider ? `${changed.length} day(s) in ${days.length} partition(s) (${days.map((d) => unitLabel(ctx, p, d)).join(", ")})` : `${days.length} day(s)`;
    const tableInPlace = refused.length
      ? `UAT's table takes no SWITCH: ${refused.join("; ")}`
      : `UAT's own ${defaults.map((c) => c.name).join(", ")} take their defaults from an INSERT, which a bulk load into a staging table would not give them`;
    const how = serverInPlace
      ? `; the server cannot ${[!can!.switch && "SWITCH", !can!.partitionDdl && "add partitions"].filter(Boolean).join(" or ")} (probed: ${can!.notes.join("; ")}): each day is replaced in place, in one transaction (readers wait for it)`
      : inPlace
        ? `, ${missingDays.length} new partition(s); ${tableInPlace}: each day is replaced in place, in one transaction (readers wait for it)`
        : `, ${missingDays.length} new partition(s)${streams ? `; largest partition: ${streams}` : ""}`;
    const invalid = inPlace ? "" : await invalidIndexesNote(ctx, placed.filter((x) => days.includes(x.day)));
    return {
      strategy: "staging_partition_switch",
      mode: "partition_switch",
      reason: `${reason}: ${units}${how}${invalid}${undated.note}`,
      ...(inPlace ? { inPlace } : {}),
      ...(undated.replaced ? { undatedRows: undated.source } : {}),
      sourceQuery: sourceQuery(ctx, days.length ? dayFilter(ctx, p, days[0]) : filter),
      rowsExpected: expected,
      watermarkBefore: max,
      copiedUpTo: sourceMax === null ? null : String(sourceMax),
      days,
      missingDays,
      dayRows,
      maskedColumns: ctx.masking?.describe,
    } satisfies TablePlan;
  },

  async execute(ctx, plan) {
    const target = () => ctx.sessions.target;
    const { partitions: pc } = ctx.dialect;
    await failpoint("before-load");
    await dropLeftovers(ctx);
    const created: string[] = [];
    const switched: string[] = [];
    let written = 0;
    let streams: TableOutcome["streams"];
    const verified: { label: string; verification?: Verification }[] = [];
    for (const day of plan.missingDays ?? []) {
      const p = await partitioning(ctx);
      if (placeDays(ctx, p, [day])[0].placement.kind !== "create") continue;
      await unit(ctx, () => target().transaction(async () => {
        for (const q of pc.createPartition(ctx.targetTable, p, day)) await target().execute(q);
      }));
      created.push(unitLabel(ctx, await partitioning(ctx), day));
    }
    // Read before each day (a partition another session split or added since is switched as it is now); the last
    // reading serves what follows the days, the key's name.
    let p: Partitioning | undefined;
    const keyName = async () => (p ??= await partitioning(ctx)).column;
    try {
      for (const day of plan.days ?? []) {
        checkAborted(ctx);
        const at = (p = await partitioning(ctx));
        const load = plan.inPlace ? await replaceInPlace(ctx, dayFilter(ctx, at, day), String(day)) : await switchDay(ctx, at, day, plan.dayRows?.[day] ?? 0);
        written += load.rows;
        if (load.streams > (streams?.count ?? 1)) streams = { count: load.streams, threads: load.threads };
        const label = unitLabel(ctx, at, day);
        switched.push(label);
        verified.push({ label: `partition ${label}`, verification: load.verification });
      }
      if (plan.undatedRows !== undefined) {
        checkAborted(ctx);
        const column = columnPair(ctx, await keyName()).source;
        const load = await replaceInPlace(ctx, { kind: "isNull", column }, UNDATED);
        written += load.rows;
        switched.push(UNDATED);
        verified.push({ label: `the rows without a ${column.name}`, verification: load.verification });
      }
    } finally {
      ctx.progress.phase("cleanup");
      await tidyLeftovers(ctx);
    }
    // After every day's commit: a lost connection here runs this part again, never a day.
    const { column, watermarkAfter } = await unit(ctx, async () => {
      if (switched.length) await analyzeTarget(ctx);
      // The watermark left is production's max as the plan read it: every day up to it was re-synced (a row of UAT's
      // beyond it is not production's).
      const column = columnPair(ctx, await keyName()).target;
      const watermarkAfter = plan.copiedUpTo !== undefined ? plan.copiedUpTo : ((await target().query<{ max: string | null }>(ctx.dialect.compiler.watermark(ctx.targetTable, column, 0)))[0]?.max ?? null);
      return { column, watermarkAfter };
    });
    const verification = unitsVerified(verified, "partition(s)");
    return { plan, rowsRead: written, rowsWritten: written, watermarkAfter, watermarkColumn: column.name, partitionsCreated: created, partitionsSwitched: switched, ...(streams ? { streams } : {}), ...(verification ? { verification } : {}) } satisfies TableOutcome;
  },
};

/** Where SWITCH or new partitions are not to be had, and for the rows without a day: the rows of `range` deleted
 *  and loaded again in one transaction, through a plain staging table (a bulk load into a partitioned table is not
 *  to be had on every such server). */
async function replaceInPlace(ctx: TableContext, range: ColumnFilter, label: string): Promise<DayLoad> {
  type Replaced = { rows: number; source?: Checksum; inTransaction?: Checksum };
  return committingUnit<Replaced, DayLoad>(
    ctx,
    // The source read on one snapshot: the copy and the checksum it is verified against see the same rows.
    (committed) =>
      ctx.sessions.source.snapshot(async () => {
        const target = ctx.sessions.target;
        const done = await target.transaction(async () => {
          ctx.progress.phase("loading", { partition: label });
          const triggersBack = await suspendTriggers(ctx);
          const staged = await stageRows(ctx, sourceQuery(ctx, range), { partition: label });
          await target.execute(ctx.dialect.compiler.deleteRows(ctx.targetTable, { ...range, column: columnPair(ctx, range.column.name).target }));
          await staged.insert();
          await resyncGenerators(ctx);
          await triggersBack();
          const source = await sourceChecksum(ctx, range);
          const inTransaction = await targetSide(ctx, range);
          await failpoint("before-commit");
          return { rows: staged.rows, source, inTransaction };
        });
        return committed(done);
      }),
    async ({ rows, source, inTransaction }) => ({ rows, streams: 1, threads: false, verification: await verifyAgainst(ctx, source, range, inTransaction) }),
  );
}

/** A day's (its partition's) load, and how the partition compares with the source's rows afterwards. */
type DayLoad = StagingLoad & { verification?: Verification };

async function switchDay(ctx: TableContext, p: Partitioning, day: number, rowsExpected: number): Promise<DayLoad> {
  const { partitions: pc } = ctx.dialect;
  const staging: TableRef = partitionName(ctx.targetTable, `_stg_${day}`);
  const retired: TableRef = partitionName(ctx.targetTable, `_old_${day}`);
  const window = dayFilter(ctx, p, day);
  type Switched = StagingLoad & { inTransaction?: Checksum; carried: { phase: "before" | "after"; sql: string }[] };
  return committingUnit<Switched, DayLoad>(
    ctx,
    async (committed) => {
      const target = ctx.sessions.target;
      await target.execute(pc.dropTable(staging));
      await target.execute(pc.dropTable(retired));
      // The whole structure, computed columns and CHECKs included: SQL Server switches only between identical tables.
      const shape = await targetShape(ctx);
      for (const q of pc.createStaging(ctx.targetTable, staging, retired, p, day, shape)) await target.execute(q);

      ctx.progress.phase("loading", { partition: String(day) });
      const load = await loadInStreams(ctx, staging, window, rowsExpected, { partition: String(day) }, { verify: true });

      await failpoint("staging-loaded");
      ctx.progress.phase("indexing", { partition: String(day) });
      for (const q of pc.prepareStaging(ctx.targetTable, staging, shape.indexes, p, day)) await target.execute(q);

      // What the replaced partition has of its own (an index UAT added, its own keys, grants, triggers...) goes onto
      // the staging table before the switch, so the partition switched in carries exactly what the one it replaces had.
      const own = pc.ownObjects?.(ctx.targetTable, p, day, staging);
      const carried = own ? await target.query<{ phase: "before" | "after"; sql: string }>(own) : [];
      for (const { sql } of carried.filter((c) => c.phase === "before")) await target.execute({ sql, params: [] });

      // With post-refresh steps in the switch's transaction, the rows as loaded are the ones to compare (the steps'
      // changes land on top of them in the same commit).
      const inTransaction = load.source && ctx.stepsInTransaction.length ? await targetChecksum(ctx, window, staging) : undefined;
      checkAborted(ctx);
      ctx.progress.phase("switching", { partition: String(day) });
      await failpoint("before-swap");
      // The identities move on with the rows they make room for, in the same commit.
      await target.transaction(async () => {
        for (const q of pc.switchIn(ctx.targetTable, staging, retired, p, day, shape)) await target.execute(q);
        await resyncGenerators(ctx);
      });
      const done = committed({ ...load, inTransaction, carried });
      await failpoint("after-swap");
      return done;
    },
    async ({ inTransaction, carried, ...load }) => {
      const target = ctx.sessions.target;
      // The old rows dropped and the names given back in one transaction: after a lost connection it runs again
      // whole, never from a half-renamed partition.
      await target.transaction(async () => {
        await target.execute(pc.dropTable(retired));
        const tidy = pc.tidyAfterSwitch(ctx.targetTable, p, day, staging);
        if (tidy) for (const { sql } of await target.query<{ sql: string }>(tidy)) await target.execute({ sql, params: [] });
        for (const { sql } of carried.filter((c) => c.phase === "after")) await target.execute({ sql, params: [] });
      });
      if (load.source) ctx.progress.phase("verifying", { partition: String(day) });
      return { ...load, verification: load.source ? await verifyAgainst(ctx, load.source, window, inTransaction) : undefined };
    },
  );
}

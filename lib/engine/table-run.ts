// One unit of a run: a table on its own, or a refresh group (tables related by foreign keys) in one transaction.
// Plans, executes and records each table's result in the metadata DB; the runner schedules the units.
import { stepsOfRun } from "./steps";
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import { dialectFor } from "../dialects";
import type { Metadata } from "../metadata/client";
import { resolveTable, targetCapabilities, type Sessions, type TableContext } from "./context";
import { RefreshError } from "./errors";
import { executeGroup, mergeKey, type GroupMember } from "./group-refresh";
import { describeGroup, mergeReason, refKey, type Member, type RefreshGroup } from "./groups";
import type { GroupUnit } from "./run-units";
import { refuseMissingPrivileges, type GroupRole } from "./privileges";
import { refuseUnmaskedPersonalData } from "./masking/stage";
import { ProgressTracker, type ProgressEvent } from "./progress";
import type { RunRequest, TableReport } from "./run-types";
import { strategyFor } from "./strategies";
import { watermarkNow } from "./watermark";
import { lastWatermark } from "./last-watermark";
import { lastGapWatch, recordGapWatch } from "./id-gaps";
import { refuseShrink } from "./shrink-guard";
import { annotatePlan } from "./uat-report";
import { reviewNewColumns } from "./column-review";
import type { TableOutcome, TablePlan } from "./strategies/types";
import { configuredMode, effectiveMode } from "../mode";
import { sessionEnded } from "./session-ended";
import { withRetry } from "./retry";

/** What a cancel left: `committed` rows had already been committed (they stay) when it arrived, or nothing. */
export function cancelledMessage(signal: AbortSignal, committed = 0) {
  const by = typeof signal.reason === "string" ? ` ${signal.reason}` : "";
  return committed > 0
    ? `cancelled${by} after ${committed} row(s) had been committed, which stay in the target; nothing after that was committed`
    : `cancelled${by}: nothing of the interrupted transaction was committed`;
}

interface Tracked {
  name: string;
  environment: string;
  resultId: string;
  progress: ProgressTracker;
  persist: ReturnType<typeof throttledPersist>;
  started: number;
  /** The incremental column the recorded watermark is a value of. */
  watermarkColumn?: string;
}

async function track(db: Metadata, runId: string, resultId: string, name: string, req: RunRequest): Promise<Tracked> {
  const persist = throttledPersist(db, resultId);
  const progress = new ProgressTracker(
    (e) => {
      req.onProgress?.(e);
      persist(e);
    },
    runId,
    name,
  );
  await db.tableResult.update({ where: { id: resultId }, data: { status: "running", phase: "planning", startedAt: new Date() } });
  progress.phase("planning");
  return { name, environment: req.environment!, resultId, progress, persist, started: Date.now() };
}

/** Resolves the table in both catalogs, applies the personal-data policy and plans it; the plan is recorded. A plan
 *  only reads, so a session lost while it reads (transient by the dialect's rule) plans again on new sessions. */
function planTable(db: Metadata, t: Tracked, config: RefreshConfig, table: TableConfigInput, pair: Sessions, req: RunRequest, groupNote?: string, role: GroupRole = {}) {
  const dialect = dialectFor(config.databases.target.engine);
  return withRetry(() => planOnce(db, t, config, table, pair, req, groupNote, role), {
    maxRetries: config.settings.max_retries,
    isTransient: (e) => dialect.isTransient(e),
    signal: req.signal,
    beforeRetry: () => freshSessions(pair),
  });
}

async function planOnce(db: Metadata, t: Tracked, config: RefreshConfig, table: TableConfigInput, pair: Sessions, req: RunRequest, groupNote?: string, role: GroupRole = {}) {
  const dialect = dialectFor(config.databases.target.engine);
  const ctx = await resolveTable(table, config.settings, dialect, pair, t.progress, req.signal);
  [ctx.lastWatermark, ctx.recordedGaps] = await Promise.all([lastWatermark(db, req.environment!, table), lastGapWatch(db, req.environment!, table)]);
  t.watermarkColumn = table.incremental_column;
  ctx.stepsInTransaction = stepsOfRun(config, [table.name]).filter((s) => s.tables.length).map((s) => s.name);
  refuseUnmaskedPersonalData(ctx);
  await reviewNewColumns(db, req.environment!, ctx);
  const plan = await strategyFor(table.strategy).plan(ctx);
  await annotatePlan(ctx, plan, role.merged);
  await refuseMissingPrivileges(ctx, plan, role);
  // After the privileges: it reads both sides' rows, which a login without them (or under a policy) may not.
  await refuseShrink(ctx, plan);
  // Known before the table's first transaction (the load's statistics ask it), where the plan did not need it.
  await targetCapabilities(ctx);
  if (groupNote) plan.reason = `${plan.reason}; ${groupNote}`;
  plan.configuredMode = configuredMode(table);
  t.progress.rowsExpected = plan.rowsExpected;
  await db.tableResult.update({
    where: { id: t.resultId },
    data: { mode: plan.mode, modeReason: plan.reason, rowsExpected: BigInt(plan.rowsExpected), rowsEstimated: !!plan.rowsEstimated, watermarkBefore: plan.watermarkBefore ?? null, maskedColumns: plan.maskedColumns ?? [], verificationPlan: plan.verifies ?? null },
  });
  return { ctx, plan };
}

async function recordSuccess(db: Metadata, t: Tracked, plan: TablePlan, outcome: TableOutcome | undefined): Promise<TableReport> {
  // The last progress event first: its running figures must not land after (and over) the final ones.
  t.progress.phase("done");
  await t.persist.flush();
  const durationMs = Date.now() - t.started;
  await db.tableResult.update({
    where: { id: t.resultId },
    data: {
      status: "succeeded",
      phase: "done",
      rowsRead: BigInt(outcome?.rowsRead ?? 0),
      rowsWritten: BigInt(outcome?.rowsWritten ?? 0),
      rowsCommitted: BigInt(outcome?.rowsWritten ?? 0),
      watermarkAfter: outcome?.watermarkAfter ?? null,
      watermarkColumn: outcome?.watermarkAfter != null ? (outcome.watermarkColumn ?? t.watermarkColumn ?? null) : null,
      verification: outcome?.verification?.detail ?? null,
      verified: outcome?.verification?.ok ?? null,
      partitionsCreated: outcome?.partitionsCreated ?? [],
      partitionsSwitched: outcome?.partitionsSwitched ?? [],
      finishedAt: new Date(),
      durationMs,
    },
  });
  if (outcome?.gapWatch) await recordGapWatch(db, t.environment, t.name, t.resultId, outcome.gapWatch);
  return { table: t.name, status: "succeeded", plan, outcome, durationMs };
}

async function recordFailure(db: Metadata, t: Tracked, failure: unknown, req: RunRequest, plan: TablePlan | undefined, pair: Sessions): Promise<TableReport> {
  // The product's own refusals stand as they are; anything else may be the consequence of a session ended.
  const e = failure instanceof RefreshError ? failure : sessionEnded(failure, pair);
  const hintFor = (x: unknown) => dialectFor(pair.target.engine).hintFor(x);
  const error = req.signal?.aborted ? cancelledMessage(req.signal, t.progress.committed) : e instanceof Error ? e.message : String(e);
  t.progress.phase("failed", { message: error });
  await t.persist.flush();
  const hint = req.signal?.aborted ? undefined : ((e as RefreshError).hint ?? hintFor(e));
  const durationMs = Date.now() - t.started;
  // rowsCommitted: what stayed in the target (the committed units); rowsWritten: what streamed, rolled back or not.
  await db.tableResult.update({
    where: { id: t.resultId },
    data: { status: "failed", phase: "failed", error, errorHint: hint ?? null, finishedAt: new Date(), durationMs, rowsWritten: BigInt(Math.max(t.progress.rows, t.progress.committed)), rowsCommitted: BigInt(t.progress.committed) },
  });
  return { table: t.name, status: "failed", plan, error, hint, durationMs, rowsCommitted: t.progress.committed };
}

/** The refresh committed, but what UAT holds now differs from what production held: the table fails, saying so. */
async function recordUnverified(db: Metadata, t: Tracked, plan: TablePlan, outcome: TableOutcome): Promise<TableReport> {
  const v = outcome.verification!;
  const error = `verification failed: ${v.detail}; the refreshed rows were committed`;
  t.progress.phase("failed", { message: error });
  await t.persist.flush();
  const durationMs = Date.now() - t.started;
  await db.tableResult.update({
    where: { id: t.resultId },
    data: {
      status: "failed", phase: "failed", error, finishedAt: new Date(), durationMs, verification: v.detail, verified: false,
      rowsRead: BigInt(outcome.rowsRead), rowsWritten: BigInt(outcome.rowsWritten), rowsCommitted: BigInt(outcome.rowsWritten), watermarkAfter: outcome.watermarkAfter ?? null,
      watermarkColumn: outcome.watermarkAfter != null ? (outcome.watermarkColumn ?? t.watermarkColumn ?? null) : null,
    },
  });
  // Its rows were committed: the gaps it watched are the next run's.
  if (outcome.gapWatch) await recordGapWatch(db, t.environment, t.name, t.resultId, outcome.gapWatch);
  return { table: t.name, status: "failed", plan, outcome, error, durationMs, rowsCommitted: outcome.rowsWritten };
}

/** A committed refresh (or a dry run): succeeded, unless its verification found UAT's rows different. */
function recordCommitted(db: Metadata, t: Tracked, plan: TablePlan, outcome: TableOutcome | undefined): Promise<TableReport> {
  return outcome?.verification && !outcome.verification.ok ? recordUnverified(db, t, plan, outcome) : recordSuccess(db, t, plan, outcome);
}

/** Cancelling cuts both connections: the server rolls the open transaction back, so the target keeps its last
 *  committed state, exactly as after a kill. Returns what stops listening. */
function cutOnAbort(pair: Sessions, req: RunRequest) {
  const cut = () => {
    pair.source.destroy();
    pair.target.destroy();
  };
  req.signal?.addEventListener("abort", cut, { once: true });
  return () => req.signal?.removeEventListener("abort", cut);
}

async function freshSessions(pair: Sessions) {
  // The pair may be unusable after a failure mid-stream: give the next unit fresh sessions.
  await pair.reopen("source").catch(() => {});
  await pair.reopen("target").catch(() => {});
}

export async function refreshTable(db: Metadata, runId: string, resultId: string, config: RefreshConfig, table: TableConfigInput, pair: Sessions, req: RunRequest): Promise<TableReport> {
  const t = await track(db, runId, resultId, table.name, req);
  let plan: TablePlan | undefined;
  const stopListening = cutOnAbort(pair, req);
  try {
    const planned = await planTable(db, t, config, table, pair, req);
    plan = planned.plan;
    const outcome = req.dryRun ? undefined : await strategyFor(table.strategy).execute(planned.ctx, plan);
    return await recordCommitted(db, t, plan, outcome);
  } catch (e) {
    const report = await recordFailure(db, t, e, req, plan, pair);
    await freshSessions(pair);
    return report;
  } finally {
    stopListening();
  }
}

/** A refused group still plans every member, so each problem of the configuration is said at once (a misspelled
 *  column is not hidden behind the refusal); the refusal is said on the tables it concerns, the others point there. */
async function refuseGroup(db: Metadata, tracked: Map<string, Tracked>, config: RefreshConfig, refused: Record<string, string>, group: RefreshGroup, pair: Sessions, req: RunRequest, note: string) {
  const named = Object.keys(refused);
  const reports: TableReport[] = [];
  for (const m of group.members) {
    const t = tracked.get(m.name)!;
    try {
      await planTable(db, t, config, config.tables.find((x) => x.name === m.name)!, pair, { ...req, dryRun: true }, note);
      throw new RefreshError(refused[m.name] ?? `not refreshed: its group is refused (see ${named.join(", ")}: referenced by tables outside the configuration)`);
    } catch (e) {
      reports.push(await recordFailure(db, t, e, req, undefined, pair));
    }
  }
  await freshSessions(pair);
  return reports;
}

/**
 * A refresh group: every member planned, then all loaded in one target transaction (lib/engine/group-refresh).
 * staging_partition_switch members keep their own short per-day transactions and run after the group committed
 * (their parents were merged, so the rows they reference stay). Any failure fails every member of the
 * transaction: nothing of it was committed.
 */
export async function refreshGroup(db: Metadata, runId: string, resultIds: Map<string, string>, config: RefreshConfig, unit: GroupUnit, pair: Sessions, req: RunRequest): Promise<TableReport[]> {
  const { group } = unit;
  const note = `refreshed as one group: ${describeGroup(group)}`;
  const tracked = new Map<string, Tracked>();
  for (const m of group.members) tracked.set(m.name, await track(db, runId, resultIds.get(m.name)!, m.name, req));
  const tableOf = (m: Member) => config.tables.find((t) => t.name === m.name)!;
  if (unit.refused) return refuseGroup(db, tracked, config, unit.refused, group, pair, req, note);
  const plans = new Map<string, TablePlan>();
  const stopListening = cutOnAbort(pair, req);
  const inTransaction = group.members.filter((m) => m.kind !== "switch");
  try {
    const members: GroupMember[] = [];
    const switched: { member: Member; ctx: TableContext }[] = [];
    for (const m of group.members) {
      const role = { merged: group.merged.has(m.name), suspendsKeys: group.suspended.some((k) => refKey(k.table) === refKey(m.target)) };
      const { ctx, plan } = await planTable(db, tracked.get(m.name)!, config, tableOf(m), pair, req, note, role);
      plans.set(m.name, plan);
      // Checked in the plan, so a dry run says it too. Recorded as "merge": its rows committed are the rows it
      // changed, not the table's rows (the dashboard reads a replace's committed rows as the table's).
      if (group.merged.has(m.name)) {
        mergeKey(ctx, mergeReason(m));
        plan.merged = true;
        await db.tableResult.update({ where: { id: tracked.get(m.name)!.resultId }, data: { mode: effectiveMode(plan) } });
      }
      if (m.kind === "switch") switched.push({ member: m, ctx });
      else members.push({ member: m, ctx, plan });
    }
    const reports: TableReport[] = [];
    if (req.dryRun) {
      for (const m of group.members) reports.push(await recordSuccess(db, tracked.get(m.name)!, plans.get(m.name)!, undefined));
      return reports;
    }
    if (members.length) {
      const results = await executeGroup(group, members, unit.referencing);
      for (const m of members) {
        const r = results.get(m.member.name)!;
        const t = tracked.get(m.member.name)!;
        const plan = plans.get(m.member.name)!;
        const merged = r.merge ? `; merged: ${r.merge.updated} updated, ${r.merge.inserted} inserted, ${r.merge.deleted} deleted${r.merge.kept ? `, ${r.merge.kept} gone from the source kept (still referenced)` : ""}${r.merge.keptOfUat ? `, ${r.merge.keptOfUat} of UAT's id range kept (UAT's rows reference them)` : ""}` : "";
        plan.reason += merged;
        await db.tableResult.update({ where: { id: t.resultId }, data: { modeReason: plan.reason } });
        reports.push(await recordCommitted(db, t, plan, { plan, rowsRead: r.read, rowsWritten: r.written, watermarkAfter: await watermarkNow(m.ctx, r.copiedUpTo), partitionsCreated: [], partitionsSwitched: [], verification: r.verification, gapWatch: m.ctx.gapWatch }));
      }
    }
    for (const s of switched) {
      const t = tracked.get(s.member.name)!;
      try {
        reports.push(await recordCommitted(db, t, plans.get(s.member.name)!, await strategyFor("staging_partition_switch").execute(s.ctx, plans.get(s.member.name)!)));
      } catch (e) {
        reports.push(await recordFailure(db, t, e, req, plans.get(s.member.name), pair));
        await freshSessions(pair);
      }
    }
    return reports;
  } catch (e) {
    // The one transaction rolled back (or never started), or failed after its commit (its members' rows then count
    // as committed): every member failed with the group; partition-switch members, which would have run after it,
    // did not run.
    const reports: TableReport[] = [];
    const named = sessionEnded(e, pair);
    const message = named instanceof Error ? named.message : String(named);
    for (const m of group.members) {
      const err = m.kind === "switch" && inTransaction.length ? new RefreshError(`not run: its group failed first (${message})`) : named;
      reports.push(await recordFailure(db, tracked.get(m.name)!, err, req, plans.get(m.name), pair));
    }
    await freshSessions(pair);
    return reports;
  } finally {
    stopListening();
  }
}

/** Writes progress to the metadata DB at most once a second (the last event of a burst included, on a timer),
 *  so other processes (and reloads) can follow. */
function throttledPersist(db: Metadata, resultId: string) {
  let last = 0;
  let pending: ProgressEvent | null = null;
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<unknown> = Promise.resolve();
  const writeNow = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const e = pending;
    pending = null;
    if (!e) return;
    last = Date.now();
    writing = writing.then(() =>
      db.tableResult.update({ where: { id: resultId }, data: { phase: e.phase, rowsWritten: BigInt(e.rows), rowsCommitted: BigInt(e.committed) } }).catch(() => {}),
    );
  };
  let committed = 0;
  const fn = (e: ProgressEvent) => {
    pending = e;
    const wait = 1000 - (Date.now() - last);
    // A commit is written at once: it is what a killed run leaves behind.
    if (wait <= 0 || e.phase !== "loading" || e.committed !== committed) writeNow();
    else timer ??= setTimeout(writeNow, wait);
    committed = e.committed;
  };
  fn.flush = async () => {
    writeNow();
    await writing;
  };
  return fn;
}

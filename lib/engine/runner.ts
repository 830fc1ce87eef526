// A refresh run: picks tables, guards (same database, locks), groups tables related by foreign keys into units
// (lib/engine/run-units), runs the units up to max_parallel_tables at once (lib/engine/table-run) and records the
// run in the metadata DB. The CLI, the web app, the scheduler and the queue workers all come through here.
import { exportConfig, resolveEnvironment } from "../config/store";
import { environmentNameFor } from "../config/environments";
import { activeBlackout } from "../config/blackout";
import { BlackoutError } from "./errors";
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import { dialectFor } from "../dialects";
import { sameDatabase, type ServerIdentity, type Session } from "../dialects/types";
import { guardAcrossEnvironments } from "./environment-guard";
import type { Metadata } from "../metadata/client";
import { checkCredentials, endpointFor, openSession, type Purpose } from "./connections";
import { type Sessions } from "./context";
import { RefreshError } from "./errors";
import { holdersOf, TableBusyError } from "./busy";
import { lockedTables, TableLocks } from "./locks";
import { planUnits, type RunUnit } from "./run-units";
import { readAhead } from "./read-ahead";
import { cancelledMessage, refreshGroup, refreshTable } from "./table-run";
import { StepLog } from "./steps";
import { configuredMode } from "../mode";

import type { FinalStatus, RunReport, RunRequest, TableReport } from "./run-types";

export type { FinalStatus, RunReport, RunRequest, TableReport };
export { TableBusyError, type BusyTable } from "./busy";

/** A table asked for by name that the configuration does not have (a usage error: the CLI exits 2). */
export class UnknownTableError extends RefreshError {}

/** The tables a run refreshes: those named, or every enabled one. A table UAT keeps whole (keep_table) is never
 *  refreshed; it stays configured, so the tables it references keep the rows it uses. */
export function selectTables(config: RefreshConfig, names?: string[]): TableConfigInput[] {
  if (!names?.length) return config.tables.filter((t) => t.enabled && !t.keep_table);
  return names.map((n) => {
    const t = config.tables.find((x) => x.name.toLowerCase() === n.toLowerCase());
    if (!t) throw new UnknownTableError(`unknown table ${n}; configured tables: ${config.tables.map((x) => x.name).join(", ") || "(none)"}`);
    if (t.keep_table) throw new UnknownTableError(`${t.name} is kept by UAT (keep_table): it is never refreshed; the tables it references keep the rows it uses`);
    return t;
  });
}

/** Runs inside every target transaction, just before its commit, on that transaction's session. */
type CommitGuard = (session: Session) => Promise<void>;

/** The target session with `guard` run inside every transaction, just before it commits (a run that lost its table
 *  locks must not commit; a table's post-refresh steps run there). */
function guardCommits(session: Session, guard?: CommitGuard): Session {
  if (!guard) return session;
  const transaction = <T>(fn: () => Promise<T>) =>
    session.transaction(async () => {
      const result = await fn();
      await guard(session);
      return result;
    });
  return new Proxy(session, {
    get(target, prop) {
      if (prop === "transaction") return transaction;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** Opens source (read-only) and target, refusing a target that is the source database. `guard` runs before every
 *  commit on the target. */
export async function openPair(config: RefreshConfig, purpose: Purpose, guard?: CommitGuard): Promise<Sessions & { close(): Promise<void>; identities: { source: ServerIdentity; target: ServerIdentity } }> {
  checkCredentials(config);
  // Both at once (a TLS handshake and a sign-in each); a side that fails closes the other, the source's failure named first.
  const opened = await Promise.allSettled([openSession(config.databases.source, "source", config.settings, purpose), openSession(config.databases.target, "target", config.settings, purpose)]);
  const failed = opened.find((o) => o.status === "rejected");
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === "fulfilled" ? o.value.close().catch(() => {}) : undefined)));
    throw failed.reason;
  }
  const [source, opening] = opened.map((o) => (o as PromiseFulfilledResult<Session>).value);
  const target = guardCommits(opening, guard);
  let identities: { source: ServerIdentity; target: ServerIdentity };
  try {
    const [s, t] = await Promise.all([source.identity(), target.identity()]);
    if (sameDatabase(s, t)) throw new RefreshError(`the target database ${t.database} is the source database: refusing to refresh a database from itself`);
    if (t.readOnly && purpose.kind === "run")
      throw new RefreshError(`the target database ${t.database} takes no writes: ${t.readOnly}`, { hint: "Point the environment's target at a writable UAT database (its primary), or lift the read-only setting there; nothing was planned or written." });
    identities = { source: s, target: t };
  } catch (e) {
    await Promise.all([source.close(), target.close()].map((p) => p.catch(() => {})));
    throw e;
  }
  const pair = {
    source,
    target,
    identities,
    endpoints: { source: endpointFor(config.databases.source, "source", config.settings, purpose), target: endpointFor(config.databases.target, "target", config.settings, purpose) },
    async reopen(which: "source" | "target") {
      const old = pair[which];
      await old.close().catch(() => {});
      const fresh = await openSession(config.databases[which], which, config.settings, purpose);
      pair[which] = which === "target" ? guardCommits(fresh, guard) : fresh;
    },
    async close() {
      await Promise.all([pair.source.close(), pair.target.close()]);
    },
  };
  return pair;
}

/** How often an executing run looks for a stop asked for by another process. */
export const CANCEL_POLL_MS = 1000;

export async function runRefresh(db: Metadata, lockUrl: string, req: RunRequest): Promise<RunReport> {
  const queued = req.queuedRunId ? await db.refreshRun.findUnique({ where: { id: req.queuedRunId }, include: { tables: true } }) : null;
  if (req.queuedRunId && queued?.status !== "queued") {
    // Cancelled (or already taken) while it waited: nothing to do.
    return { runId: req.queuedRunId, status: "cancelled", tables: [] };
  }
  const environment = queued?.environment ?? (req.config ? (req.environment ?? environmentNameFor(req.config)) : await resolveEnvironment(db, req.environment));
  const config = req.config ?? (await exportConfig(db, environment));
  const asked = queued ? { tables: queued.tables.map((t) => t.tableName), trigger: queued.trigger, triggeredBy: queued.triggeredBy, dryRun: queued.dryRun } : req;
  // No refresh starts in a blackout window (a dry run writes nothing: it may). A queued run whose turn comes in one
  // is not started either: it is recorded as cancelled, saying why.
  const blackout = asked.dryRun ? null : activeBlackout(config.blackout_windows);
  if (blackout) {
    const refused = new BlackoutError(environment, blackout.name, blackout.until);
    if (queued) await cancelQueued(db, queued.id, refused.message);
    throw refused;
  }
  let tables: TableConfigInput[];
  try {
    tables = selectTables(config, asked.tables);
  } catch (e) {
    if (queued) await finishRun(db, queued.id, "failed", [], e);
    throw e;
  }
  const locks = new TableLocks(lockUrl, environment);
  // From here on every path releases the locks (the finally below), including a metadata error right after they
  // were taken.
  let stop: ReturnType<typeof cancelWatch> | undefined;
  let lockLost: string | null = null;
  let steps: StepLog | undefined;
  let stepError: string | null = null;
  const reports: TableReport[] = [];
  let runId: string;
  try {
    // Lock first: a table already refreshing is refused before anything else happens.
    const busy: string[] = [];
    for (const t of tables) if (!(await locks.tryLock(t.name))) busy.push(t.name);
    if (!queued && req.tables?.length && busy.length) throw new TableBusyError(await holdersOf(db, lockUrl, environment, busy));
    // A queued run was accepted when its tables were free; one taken since (by the CLI) is skipped, not waited for.
    const initialState = (t: string) => (busy.includes(t) ? { status: "skipped" as const, error: "already being refreshed by another run" } : { status: "pending" as const, error: null });
    const run = queued
      ? await db.$transaction(async (tx) => {
          // Only a run still queued is taken: a cancel that came first wins.
          const taken = await tx.refreshRun.updateMany({ where: { id: queued.id, status: "queued" }, data: { status: "running", startedAt: new Date(), executor: req.executor ?? null } });
          if (!taken.count) return null;
          for (const t of queued.tables) await tx.tableResult.update({ where: { id: t.id }, data: initialState(t.tableName) });
          return tx.refreshRun.findUniqueOrThrow({ where: { id: queued.id }, include: { tables: true } });
        })
      : await db.refreshRun.create({
          data: {
            environment,
            trigger: req.trigger,
            triggeredBy: req.triggeredBy,
            dryRun: !!req.dryRun,
            executor: req.executor ?? null,
            retryOf: req.retryOf ?? null,
            tablesTotal: tables.length,
            tables: { create: tables.map((t) => ({ tableName: t.name, strategy: t.strategy, configuredMode: configuredMode(t), ...initialState(t.name) })) },
          },
          include: { tables: true },
        });
    if (!run) return { runId: req.queuedRunId!, environment, status: "cancelled", tables: [] };
    runId = run.id;
    await markInterrupted(db, run.id, environment, tables.filter((t) => !busy.includes(t.name)).map((t) => t.name));
    req.onStarted?.(run.id, environment);
    // One signal for every way a run is stopped: the caller's (same process), a request recorded by anyone, or the
    // loss of the table locks (another process may take the tables now: nothing more of this run may commit).
    stop = cancelWatch(db, run.id, req.signal);
    const stopNow = stop.abort;
    locks.onLost((why) => {
      lockLost = why;
      stopNow(`because its table locks were lost (${why})`);
    });
    req = { ...req, ...asked, environment, signal: stop.signal };
    steps = StepLog.forRun(config, tables.filter((t) => !busy.includes(t.name)).map((t) => t.name), run, !!req.dryRun);
    reports.push(...busy.map((t) => ({ table: t, status: "skipped" as const, error: "already being refreshed by another run", durationMs: 0 })));

    // Up to max_parallel_tables tables at once, each on its own pair of sessions. The first pair opens before any
    // table starts: an unreachable database or a target that is the source fails the run at once. Every commit on
    // the target first proves the table locks are still held.
    type Pair = Awaited<ReturnType<typeof openPair>>;
    const purpose = { kind: "run", runId: run.id } as const;
    // The tables each slot refreshes now: their post-refresh steps run before each of the slot's commits.
    const refreshing: (string[] | undefined)[] = [];
    const guard =
      (slot: number): CommitGuard =>
      async (session) => {
        await locks.assertHeld();
        const names = refreshing[slot];
        if (names && steps) await steps.execute(session, steps.scopedTo(names));
      };
    const pairs: (Pair | undefined)[] = [];
    try {
      try {
        pairs.push(await openPair(config, purpose, guard(0)));
        await guardAcrossEnvironments(db, environment, pairs[0]!.identities);
      } catch (e) {
        await finishRun(db, run.id, "failed", reports, e);
        throw e;
      }
      // Tables related by foreign keys run as one unit (one transaction); the others one by one. The units are planned
      // from the target's catalog; meanwhile the source's session reads the first table's (lib/engine/read-ahead).
      let queue: RunUnit[];
      const runnable = tables.filter((t) => !busy.includes(t.name));
      const ahead = runnable.length ? readAhead(pairs[0]!.source, runnable[0]) : undefined;
      try {
        queue = await planUnits(config.tables, runnable, pairs[0]!.target, dialectFor(config.databases.target.engine));
      } catch (e) {
        await ahead?.settled;
        await finishRun(db, run.id, "failed", reports, e);
        throw e;
      }
      // Slot 0 starts now with the first unit: the answers go to it if it refreshes that table. A table's refresh asks
      // the source's catalog before anything else on that session, so it may take them still being read; a group (or
      // any other unit) waits until the session is free.
      const first = queue[0];
      if (ahead && !(first?.kind === "table" && first.table === runnable[0])) await ahead.settled;
      if (ahead && first && (first.kind === "table" ? [first.table] : first.tables).includes(runnable[0])) pairs[0]!.readAhead = ahead;
      const resultIds = new Map(run.tables.map((r) => [r.tableName, r.id]));
      const worker = async (slot: number) => {
        for (let u = queue.shift(); u; u = queue.shift()) {
          const unitTables = u.kind === "table" ? [u.table] : u.tables;
          if (req.signal?.aborted) {
            const error = cancelledMessage(req.signal);
            for (const t of unitTables) {
              await db.tableResult.update({ where: { id: resultIds.get(t.name)! }, data: { status: "skipped", error } });
              reports.push({ table: t.name, status: "skipped", error, durationMs: 0 });
            }
          } else {
            const names = unitTables.map((t) => t.name);
            refreshing[slot] = names;
            try {
              const pair = (pairs[slot] ??= await openPair(config, purpose, guard(slot)));
              const done = u.kind === "table" ? [await refreshTable(db, run.id, resultIds.get(u.table.name)!, config, u.table, pair, req)] : await refreshGroup(db, run.id, resultIds, config, u.unit, pair, req);
              reports.push(...done);
              pair.readAhead = undefined;
              const failed = done.find((r) => r.status === "failed");
              if (failed) {
                steps?.unitFailed(names, failed.error ?? "failed");
                // A failed unit may leave a session mid-statement or ended: the slot's next unit starts on fresh ones.
                await pair.close().catch(() => {});
                pairs[slot] = undefined;
              }
            } catch (e) {
              // Only opening this slot's sessions can throw here (the units record their own failures).
              const error = (e as Error).message;
              for (const t of unitTables) {
                await db.tableResult.update({ where: { id: resultIds.get(t.name)! }, data: { status: "failed", phase: "failed", error, finishedAt: new Date() } });
                reports.push({ table: t.name, status: "failed", error, durationMs: 0 });
              }
            } finally {
              refreshing[slot] = undefined;
            }
          }
          for (const t of unitTables) await locks.unlock(t.name);
        }
      };
      const slots = Math.max(1, Math.min(config.settings.max_parallel_tables, queue.length));
      await Promise.all(Array.from({ length: slots }, (_, i) => worker(i)));
      if (!req.dryRun) stepError = await runWideSteps(steps!, reports, stop.signal, () => openSession(config.databases.target, "target", config.settings, purpose));
    } finally {
      await Promise.all(pairs.map((p) => p?.close()));
    }
  } finally {
    stop?.close();
    await locks.close();
  }
  const order = new Map(tables.map((t, i) => [t.name, i]));
  reports.sort((a, b) => order.get(a.table)! - order.get(b.table)!);
  const failed = reports.filter((r) => r.status !== "succeeded").length;
  // A run that lost its locks failed (nobody asked it to stop); one stopped by a request was cancelled.
  // A run-wide step that failed fails the run: what UAT needs after the refresh is not there.
  const status: FinalStatus = lockLost || stepError ? "failed" : stop!.signal.aborted ? "cancelled" : failed === 0 ? "succeeded" : failed === reports.length ? "failed" : "partial";
  if (!req.dryRun) steps?.markUnrun("none of its tables reached a commit");
  await steps?.record(db, runId!);
  await finishRun(db, runId!, status, reports, stepError ? new Error(`${stepError}; the tables' refreshes stay committed, no run-wide step's change was kept`) : undefined);
  return { runId: runId!, environment, status, tables: reports, steps: steps?.list() };
}

/** A queued run that will not start: cancelled with the reason, its tables skipped. */
async function cancelQueued(db: Metadata, runId: string, why: string) {
  const done = await db.refreshRun.updateMany({ where: { id: runId, status: "queued" }, data: { status: "cancelled", finishedAt: new Date(), error: why } });
  if (done.count) await db.tableResult.updateMany({ where: { runId, status: "pending" }, data: { status: "skipped", error: why } });
}

/** The run-wide post-refresh steps, once the tables are done: not after a cancel, nor when no table committed. */
async function runWideSteps(steps: StepLog, reports: TableReport[], signal: AbortSignal, open: () => Promise<Session>): Promise<string | null> {
  if (!steps.runWide.length) return null;
  if (signal.aborted) return steps.skipRunWide("not run: the run was cancelled"), null;
  if (!reports.some((r) => r.status === "succeeded")) return steps.skipRunWide("not run: no table of the run was refreshed"), null;
  return steps.runAfterTables(open);
}

/** Aborts when `outer` does or when a stop for this run is recorded in the metadata DB (from any process). */
function cancelWatch(db: Metadata, runId: string, outer?: AbortSignal) {
  const controller = new AbortController();
  const abort = () => controller.abort(outer?.reason);
  if (outer?.aborted) abort();
  outer?.addEventListener("abort", abort, { once: true });
  const timer = setInterval(() => {
    void db.refreshRun
      .findUnique({ where: { id: runId }, select: { cancelRequestedBy: true } })
      .then((r) => r?.cancelRequestedBy && !controller.signal.aborted && controller.abort(`by ${r.cancelRequestedBy}`))
      .catch(() => {});
  }, CANCEL_POLL_MS);
  timer.unref();
  return {
    signal: controller.signal,
    abort: (reason: string) => !controller.signal.aborted && controller.abort(reason),
    close() {
      clearInterval(timer);
      outer?.removeEventListener("abort", abort);
    },
  };
}

/** Rows left "running" by a process that died: we hold the lock now, so nobody else is running them. */
async function markInterrupted(db: Metadata, currentRunId: string, environment: string, tables: string[]) {
  if (!tables.length) return;
  const stale = await db.tableResult.findMany({
    where: { tableName: { in: tables }, status: { in: ["running", "pending"] }, runId: { not: currentRunId }, run: { environment } },
    select: { id: true, runId: true },
  });
  if (!stale.length) return;
  await recordInterrupted(
    db,
    stale.map((s) => s.id),
    [...new Set(stale.map((s) => s.runId))],
    "interrupted: the refresh process ended before this table finished",
    "interrupted: the refresh process ended before the run finished",
  );
}

/** Records tables and runs whose process died. Rows it had streamed but not committed were rolled back by the
 *  server: the tables keep their committed rows as rows written. */
async function recordInterrupted(db: Metadata, tableIds: string[], runIds: string[], tableError: string, runError: string) {
  // Only tables still pending or running: one that finished meanwhile keeps its outcome.
  await db.$executeRaw`UPDATE "TableResult" SET "status" = 'failed', "phase" = 'failed', "rowsWritten" = "rowsCommitted", "finishedAt" = now(),
    "error" = ${tableError} WHERE "id" = ANY(${tableIds}) AND "status" IN ('pending', 'running')`;
  await db.refreshRun.updateMany({ where: { id: { in: runIds }, status: "running" }, data: { status: "interrupted", finishedAt: new Date(), error: runError } });
}

/**
 * Marks runs whose executing process died (a killed worker or CLI) as interrupted. A live run holds the lock of
 * every table it has not finished (it takes them before it is marked running and releases each only after
 * recording that table's result), so a running run none of whose unfinished tables is locked has no process left.
 * Such runs are never retried by themselves. Returns the ids marked.
 */
export async function sweepInterruptedRuns(db: Metadata, lockUrl: string): Promise<string[]> {
  const runs = await db.refreshRun.findMany({ where: { status: "running" }, include: { tables: { where: { status: { in: ["pending", "running"] } } } } });
  const candidates = runs.filter((r) => r.tables.length);
  if (!candidates.length) return [];
  const dead: typeof candidates = [];
  for (const environment of new Set(candidates.map((r) => r.environment))) {
    const runs = candidates.filter((r) => r.environment === environment);
    const locked = await lockedTables(lockUrl, environment, [...new Set(runs.flatMap((r) => r.tables.map((t) => t.tableName)))]);
    dead.push(...runs.filter((r) => r.tables.every((t) => !locked.has(t.tableName))));
  }
  for (const r of dead) {
    const why = `interrupted: the process executing this run${r.executor ? ` (${r.executor})` : ""} ended before it finished; nothing uncommitted was kept`;
    await recordInterrupted(db, r.tables.map((t) => t.id), [r.id], why, why);
  }
  return dead.map((r) => r.id);
}

async function finishRun(db: Metadata, runId: string, status: FinalStatus, reports: TableReport[], error?: unknown) {
  const run = await db.refreshRun.findUniqueOrThrow({ where: { id: runId } });
  await db.refreshRun.update({
    where: { id: runId },
    data: {
      status,
      finishedAt: new Date(),
      durationMs: Date.now() - run.startedAt.getTime(),
      tablesSucceeded: reports.filter((r) => r.status === "succeeded").length,
      tablesFailed: reports.filter((r) => r.status !== "succeeded").length,
      rowsWritten: BigInt(reports.reduce((s, r) => s + (r.outcome?.rowsWritten ?? r.rowsCommitted ?? 0), 0)),
      error: error ? (error instanceof Error ? error.message : String(error)) : reports.find((r) => r.error)?.error ?? null,
    },
  });
  if (error) {
    await db.tableResult.updateMany({ where: { runId, status: { in: ["pending", "running"] } }, data: { status: "failed", error: error instanceof Error ? error.message : String(error) } });
  }
}

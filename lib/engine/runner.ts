// A refresh run: picks tables, guards (same database, locks), runs each table's strategy and records it all
// in the metadata DB. The CLI, the web app and the scheduler all come through here.
import { exportConfig } from "../config/store";
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import { dialectFor } from "../dialects";
import { sameDatabase, type Session } from "../dialects/types";
import type { Metadata } from "../metadata/client";
import type { Trigger } from "../generated/prisma/client";
import { openSession, type Purpose } from "./connections";
import { RefreshError, resolveTable, type Sessions } from "./context";
import { holdersOf, TableBusyError } from "./busy";
import { lockedTables, TableLocks } from "./locks";
import { ProgressTracker, type ProgressEvent, type ProgressListener } from "./progress";
import { refuseUnmaskedPersonalData } from "./masking/stage";
import { strategyFor } from "./strategies";
import type { TableOutcome, TablePlan } from "./strategies/types";

export interface RunRequest {
  /** Table names; empty or absent = every enabled table. */
  tables?: string[];
  trigger: Trigger;
  triggeredBy: string;
  dryRun?: boolean;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Called once the run row exists, before any table starts (the web app answers the request here). */
  onStarted?: (runId: string) => void;
  /** Use this configuration instead of the metadata DB's (CLI `--config FILE`). */
  config?: RefreshConfig;
  /** Execute this queued run: its row holds the tables, the trigger and who asked (those fields here are ignored). */
  queuedRunId?: string;
  /** Who executes the run, shown on its page: "worker 4711@host", "cli ada@laptop". */
  executor?: string;
}

export interface TableReport {
  table: string;
  status: "succeeded" | "failed" | "skipped";
  plan?: TablePlan;
  outcome?: TableOutcome;
  error?: string;
  hint?: string;
  durationMs: number;
  /** A failed table: the rows of its committed units, which stay in the target. */
  rowsCommitted?: number;
}

export { TableBusyError, type BusyTable } from "./busy";

export type FinalStatus = "succeeded" | "failed" | "partial" | "cancelled";

export interface RunReport {
  runId: string;
  status: FinalStatus;
  tables: TableReport[];
}

export function selectTables(config: RefreshConfig, names?: string[]): TableConfigInput[] {
  if (!names?.length) return config.tables.filter((t) => t.enabled);
  return names.map((n) => {
    const t = config.tables.find((x) => x.name.toLowerCase() === n.toLowerCase());
    if (!t) throw new RefreshError(`unknown table ${n}; configured tables: ${config.tables.map((x) => x.name).join(", ") || "(none)"}`);
    return t;
  });
}

/** Opens source (read-only) and target, refusing a target that is the source database. */
export async function openPair(config: RefreshConfig, purpose: Purpose): Promise<Sessions & { close(): Promise<void> }> {
  const source = await openSession(config.databases.source, "source", config.settings, purpose);
  let target: Session;
  try {
    target = await openSession(config.databases.target, "target", config.settings, purpose);
    const [s, t] = await Promise.all([source.identity(), target.identity()]);
    if (sameDatabase(s, t)) throw new RefreshError(`the target database ${t.database} is the source database: refusing to refresh a database from itself`);
  } catch (e) {
    await source.close();
    throw e;
  }
  const pair = {
    source,
    target,
    async reopen(which: "source" | "target") {
      const old = pair[which];
      await old.close().catch(() => {});
      pair[which] = await openSession(config.databases[which], which, config.settings, purpose);
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
  const config = req.config ?? (await exportConfig(db));
  const asked = queued ? { tables: queued.tables.map((t) => t.tableName), trigger: queued.trigger, triggeredBy: queued.triggeredBy, dryRun: queued.dryRun } : req;
  let tables: TableConfigInput[];
  try {
    tables = selectTables(config, asked.tables);
  } catch (e) {
    if (queued) await finishRun(db, queued.id, "failed", [], e);
    throw e;
  }
  const locks = new TableLocks(lockUrl);
  // Lock first: a table already refreshing is refused before anything else happens.
  const busy: string[] = [];
  for (const t of tables) if (!(await locks.tryLock(t.name))) busy.push(t.name);
  if (!queued && req.tables?.length && busy.length) {
    await locks.close();
    throw new TableBusyError(await holdersOf(db, lockUrl, busy));
  }
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
          trigger: req.trigger,
          triggeredBy: req.triggeredBy,
          dryRun: !!req.dryRun,
          executor: req.executor ?? null,
          tablesTotal: tables.length,
          tables: { create: tables.map((t) => ({ tableName: t.name, strategy: t.strategy, ...initialState(t.name) })) },
        },
        include: { tables: true },
      });
  if (!run) {
    await locks.close();
    return { runId: req.queuedRunId!, status: "cancelled", tables: [] };
  }
  await markInterrupted(db, run.id, tables.filter((t) => !busy.includes(t.name)).map((t) => t.name));
  req.onStarted?.(run.id);
  // One signal for every way a run is stopped: the caller's (same process) or a request recorded by anyone.
  const stop = cancelWatch(db, run.id, req.signal);
  req = { ...req, ...asked, signal: stop.signal };

  const reports: TableReport[] = busy.map((t) => ({ table: t, status: "skipped", error: "already being refreshed by another run", durationMs: 0 }));
  // Up to max_parallel_tables tables at once, each on its own pair of sessions. The first pair opens before any
  // table starts: an unreachable database or a target that is the source fails the run at once.
  type Pair = Awaited<ReturnType<typeof openPair>>;
  const purpose = { kind: "run", runId: run.id } as const;
  const pairs: Pair[] = [];
  try {
    try {
      pairs.push(await openPair(config, purpose));
    } catch (e) {
      await finishRun(db, run.id, "failed", reports, e);
      throw e;
    }
    const queue = tables.filter((t) => !busy.includes(t.name));
    const worker = async (slot: number) => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const resultId = run.tables.find((r) => r.tableName === t!.name)!.id;
        if (req.signal?.aborted) {
          const error = cancelledMessage(req.signal);
          await db.tableResult.update({ where: { id: resultId }, data: { status: "skipped", error } });
          reports.push({ table: t.name, status: "skipped", error, durationMs: 0 });
        } else {
          try {
            pairs[slot] ??= await openPair(config, purpose);
            reports.push(await refreshTable(db, run.id, resultId, config, t, pairs[slot], req));
          } catch (e) {
            // Only opening this slot's sessions can throw here (refreshTable records its own failures).
            const error = (e as Error).message;
            await db.tableResult.update({ where: { id: resultId }, data: { status: "failed", phase: "failed", error, finishedAt: new Date() } });
            reports.push({ table: t.name, status: "failed", error, durationMs: 0 });
          }
        }
        await locks.unlock(t.name);
      }
    };
    const slots = Math.max(1, Math.min(config.settings.max_parallel_tables, queue.length));
    await Promise.all(Array.from({ length: slots }, (_, i) => worker(i)));
  } finally {
    stop.close();
    await Promise.all(pairs.map((p) => p?.close()));
    await locks.close();
  }
  const order = new Map(tables.map((t, i) => [t.name, i]));
  reports.sort((a, b) => order.get(a.table)! - order.get(b.table)!);
  const failed = reports.filter((r) => r.status !== "succeeded").length;
  const status: FinalStatus = stop.signal.aborted ? "cancelled" : failed === 0 ? "succeeded" : failed === reports.length ? "failed" : "partial";
  await finishRun(db, run.id, status, reports);
  return { runId: run.id, status, tables: reports };
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
    close() {
      clearInterval(timer);
      outer?.removeEventListener("abort", abort);
    },
  };
}

async function refreshTable(
  db: Metadata,
  runId: string,
  resultId: string,
  config: RefreshConfig,
  table: TableConfigInput,
  pair: Sessions,
  req: RunRequest,
): Promise<TableReport> {
  const started = Date.now();
  const dialect = dialectFor(config.databases.target.engine);
  const persist = throttledPersist(db, resultId);
  const progress = new ProgressTracker(
    (e) => {
      req.onProgress?.(e);
      persist(e);
    },
    runId,
    table.name,
  );
  await db.tableResult.update({ where: { id: resultId }, data: { status: "running", phase: "planning", startedAt: new Date() } });
  let plan: TablePlan | undefined;
  // Cancelling cuts both connections: the server rolls the open transaction back, so the target keeps its
  // last committed state, exactly as after a kill.
  const cut = () => {
    pair.source.destroy();
    pair.target.destroy();
  };
  req.signal?.addEventListener("abort", cut, { once: true });
  try {
    progress.phase("planning");
    const ctx = await resolveTable(table, config.settings, dialect, pair, progress, req.signal);
    refuseUnmaskedPersonalData(ctx);
    const strategy = strategyFor(table.strategy);
    plan = await strategy.plan(ctx);
    progress.rowsExpected = plan.rowsExpected;
    await db.tableResult.update({
      where: { id: resultId },
      data: { mode: plan.mode, modeReason: plan.reason, rowsExpected: BigInt(plan.rowsExpected), watermarkBefore: plan.watermarkBefore ?? null, maskedColumns: plan.maskedColumns ?? [] },
    });
    const outcome = req.dryRun ? undefined : await strategy.execute(ctx, plan);
    await persist.flush();
    const durationMs = Date.now() - started;
    await db.tableResult.update({
      where: { id: resultId },
      data: {
        status: "succeeded",
        phase: "done",
        rowsRead: BigInt(outcome?.rowsRead ?? 0),
        rowsWritten: BigInt(outcome?.rowsWritten ?? 0),
        rowsCommitted: BigInt(outcome?.rowsWritten ?? 0),
        watermarkAfter: outcome?.watermarkAfter ?? null,
        partitionsCreated: outcome?.partitionsCreated ?? [],
        partitionsSwitched: outcome?.partitionsSwitched ?? [],
        finishedAt: new Date(),
        durationMs,
      },
    });
    progress.phase("done");
    return { table: table.name, status: "succeeded", plan, outcome, durationMs };
  } catch (e) {
    await persist.flush();
    const error = req.signal?.aborted ? cancelledMessage(req.signal) : e instanceof Error ? e.message : String(e);
    const hint = req.signal?.aborted ? undefined : ((e as RefreshError).hint ?? dialect.hintFor(e));
    const durationMs = Date.now() - started;
    // What stayed in the target: the committed units, not the rows of the transaction that rolled back.
    await db.tableResult.update({
      where: { id: resultId },
      data: { status: "failed", phase: "failed", error, errorHint: hint ?? null, finishedAt: new Date(), durationMs, rowsWritten: BigInt(progress.committed), rowsCommitted: BigInt(progress.committed) },
    });
    progress.phase("failed", { message: error });
    // The pair may be unusable after a failure mid-stream: give the next table fresh sessions.
    await pair.reopen("source").catch(() => {});
    await pair.reopen("target").catch(() => {});
    return { table: table.name, status: "failed", plan, error, hint, durationMs, rowsCommitted: progress.committed };
  } finally {
    req.signal?.removeEventListener("abort", cut);
  }
}

function cancelledMessage(signal: AbortSignal) {
  return `cancelled${typeof signal.reason === "string" ? ` ${signal.reason}` : ""}: nothing of the interrupted transaction was committed`;
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

/** Rows left "running" by a process that died: we hold the lock now, so nobody else is running them. */
async function markInterrupted(db: Metadata, currentRunId: string, tables: string[]) {
  if (!tables.length) return;
  const stale = await db.tableResult.findMany({
    where: { tableName: { in: tables }, status: { in: ["running", "pending"] }, runId: { not: currentRunId } },
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
  await db.$executeRaw`UPDATE "TableResult" SET "status" = 'failed', "phase" = 'failed', "rowsWritten" = "rowsCommitted", "finishedAt" = now(),
    "error" = ${tableError} WHERE "id" = ANY(${tableIds})`;
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
  const locked = await lockedTables(lockUrl, [...new Set(candidates.flatMap((r) => r.tables.map((t) => t.tableName)))]);
  const dead = candidates.filter((r) => r.tables.every((t) => !locked.has(t.tableName)));
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

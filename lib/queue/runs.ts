// Putting runs into the queue and taking them out of it again: what the web app and the scheduler call.
import type { PgBoss } from "pg-boss";
import { exportConfig, resolveEnvironment } from "../config/store";
import type { Trigger } from "../generated/prisma/client";
import type { Metadata } from "../metadata/client";
import { busyTables, holdersOf, TableBusyError } from "../engine/busy";
import { selectTables } from "../engine/runner";
import { activeBlackout } from "../config/blackout";
import { BlackoutError } from "../engine/errors";
import { jobIdFor, RUN_QUEUE, sendRunJob } from "./boss";
import { configuredMode } from "../mode";

export interface EnqueueRequest {
  /** The environment refreshed; absent: the only one. */
  environment?: string;
  /** Table names; empty or absent = every enabled table. */
  tables?: string[];
  trigger: Trigger;
  triggeredBy: string;
  dryRun?: boolean;
  /** A schedule marked pre-approved: no approval is waited for. */
  preApproved?: boolean;
  /** The run whose unfinished tables this one refreshes again (lib/run-retry). */
  retryOf?: string;
}

/** Serialises enqueues across instances, so "is this table queued or running?" and the insert are one step. */
const ENQUEUE_LOCK = 0x55_41_54_51; // "UATQ"

/**
 * Records a queued run and sends its job (or, where the environment requires approval of manual refreshes, records it
 * awaiting approval: lib/queue/approvals); resolves with the run id. Refuses at once (TableBusyError, a 409) when a
 * table it names is already queued or running, saying which run has it.
 */
export async function enqueueRun(db: Metadata, lockUrl: string, boss: PgBoss, req: EnqueueRequest): Promise<string> {
  const environment = await resolveEnvironment(db, req.environment);
  const config = await exportConfig(db, environment);
  const blackout = req.dryRun ? null : activeBlackout(config.blackout_windows);
  if (blackout) throw new BlackoutError(environment, blackout.name, blackout.until);
  const tables = selectTables(config, req.tables);
  const names = tables.map((t) => t.name);
  // A dry run writes nothing: it never waits for an approval.
  const awaiting = !!config.approval?.required && !req.dryRun && !req.preApproved;
  const run = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ENQUEUE_LOCK}::int, 0)`;
    if (req.tables?.length) {
      const busy = await busyTables(tx as unknown as Metadata, lockUrl, environment, names);
      // A lock whose run row does not say so (yet, or any more: the holder is just finishing): find that run.
      if (busy.length) throw new TableBusyError(busy.every((b) => b.runId) ? busy : await holdersOf(db, lockUrl, environment, busy.map((b) => b.table)));
    }
    return tx.refreshRun.create({
      data: {
        environment,
        ...(awaiting ? { status: "awaiting_approval" as const, approvalExpiresAt: new Date(Date.now() + config.approval!.expires_after_hours * 3_600_000) } : { status: "queued" as const, queuedAt: new Date() }),
        trigger: req.trigger,
        triggeredBy: req.triggeredBy,
        dryRun: !!req.dryRun,
        retryOf: req.retryOf ?? null,
        tablesTotal: tables.length,
        tables: { create: tables.map((t) => ({ tableName: t.name, strategy: t.strategy, configuredMode: configuredMode(t), status: "pending" })) },
      },
    });
  });
  if (awaiting) return run.id;
  try {
    await sendRunJob(boss, run.id);
  } catch (e) {
    await db.refreshRun.update({ where: { id: run.id }, data: { status: "failed", finishedAt: new Date(), error: `could not be queued: ${(e as Error).message}` } });
    throw e;
  }
  return run.id;
}

export type CancelOutcome = "cancelled" | "requested" | "finished" | "unknown";

/**
 * Stops a run wherever it is: a queued run is cancelled here and now (its job withdrawn); a running one gets a stop
 * request that the executing process (a worker, another instance, the CLI) acts on within seconds, rolling back
 * its open transactions. Finished runs are left alone.
 */
export async function requestCancel(db: Metadata, boss: PgBoss | null, runId: string, by: string): Promise<CancelOutcome> {
  const now = new Date();
  const why = `cancelled by ${by} before it started`;
  const queued = await db.refreshRun.updateMany({ where: { id: runId, status: "queued" }, data: { status: "cancelled", finishedAt: now, error: why, cancelRequestedBy: by, cancelRequestedAt: now } });
  if (queued.count) {
    await db.tableResult.updateMany({ where: { runId, status: "pending" }, data: { status: "skipped", error: why } });
    await boss?.cancel(RUN_QUEUE, jobIdFor(runId)).catch(() => {});
    return "cancelled";
  }
  const running = await db.refreshRun.updateMany({ where: { id: runId, status: "running" }, data: { cancelRequestedBy: by, cancelRequestedAt: now } });
  if (running.count) return "requested";
  return (await db.refreshRun.findUnique({ where: { id: runId }, select: { id: true } })) ? "finished" : "unknown";
}

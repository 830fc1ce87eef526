// Workers: every app instance, and `npm run worker` on any host, take queued runs and execute them, up to
// settings.max_concurrent_runs at a time. They also mark runs whose executing process died as interrupted.
import os from "node:os";
import type { PgBoss } from "pg-boss";
import { runRefresh, sweepInterruptedRuns, type RunReport } from "../engine/runner";
import { expireApprovals } from "./approvals";
import { logger } from "../log";
import type { Metadata } from "../metadata/client";
import { auditRunEnd } from "../run-audit";
import { checkThresholds, deliver, NOTIFY_QUEUE, notifyRunFinished } from "../notify/notify";
import { RUN_QUEUE, type RunJob } from "./boss";

export interface WorkerOptions {
  concurrency: number;
  /** Shown on the run page as who executes it. */
  executor?: string;
  /** How often to look for runs whose process died, and for notification thresholds (ms). */
  sweepMs?: number;
  onFinished?: (report: RunReport) => void | Promise<void>;
}

export interface RunWorkers {
  /** Takes no new jobs; returns at once, runs in progress go on. */
  stop(): Promise<void>;
}

export async function startRunWorkers(db: Metadata, lockUrl: string, boss: PgBoss, opts: WorkerOptions): Promise<RunWorkers> {
  const executor = opts.executor ?? `worker ${process.pid}@${os.hostname()}`;
  const execute = async (runId: string) => {
    try {
      const report = await runRefresh(db, lockUrl, { queuedRunId: runId, trigger: "web", triggeredBy: "", executor });
      if (!report.tables.length) return; // cancelled while it waited
      logger.info({ runId, status: report.status, executor }, "queued run finished");
      await auditRunEnd(db, executor, report);
      await notifyRunFinished(db, boss, runId).catch((err) => logger.error({ err, runId }, "run notifications not queued"));
      await opts.onFinished?.(report);
    } catch (e) {
      // The run row already says what failed (an unreachable database, an unknown table); the job is done either way.
      logger.error({ err: e, runId }, "queued run failed");
    }
  };
  // One work() with batchSize 1 runs one job at a time: register one per slot.
  const ids: string[] = [];
  for (let i = 0; i < Math.max(1, opts.concurrency); i++) {
    ids.push(await boss.work<RunJob>(RUN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => execute(job.data.runId)));
  }
  for (let i = 0; i < 2; i++) ids.push(await boss.work<{ deliveryId: string }>(NOTIFY_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => deliver(db, job.data.deliveryId)));
  const sweep = setInterval(() => {
    void (async () => {
      const dead = await sweepInterruptedRuns(db, lockUrl);
      if (dead.length) logger.warn({ runs: dead }, "runs whose process ended were marked interrupted");
      for (const runId of dead) await notifyRunFinished(db, boss, runId);
      const expired = await expireApprovals(db);
      if (expired.length) logger.info({ runs: expired }, "runs nobody approved in time expired");
      await checkThresholds(db, boss);
    })().catch((err) => logger.error({ err }, "sweep failed"));
  }, opts.sweepMs ?? 10_000);
  sweep.unref();
  logger.info({ executor, concurrency: Math.max(1, opts.concurrency) }, "run workers started");
  return {
    /** Takes no new jobs; returns at once (runs in progress go on: the caller decides how long to let them). */
    async stop() {
      clearInterval(sweep);
      await boss.offWork(RUN_QUEUE, { wait: false });
      await boss.offWork(NOTIFY_QUEUE, { wait: false });
    },
  };
}

// Workers: every app instance, and `npm run worker` on any host, take queued runs and execute them, up to
// settings.max_concurrent_runs at a time. They also mark runs whose executing process died as interrupted.
import os from "node:os";
import type PgBoss from "pg-boss";
import { audit } from "../audit";
import { runRefresh, sweepInterruptedRuns, type RunReport } from "../engine/runner";
import { logger } from "../log";
import type { Metadata } from "../metadata/client";
import { RUN_QUEUE, type RunJob } from "./boss";

export interface WorkerOptions {
  concurrency: number;
  /** Shown on the run page as who executes it. */
  executor?: string;
  /** How often to look for runs whose process died (ms). */
  sweepMs?: number;
  onFinished?: (report: RunReport) => void | Promise<void>;
}

export interface RunWorkers {
  stop(): Promise<void>;
}

export async function startRunWorkers(db: Metadata, lockUrl: string, boss: PgBoss, opts: WorkerOptions): Promise<RunWorkers> {
  const executor = opts.executor ?? `worker ${process.pid}@${os.hostname()}`;
  const execute = async (runId: string) => {
    try {
      const report = await runRefresh(db, lockUrl, { queuedRunId: runId, trigger: "web", triggeredBy: "", executor });
      if (!report.tables.length) return; // cancelled while it waited
      logger.info({ runId, status: report.status, executor }, "queued run finished");
      await audit({ actor: executor, action: "refresh.finished", target: runId, outcome: report.status === "succeeded" ? "ok" : "failed", details: { status: report.status, tables: report.tables.map((t) => `${t.table}: ${t.status}`) } }, db);
      await opts.onFinished?.(report);
    } catch (e) {
      // The run row already says what failed (an unreachable database, an unknown table); the job is done either way.
      logger.error({ err: e, runId }, "queued run failed");
    }
  };
  // pg-boss 10 runs one job per work() at a time: register one per slot.
  const ids: string[] = [];
  for (let i = 0; i < Math.max(1, opts.concurrency); i++) {
    ids.push(await boss.work<RunJob>(RUN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => execute(job.data.runId)));
  }
  const sweep = setInterval(() => {
    void sweepInterruptedRuns(db, lockUrl)
      .then((ids) => ids.length && logger.warn({ runs: ids }, "runs whose process ended were marked interrupted"))
      .catch((err) => logger.error({ err }, "interrupted-run sweep failed"));
  }, opts.sweepMs ?? 10_000);
  sweep.unref();
  logger.info({ executor, concurrency: ids.length }, "run workers started");
  return {
    async stop() {
      clearInterval(sweep);
      await boss.offWork(RUN_QUEUE);
    },
  };
}

// Stopping a process that executes runs (a worker, a web instance) without losing work: it takes no new run, lets
// the runs in progress finish within a grace period, then asks the rest to stop (their open transactions roll back,
// the target keeps its last committed state) and waits for them to end.
import type { PgBoss } from "pg-boss";
import { logger } from "../log";
import type { Metadata } from "../metadata/client";
import { requestCancel } from "./runs";
import type { RunWorkers } from "./worker";

/** WORKER_STOP_GRACE_SECONDS, default 60. */
export function graceSeconds(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.WORKER_STOP_GRACE_SECONDS ?? 60);
  return Number.isFinite(n) && n >= 0 ? n : 60;
}

export async function stopGracefully(db: Metadata, boss: PgBoss, workers: RunWorkers, executor: string, grace = graceSeconds()) {
  logger.info({ executor, graceSeconds: grace }, "stopping: no new runs; runs in progress may finish");
  await workers.stop();
  const running = () => db.refreshRun.findMany({ where: { status: "running", executor }, select: { id: true } });
  if (!(await waitUntil(async () => !(await running()).length, grace * 1000))) {
    const left = await running();
    logger.warn({ runs: left.map((r) => r.id) }, "grace period over: cancelling the runs still in progress");
    for (const r of left) await requestCancel(db, boss, r.id, `${executor} shutting down`);
    await waitUntil(async () => !(await running()).length, 30_000);
  }
  await boss.stop({ graceful: true, timeout: 30_000 }).catch(() => {});
}

/** Polls `done` every second until it holds (true) or `ms` pass (false). */
async function waitUntil(done: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

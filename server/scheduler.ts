// The app's single scheduler instance (kept on globalThis: dev reloads must not start a second one).
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { logger } from "@/lib/log";
import { metadata } from "@/lib/metadata/client";
import { Scheduler } from "@/lib/scheduler/scheduler";
import { notifyScheduleMissed, notifyScheduleSkipped } from "@/lib/notify/notify";
import { PRUNE_EVERY_MS, pruneHistory } from "@/lib/ops/retention";
import { queue, startRun } from "./jobs";

const g = globalThis as unknown as { __uatRefreshScheduler?: Scheduler };

export async function startAppScheduler() {
  if (g.__uatRefreshScheduler) return g.__uatRefreshScheduler;
  registerBuiltInDialects();
  const s = new Scheduler(metadata(), { start: startRun, onMissed: (sch, missed) => notifyScheduleMissed(metadata(), queue, sch, missed), onSkipped: (sch, dueAt, why) => notifyScheduleSkipped(metadata(), queue, sch, dueAt, why), instance: `pid ${process.pid}` });
  g.__uatRefreshScheduler = s;
  try {
    await s.start();
  } catch (e) {
    logger.error({ err: e }, "scheduler failed to start");
  }
  startPruning();
  return s;
}

/** Run history beyond its retention goes at start and once a day (lib/ops/retention). */
function startPruning() {
  const prune = () =>
    void pruneHistory(metadata())
      .then((p) => logger.info({ ...p }, "history pruned"))
      .catch((e) => logger.error({ err: e }, "history pruning failed"));
  prune();
  setInterval(prune, PRUNE_EVERY_MS).unref();
}

/** After a schedule change in this process: apply it now rather than at the next poll. */
export async function reloadSchedules() {
  await g.__uatRefreshScheduler?.reload();
}

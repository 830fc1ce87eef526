// The web app's side of the run queue: triggers and schedules enqueue runs; this instance's workers (and any
// `npm run worker`) execute them; a cancel reaches the run wherever it executes. The queue itself is lib/queue.
import "server-only";
import type { PgBoss } from "pg-boss";
import { installationSettings } from "@/lib/config/store";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { logger } from "@/lib/log";
import { metadata, metadataUrl } from "@/lib/metadata/client";
import { openQueue } from "@/lib/queue/boss";
import { enqueueRun, requestCancel, type EnqueueRequest } from "@/lib/queue/runs";
import { startRunWorkers, type RunWorkers } from "@/lib/queue/worker";
import { stopGracefully } from "@/lib/queue/graceful-stop";

registerBuiltInDialects();

const g = globalThis as unknown as { __uatRefreshQueue?: Promise<PgBoss>; __uatRefreshWorkers?: Promise<RunWorkers> };

/** This process's connection to the queue (one per process, kept across dev reloads). */
export function queue(): Promise<PgBoss> {
  return (g.__uatRefreshQueue ??= openQueue(metadataUrl(), "uat-refresh web queue").catch((e) => {
    g.__uatRefreshQueue = undefined;
    throw e;
  }));
}

/** Queues a run; resolves with its id (409 via TableBusyError when a named table is already queued or running). */
export async function startRun(req: EnqueueRequest): Promise<string> {
  return enqueueRun(metadata(), metadataUrl(), await queue(), req);
}

/** Cancels a queued run now, or asks the process executing it to stop. */
export async function cancelRun(runId: string, by: string) {
  return requestCancel(metadata(), await queue(), runId, by);
}

/** Starts this instance's workers once (WORKER_ENABLED=false: this instance only serves and enqueues). */
export function startAppWorkers(): Promise<RunWorkers> {
  return (g.__uatRefreshWorkers ??= (async () => {
    const concurrency = await installationSettings(metadata())
      .then((s) => s.max_concurrent_runs)
      .catch(() => 2);
    const executor = `web ${process.pid}`;
    const workers = await startRunWorkers(metadata(), metadataUrl(), await queue(), { concurrency, executor });
    // Where the process owns its signals (NEXT_MANUAL_SIG_HANDLE=true, as in the container image), SIGTERM lets
    // this instance's runs finish within the grace period before it exits; otherwise Next exits at once and the
    // workers' sweep marks an unfinished run interrupted.
    if (process.env.NEXT_MANUAL_SIG_HANDLE === "true") {
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void (async () => stopGracefully(metadata(), await queue(), workers, executor))().finally(() => process.exit(0));
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    }
    return workers;
  })().catch((e) => {
    logger.error({ err: e }, "run workers failed to start");
    g.__uatRefreshWorkers = undefined;
    throw e;
  }));
}

// Refreshes started from the web run in this server process; the request returns as soon as the run exists,
// and the browser follows it through the progress stream. Runs of this process can be cancelled.
import "server-only";
import { audit } from "@/lib/audit";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { runRefresh } from "@/lib/engine/runner";
import { logger } from "@/lib/log";
import { metadata, metadataUrl } from "@/lib/metadata/client";
import type { Trigger } from "@/lib/generated/prisma/client";

registerBuiltInDialects();

export interface StartRequest {
  tables?: string[];
  trigger: Trigger;
  triggeredBy: string;
  dryRun?: boolean;
}

const g = globalThis as unknown as { __uatRefreshRunning?: Map<string, AbortController> };
const running = (g.__uatRefreshRunning ??= new Map());

/** Resolves with the run id once the run is recorded; rejects when it cannot start (busy, unknown table...). */
export function startRun(req: StartRequest): Promise<string> {
  const controller = new AbortController();
  return new Promise((resolve, reject) => {
    let runId: string | undefined;
    runRefresh(metadata(), metadataUrl(), {
      ...req,
      signal: controller.signal,
      onStarted: (id) => {
        runId = id;
        running.set(id, controller);
        resolve(id);
      },
    })
      .then((report) => {
        logger.info({ runId: report.runId, status: report.status, by: req.triggeredBy }, "refresh finished");
        return audit({ actor: req.triggeredBy, action: "refresh.finished", target: report.runId, outcome: report.status === "succeeded" ? "ok" : "failed", details: { status: report.status, tables: report.tables.map((t) => `${t.table}: ${t.status}`) } });
      })
      .catch((e) => {
        if (!runId) reject(e);
        else logger.error({ err: e, by: req.triggeredBy }, "refresh failed");
      })
      .finally(() => runId && running.delete(runId));
  });
}

/** Cancels a run executing in this process; false when it is not (finished, or run by the CLI / another instance). */
export function cancelRun(runId: string, by: string): boolean {
  const controller = running.get(runId);
  if (!controller) return false;
  controller.abort(`by ${by}`);
  return true;
}

// Refreshes started from the web run in this server process; the request returns as soon as the run exists,
// and the browser follows it through the progress stream.
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

/** Resolves with the run id once the run is recorded; rejects when it cannot start (busy, unknown table...). */
export function startRun(req: StartRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    let started = false;
    runRefresh(metadata(), metadataUrl(), {
      ...req,
      onStarted: (runId) => {
        started = true;
        resolve(runId);
      },
    })
      .then((report) => {
        logger.info({ runId: report.runId, status: report.status, by: req.triggeredBy }, "refresh finished");
        return audit({ actor: req.triggeredBy, action: "refresh.finished", target: report.runId, outcome: report.status === "succeeded" ? "ok" : "failed", details: { status: report.status, tables: report.tables.map((t) => `${t.table}: ${t.status}`) } });
      })
      .catch((e) => {
        if (!started) reject(e);
        else logger.error({ err: e, by: req.triggeredBy }, "refresh failed");
      });
  });
}

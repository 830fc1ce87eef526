// A run's end in the audit trail, the same for runs the workers execute and runs the CLI executes itself.
import { audit } from "./audit";
import type { RunReport } from "./engine/run-types";
import type { Metadata } from "./metadata/client";

/** Records how a run ended (a dry run too: it read production), under the environment it refreshed. */
export async function auditRunEnd(db: Metadata, actor: string, report: RunReport, via?: string): Promise<void> {
  const cancelled = report.status === "cancelled";
  // A cancelled run is audited as what it was, not as a failure.
  await audit(
    {
      actor,
      environment: report.environment ?? null,
      action: cancelled ? "refresh.cancelled" : "refresh.finished",
      target: report.runId,
      outcome: report.status === "succeeded" ? "ok" : cancelled ? "cancelled" : "failed",
      details: { status: report.status, tables: report.tables.map((t) => `${t.table}: ${t.status}`), ...(via ? { via } : {}) },
    },
    db,
  );
}

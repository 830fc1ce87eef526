// "Refresh again what did not finish": the tables of an ended run that did not succeed (failed, skipped because
// another run held them or the run was stopped, never reached before a kill), in that run's environment, as the
// same kind of run (a dry run's retry plans again). Read from the run's own rows on the server, never taken from a
// client's list; the new run records which run it retries.
import type { Metadata } from "./metadata/client";

/** Why a run cannot be retried; `status` is what the web answers with. */
export class RetryRefusedError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
    this.name = "RetryRefusedError";
  }
}

export interface RetryScope {
  retryOf: string;
  environment: string;
  tables: string[];
  dryRun: boolean;
}

/** A run still under way, or one that never ran: nothing of it to take up again. */
const NOT_RETRIED: Record<string, string> = {
  awaiting_approval: "is waiting for approval: approve it, or reject it and ask again",
  queued: "is still queued: wait for it, or cancel it first",
  running: "is still running: wait for it, or cancel it first",
  succeeded: "succeeded: every table finished",
  rejected: "was rejected and never ran: ask for a new run",
  expired: "expired without an approval and never ran: ask for a new run",
};

/** Why a run with this status and these tables' statuses cannot be retried, or null: the tables that did not succeed
 *  are refreshed again (the run page offers it exactly then). */
export function retryRefusal(status: string, tableStatuses: readonly string[]): string | null {
  if (NOT_RETRIED[status]) return NOT_RETRIED[status];
  if (unfinished(tableStatuses).length === 0) return `ended ${status}, but every one of its tables succeeded: nothing to refresh again`;
  return null;
}

const unfinished = (statuses: readonly string[]) => statuses.flatMap((s, i) => (s === "succeeded" ? [] : [i]));

export async function retryScope(db: Metadata, runId: string): Promise<RetryScope> {
  const run = await db.refreshRun.findUnique({
    where: { id: runId },
    select: { environment: true, status: true, dryRun: true, tables: { select: { tableName: true, status: true }, orderBy: { tableName: "asc" } } },
  });
  if (!run) throw new RetryRefusedError(`run ${runId} does not exist (or was removed from the history)`, 404);
  const statuses = run.tables.map((t) => t.status);
  const refused = retryRefusal(run.status, statuses);
  if (refused) throw new RetryRefusedError(`run ${runId} ${refused}`, 409);
  return { retryOf: runId, environment: run.environment, tables: unfinished(statuses).map((i) => run.tables[i].tableName), dryRun: run.dryRun };
}

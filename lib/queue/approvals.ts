// Approvals: in an environment that requires one, a manual refresh waits (status awaiting_approval) until an operator
// of that environment other than the one who asked approves it (it is queued then) or rejects it; nobody deciding
// before `approvalExpiresAt` expires it. Schedules marked pre-approved and the CLI (run by someone holding the
// metadata database's credentials) do not wait.
import type { PgBoss } from "pg-boss";
import { activeBlackout } from "../config/blackout";
import { exportConfig } from "../config/store";
import { BlackoutError, RefreshError } from "../engine/errors";
import type { Metadata } from "../metadata/client";
import { sendRunJob } from "./boss";

export type Decision = "approve" | "reject";

/** The decision was refused: not awaiting approval (any more), or asked by the one who requested the run. */
export class ApprovalError extends RefreshError {
  constructor(
    message: string,
    readonly status: 403 | 404 | 409,
  ) {
    super(message);
  }
}

/** Records an approver's decision; an approved run is queued. The caller has checked the approver's role. */
export async function decideApproval(db: Metadata, boss: PgBoss, runId: string, decision: Decision, by: string, note?: string): Promise<"queued" | "rejected"> {
  await expireApprovals(db);
  const run = await db.refreshRun.findUnique({ where: { id: runId } });
  if (!run) throw new ApprovalError("no such run", 404);
  if (run.status !== "awaiting_approval") throw new ApprovalError(`run ${runId} is not awaiting approval (it is ${run.status})`, 409);
  // A second person: whoever asked for the run cannot approve (nor reject) it.
  if (run.triggeredBy === by) throw new ApprovalError(`${by} asked for run ${runId}: another operator of ${run.environment} decides on it`, 403);
  const now = new Date();
  if (decision === "reject") {
    const done = await db.refreshRun.updateMany({
      where: { id: runId, status: "awaiting_approval" },
      data: { status: "rejected", finishedAt: now, decidedBy: by, decidedAt: now, decisionNote: note ?? null, error: `rejected by ${by}${note ? `: ${note}` : ""}` },
    });
    if (!done.count) throw new ApprovalError(`run ${runId} is no longer awaiting approval`, 409);
    await db.tableResult.updateMany({ where: { runId, status: "pending" }, data: { status: "skipped", error: `rejected by ${by}` } });
    return "rejected";
  }
  const config = await exportConfig(db, run.environment);
  const blackout = activeBlackout(config.blackout_windows, now);
  if (blackout) throw new BlackoutError(run.environment, blackout.name, blackout.until);
  const done = await db.refreshRun.updateMany({
    where: { id: runId, status: "awaiting_approval", approvalExpiresAt: { gt: now } },
    data: { status: "queued", queuedAt: now, decidedBy: by, decidedAt: now, decisionNote: note ?? null },
  });
  if (!done.count) throw new ApprovalError(`run ${runId} is no longer awaiting approval`, 409);
  await sendRunJob(boss, runId);
  return "queued";
}

/** Runs nobody decided on in time: expired (they never ran). Returns their ids. */
export async function expireApprovals(db: Metadata, now = new Date()): Promise<string[]> {
  const due = await db.refreshRun.findMany({ where: { status: "awaiting_approval", approvalExpiresAt: { lte: now } }, select: { id: true } });
  const ids: string[] = [];
  for (const { id } of due) {
    const done = await db.refreshRun.updateMany({ where: { id, status: "awaiting_approval" }, data: { status: "expired", finishedAt: now, error: "nobody approved it in time" } });
    if (!done.count) continue;
    await db.tableResult.updateMany({ where: { runId: id, status: "pending" }, data: { status: "skipped", error: "nobody approved the run in time" } });
    ids.push(id);
  }
  return ids;
}

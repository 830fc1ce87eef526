// The durable run queue: pg-boss 12 on the metadata PostgreSQL, in its own schema (it migrates older ones at start).
// Jobs carry only a run id; the run row in the metadata DB holds what to refresh and is the truth about its state.
import { createHash } from "node:crypto";
import { PgBoss } from "pg-boss";
import { logger } from "../log";
import { NOTIFY_QUEUE } from "../notify/notify";

export const RUN_QUEUE = "refresh-runs";

/** pg-boss refuses expirations over 24 h; a run is not bounded by its job (the run row is the truth). */
const JOB_EXPIRE_SECONDS = 23 * 60 * 60;

export async function openQueue(url: string, applicationName = "uat-refresh queue"): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, schema: "pgboss", application_name: applicationName, max: 4, schedule: false });
  boss.on("error", (err) => logger.error({ err }, "run queue error"));
  await boss.start();
  // Idempotent. No retries, ever: a run whose worker died is marked interrupted for a person to look at.
  await boss.createQueue(RUN_QUEUE, { retryLimit: 0, expireInSeconds: JOB_EXPIRE_SECONDS });
  // Notification sends: retried with backoff (each job carries its retry policy).
  await boss.createQueue(NOTIFY_QUEUE, { expireInSeconds: 120 });
  return boss;
}

/** The job id of a run: derived from the run id, so sending a run's job twice creates it once. */
export function jobIdFor(runId: string): string {
  const h = createHash("sha1").update(`uat-refresh run ${runId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface RunJob {
  runId: string;
}

export async function sendRunJob(boss: PgBoss, runId: string) {
  await boss.send(RUN_QUEUE, { runId } satisfies RunJob, { id: jobIdFor(runId), retryLimit: 0, expireInSeconds: JOB_EXPIRE_SECONDS });
}

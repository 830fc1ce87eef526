// What the metadata database keeps: finished runs for settings.history_retention_days (their tables' and steps'
// results go with them, and so do their sent notifications), audit events for settings.audit_retention_days when it
// is set (else for good). Whatever its age, a result that something still reads stays, for every table of every
// environment: the last one (dashboard, status), the last success (its watermark, lag alerts), the last verified one
// and the last committed one (metrics, dashboard), and the last one that left a watermark (the next date window
// starts from it: without it a row UAT changed could move the window). So does each schedule's last due time (missed
// ones are counted from it). Deleted in batches: no long lock on the tables the app writes.
import { audit } from "../audit";
import type { Metadata } from "../metadata/client";

const BATCH = 1000;
const DAY_MS = 86_400_000;
/** How often the app prunes (lib/ops/retention is idempotent: several instances may). */
export const PRUNE_EVERY_MS = DAY_MS;

export interface Pruned {
  runs: number;
  scheduleFires: number;
  deliveries: number;
  revokedSessions: number;
  auditEvents: number;
}

/** Repeats a batch delete until a batch deletes fewer than BATCH rows; returns how many went. */
async function inBatches(remove: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let n = BATCH; n === BATCH; total += n) n = await remove();
  return total;
}

/** The runs holding a result the product still reads: for each (environment, table), the newest of each kind, ordered
 *  as its reader orders it (lib/engine/last-results, last-watermark, lib/ops/metrics, lib/notify; the metrics' max()
 *  of a verified result's end ignores NULLs, hence NULLS LAST there). */
async function keptRuns(db: Metadata): Promise<string[]> {
  const rows = await db.$queryRaw<{ runId: string }[]>`
    WITH real AS (SELECT t.*, r.environment FROM "TableResult" t JOIN "RefreshRun" r ON r.id = t."runId" WHERE NOT r."dryRun")
    SELECT DISTINCT "runId" FROM (
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status::text IN ('succeeded', 'failed', 'running') ORDER BY environment, "tableName", "startedAt" DESC)
      UNION ALL
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status = 'succeeded' ORDER BY environment, "tableName", "startedAt" DESC)
      UNION ALL
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status = 'succeeded' ORDER BY environment, "tableName", "finishedAt" DESC)
      UNION ALL
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status = 'succeeded' OR verified = false ORDER BY environment, "tableName", "startedAt" DESC)
      UNION ALL
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status = 'succeeded' AND verified ORDER BY environment, "tableName", "finishedAt" DESC NULLS LAST)
      UNION ALL
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status::text IN ('succeeded', 'failed') AND "finishedAt" IS NOT NULL ORDER BY environment, "tableName", "finishedAt" DESC)
      UNION ALL
      (SELECT DISTINCT ON (environment, "tableName") "runId" FROM real WHERE status = 'succeeded' AND "watermarkAfter" IS NOT NULL AND "watermarkColumn" IS NOT NULL ORDER BY environment, "tableName", "startedAt" DESC)
    ) k`;
  return rows.map((r) => r.runId);
}

/** How long history is kept, as the pages say it (the installation's settings; defaults before any import). */
export async function retention(db: Metadata): Promise<{ historyDays: number; auditDays: number | null }> {
  const settings = await db.settings.findUnique({ where: { id: 1 }, select: { historyRetentionDays: true, auditRetentionDays: true } });
  return { historyDays: settings?.historyRetentionDays ?? 365, auditDays: settings?.auditRetentionDays ?? null };
}

/** Deletes what the retention settings no longer keep; audits what went (when anything did). */
export async function pruneHistory(db: Metadata, now = new Date()): Promise<Pruned> {
  const days = await retention(db);
  const before = new Date(now.getTime() - days.historyDays * DAY_MS);
  const kept = await keptRuns(db);
  const runs = await inBatches(
    () => db.$executeRaw`
      DELETE FROM "RefreshRun" WHERE id IN (
        SELECT id FROM "RefreshRun"
        WHERE coalesce("finishedAt", "startedAt") < ${before} AND status::text NOT IN ('awaiting_approval', 'queued', 'running') AND id <> ALL (${kept}::text[])
        LIMIT ${BATCH})`,
  );
  // Each schedule's newest due time stays, however old: missed due times are counted from it.
  const scheduleFires = await inBatches(
    () => db.$executeRaw`
      DELETE FROM "ScheduleFire" WHERE id IN (
        SELECT f.id FROM "ScheduleFire" f
        WHERE f."dueAt" < ${before} AND EXISTS (SELECT 1 FROM "ScheduleFire" g WHERE g."scheduleId" = f."scheduleId" AND g."dueAt" > f."dueAt")
        LIMIT ${BATCH})`,
  );
  // A table_lag notification is sent once per stale stretch: its record stays, or a long stretch would be told again.
  const deliveries = await inBatches(
    () => db.$executeRaw`
      DELETE FROM "NotificationDelivery" WHERE id IN (
        SELECT id FROM "NotificationDelivery" WHERE "createdAt" < ${before} AND status::text IN ('sent', 'failed') AND event <> 'table_lag' LIMIT ${BATCH})`,
  );
  // A signed-out session is refused only until its token would have expired anyway.
  const revokedSessions = await inBatches(() => db.$executeRaw`DELETE FROM "RevokedSession" WHERE sid IN (SELECT sid FROM "RevokedSession" WHERE "expiresAt" < ${now} LIMIT ${BATCH})`);
  const auditBefore = days.auditDays ? new Date(now.getTime() - days.auditDays * DAY_MS) : null;
  const auditEvents = auditBefore ? await inBatches(() => db.$executeRaw`DELETE FROM "AuditEvent" WHERE id IN (SELECT id FROM "AuditEvent" WHERE at < ${auditBefore} LIMIT ${BATCH})`) : 0;
  const pruned = { runs, scheduleFires, deliveries, revokedSessions, auditEvents };
  if (runs || scheduleFires || deliveries || auditEvents)
    await audit({ actor: "system", action: "history.pruned", details: { ...pruned, runsFinishedBefore: before.toISOString(), auditBefore: auditBefore?.toISOString() ?? null } }, db);
  return pruned;
}

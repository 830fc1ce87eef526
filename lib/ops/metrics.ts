// Prometheus metrics, read from the metadata database at scrape time: it is the truth about runs, the queue and
// notifications for every app instance and worker alike, so any instance answers the same figures (scrape one).
// Set-based queries only: one per metric family, whatever the number of runs.
import { Gauge, Registry } from "prom-client";
import type { Metadata } from "../metadata/client";

const PREFIX = "uat_refresh_";

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One gauge per family, its samples set from a query's rows. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], samples: Sample[]) {
  const g = new Gauge({ name: PREFIX + name, help, labelNames, registers: [registry] });
  for (const s of samples) g.set(s.labels, s.value);
}

/** The metrics as Prometheus text (and its content type). */
export async function renderMetrics(db: Metadata, now = new Date()): Promise<{ body: string; contentType: string }> {
  const [runs, lastTables, queue, deliveries, verified, misses, running] = await Promise.all([
    db.$queryRaw<{ environment: string; status: string; trigger: string; n: number }[]>`
      SELECT environment, status::text, trigger::text, count(*)::int AS n FROM "RefreshRun" WHERE "dryRun" = false GROUP BY 1, 2, 3`,
    // The last finished refresh of each table of each environment: its duration and rows committed.
    db.$queryRaw<{ environment: string; table: string; status: string; seconds: number; rows: number }[]>`
      SELECT DISTINCT ON (r.environment, t."tableName") r.environment, t."tableName" AS table, t.status::text, coalesce(t."durationMs", 0) / 1000.0 AS seconds, t."rowsCommitted"::float8 AS rows
      FROM "TableResult" t JOIN "RefreshRun" r ON r.id = t."runId"
      WHERE r."dryRun" = false AND t."finishedAt" IS NOT NULL AND t.status IN ('succeeded', 'failed')
      ORDER BY r.environment, t."tableName", t."finishedAt" DESC`,
    db.$queryRaw<{ depth: number; oldest: Date | null }[]>`
      SELECT count(*)::int AS depth, min("queuedAt") AS oldest FROM "RefreshRun" WHERE status = 'queued'`,
    db.$queryRaw<{ channel: string; status: string; n: number }[]>`
      SELECT c.name AS channel, d.status::text, count(*)::int AS n FROM "NotificationDelivery" d JOIN "NotificationChannel" c ON c.id = d."channelId" GROUP BY 1, 2`,
    // Configured tables and their last verified refresh (none yet: no sample, so `absent()` alerts on it).
    db.$queryRaw<{ environment: string; table: string; at: Date }[]>`
      SELECT c.environment, c.name AS table, max(t."finishedAt") AS at FROM "TableConfig" c
      JOIN "RefreshRun" r ON r.environment = c.environment
      JOIN "TableResult" t ON t."runId" = r.id AND t."tableName" = c.name AND t.verified = true AND t.status = 'succeeded'
      GROUP BY c.environment, c.name`,
    db.$queryRaw<{ environment: string; schedule: string; n: number }[]>`
      SELECT s.environment, s.name AS schedule, count(f.id) FILTER (WHERE f.missed)::int AS n FROM "Schedule" s LEFT JOIN "ScheduleFire" f ON f."scheduleId" = s.id GROUP BY s.environment, s.name`,
    db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "RefreshRun" WHERE status = 'running'`,
  ]);
  const registry = new Registry();
  gauge(registry, "runs", "Runs recorded (dry runs excluded), by environment, status and trigger.", ["environment", "status", "trigger"], runs.map((r) => ({ labels: { environment: r.environment, status: r.status, trigger: r.trigger }, value: r.n })));
  gauge(registry, "runs_running", "Runs executing now.", [], [{ labels: {}, value: running[0]?.n ?? 0 }]);
  gauge(registry, "table_last_duration_seconds", "Duration of each table's last finished refresh.", ["environment", "table", "status"], lastTables.map((t) => ({ labels: { environment: t.environment, table: t.table, status: t.status }, value: Number(t.seconds) })));
  gauge(registry, "table_last_rows", "Rows committed by each table's last finished refresh.", ["environment", "table", "status"], lastTables.map((t) => ({ labels: { environment: t.environment, table: t.table, status: t.status }, value: Number(t.rows) })));
  gauge(registry, "queue_depth", "Runs waiting in the run queue.", [], [{ labels: {}, value: queue[0]?.depth ?? 0 }]);
  const oldest = queue[0]?.oldest;
  gauge(registry, "queue_oldest_age_seconds", "Age of the oldest run waiting in the queue (0: none waits).", [], [{ labels: {}, value: oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0 }]);
  gauge(registry, "notification_deliveries", "Notification deliveries by channel and status (failed: given up for good).", ["channel", "status"], deliveries.map((d) => ({ labels: { channel: d.channel, status: d.status }, value: d.n })));
  gauge(registry, "table_seconds_since_verified", "Seconds since each configured table's last refresh verified by count and checksum.", ["environment", "table"], verified.map((v) => ({ labels: { environment: v.environment, table: v.table }, value: (now.getTime() - v.at.getTime()) / 1000 })));
  gauge(registry, "schedule_missed", "Due times of each schedule that no instance ran.", ["environment", "schedule"], misses.map((m) => ({ labels: { environment: m.environment, schedule: m.schedule }, value: m.n })));
  return { body: await registry.metrics(), contentType: registry.contentType };
}

// What happened -> who hears about it. Each occurrence becomes one delivery per subscribed channel (recorded once,
// whichever instance noticed it first), sent through the queue: pg-boss retries failed sends with backoff, and
// every attempt's outcome is kept on the delivery (shown on the run page).
import type { PgBoss } from "pg-boss";
import type { Metadata } from "../metadata/client";
import type { NotificationChannel, Schedule } from "../generated/prisma/client";
import { logger } from "../log";
import type { NotifyEvent } from "./channels";
import { send } from "./send";

export const NOTIFY_QUEUE = "notifications";

export function retryPolicy(env: Record<string, string | undefined> = process.env) {
  return { retryLimit: Number(env.NOTIFY_RETRY_LIMIT ?? 5), retryDelay: Number(env.NOTIFY_RETRY_DELAY_SECONDS ?? 30), retryBackoff: true };
}

/** The app's public address, for links in messages. */
export function appUrl(env: Record<string, string | undefined> = process.env) {
  return (env.APP_URL ?? env.AUTH_URL ?? "http://localhost:3000").replace(/\/+$/, "");
}

export interface Occurrence {
  event: NotifyEvent;
  /** Identifies this occurrence: the same key is never notified twice to one channel. */
  key: string;
  subject: string;
  body: string;
  runId?: string;
  /** Path in the app the message links to (e.g. /runs/<id>). */
  path?: string;
  /** The environment it happened in: channels limited to other environments do not hear it. */
  environment?: string;
}

type Queue = PgBoss | (() => Promise<PgBoss>);

/** Records and queues the deliveries of an occurrence; returns the ids of the new deliveries. */
export async function notify(db: Metadata, queue: Queue, o: Occurrence, only?: (c: NotificationChannel) => boolean): Promise<string[]> {
  const hears = (c: NotificationChannel) => !o.environment || !c.environments.length || c.environments.includes(o.environment);
  const channels = (await db.notificationChannel.findMany({ where: { enabled: true, events: { has: o.event } } })).filter((c) => hears(c) && (!only || only(c)));
  if (!channels.length) return [];
  const url = o.path ? `${appUrl()}${o.path}` : appUrl();
  const created = await db.notificationDelivery.createManyAndReturn({
    data: channels.map((c) => ({ channelId: c.id, event: o.event, dedupeKey: `${c.id}|${o.key}`, runId: o.runId ?? null, subject: o.subject, body: o.body, url })),
    skipDuplicates: true,
  });
  if (!created.length) return [];
  const boss = typeof queue === "function" ? await queue() : queue;
  for (const d of created) await boss.send(NOTIFY_QUEUE, { deliveryId: d.id }, retryPolicy());
  return created.map((d) => d.id);
}

/** One attempt of one delivery (the queue's job handler). Throws to have the queue retry it later. */
export async function deliver(db: Metadata, deliveryId: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  const d = await db.notificationDelivery.findUnique({ where: { id: deliveryId }, include: { channel: true } });
  if (!d || d.status === "sent") return;
  const attempts = d.attempts + 1;
  try {
    await send(d.channel, { event: d.event, subject: d.subject, body: d.body, url: d.url }, env);
    await db.notificationDelivery.update({ where: { id: d.id }, data: { status: "sent", attempts, sentAt: new Date(), lastError: null } });
  } catch (e) {
    const last = attempts > retryPolicy(env).retryLimit;
    await db.notificationDelivery.update({ where: { id: d.id }, data: { status: last ? "failed" : "retrying", attempts, lastError: (e as Error).message } });
    logger.warn({ delivery: d.id, channel: d.channel.name, attempts, err: (e as Error).message }, last ? "notification failed for good" : "notification failed, will retry");
    if (!last) throw e;
  }
}

// ---- the events ------------------------------------------------------------------------------------------------

/** A run that ended failed, interrupted or partial. */
export async function notifyRunFinished(db: Metadata, queue: Queue, runId: string): Promise<string[]> {
  const run = await db.refreshRun.findUnique({ where: { id: runId }, include: { tables: { orderBy: { tableName: "asc" } } } });
  if (!run || run.dryRun) return [];
  const event: NotifyEvent | null = run.status === "failed" || run.status === "interrupted" ? "run_failed" : run.status === "partial" ? "run_partial" : null;
  if (!event) return [];
  const lines = run.tables.map((t) => `- ${t.tableName}: ${t.status}${t.error ? ` (${t.error})` : ""}`);
  return notify(db, queue, {
    event,
    environment: run.environment,
    key: `${event}|${run.id}`,
    runId: run.id,
    path: `/runs/${run.id}`,
    subject: `UAT refresh ${run.status} (${run.environment}): ${run.tables.map((t) => t.tableName).join(", ")}`,
    body: `Run ${run.id}, started by ${run.triggeredBy} (${run.trigger}), ended ${run.status}.\n${lines.join("\n")}`,
  });
}

export async function notifyScheduleMissed(db: Metadata, queue: Queue, s: Pick<Schedule, "id" | "name" | "environment">, missed: Date[]): Promise<string[]> {
  if (!missed.length) return [];
  return notify(db, queue, {
    event: "schedule_missed",
    environment: s.environment,
    key: `schedule_missed|${s.id}|${missed[0].toISOString()}`,
    path: "/admin/schedules",
    subject: `UAT refresh schedule ${s.name}: ${missed.length} due time(s) missed`,
    body: `No app instance was running at ${missed.length === 1 ? missed[0].toISOString() : `${missed.length} due times from ${missed[0].toISOString()} to ${missed[missed.length - 1].toISOString()}`}. Nothing ran for them; trigger a refresh if it is needed.`,
  });
}

export async function notifyScheduleSkipped(db: Metadata, queue: Queue, s: Pick<Schedule, "id" | "name" | "environment">, dueAt: Date, why: string): Promise<string[]> {
  return notify(db, queue, {
    event: "schedule_skipped",
    environment: s.environment,
    key: `schedule_skipped|${s.id}|${dueAt.toISOString()}`,
    path: "/admin/schedules",
    subject: `UAT refresh schedule ${s.name} (${s.environment}): skipped at ${dueAt.toISOString()}`,
    body: `The refresh due at ${dueAt.toISOString()} did not run: ${why}.`,
  });
}

/** Runs still going past a channel's threshold, and tables not refreshed successfully for longer than one. */
export async function checkThresholds(db: Metadata, queue: Queue, now = new Date()): Promise<string[]> {
  const channels = await db.notificationChannel.findMany({ where: { enabled: true, OR: [{ events: { has: "run_long" } }, { events: { has: "table_lag" } }] } });
  const sent: string[] = [];
  for (const c of channels.filter((c) => c.events.includes("run_long") && c.longRunMinutes)) {
    const since = new Date(now.getTime() - c.longRunMinutes! * 60_000);
    for (const run of await db.refreshRun.findMany({ where: { status: "running", startedAt: { lt: since } }, include: { tables: true } })) {
      const minutes = Math.round((now.getTime() - run.startedAt.getTime()) / 60_000);
      sent.push(
        ...(await notify(
          db,
          queue,
          {
            event: "run_long",
            environment: run.environment,
            key: `run_long|${run.id}|${c.longRunMinutes}`,
            runId: run.id,
            path: `/runs/${run.id}`,
            subject: `UAT refresh (${run.environment}) still running after ${minutes} min: ${run.tables.map((t) => t.tableName).join(", ")}`,
            body: `Run ${run.id}, started by ${run.triggeredBy} at ${run.startedAt.toISOString()}, is still running (threshold ${c.longRunMinutes} min).`,
          },
          (x) => x.id === c.id,
        )),
      );
    }
  }
  const lagChannels = channels.filter((c) => c.events.includes("table_lag") && c.lagHours);
  if (lagChannels.length) {
    const tables = await db.tableConfig.findMany({ where: { enabled: true } });
    // Each table's last successful refresh, for every table in one query (ORDER BY "finishedAt" DESC as Prisma orders it).
    const lastOk = await db.$queryRaw<{ environment: string; table: string; id: string; runId: string; finishedAt: Date | null }[]>`
      SELECT DISTINCT ON (r.environment, t."tableName") r.environment, t."tableName" AS table, t.id, t."runId", t."finishedAt"
      FROM "TableResult" t JOIN "RefreshRun" r ON r.id = t."runId"
      WHERE r."dryRun" = false AND t.status = 'succeeded' AND t."tableName" = ANY(${tables.map((t) => t.name)}::text[])
      ORDER BY r.environment, t."tableName", t."finishedAt" DESC`;
    const lastOf = new Map(lastOk.map((r) => [`${r.environment}/${r.table}`, r]));
    for (const t of tables) {
      const last = lastOf.get(`${t.environment}/${t.name}`);
      const at = last?.finishedAt ?? t.createdAt;
      const hours = (now.getTime() - at.getTime()) / 3_600_000;
      for (const c of lagChannels.filter((c) => hours > c.lagHours!)) {
        sent.push(
          ...(await notify(
            db,
            queue,
            {
              event: "table_lag",
              environment: t.environment,
              // once per channel and stale stretch: a new successful refresh starts a new one
              key: `table_lag|${t.environment}|${t.name}|${last?.id ?? "never"}|${c.lagHours}`,
              path: `/tables/${encodeURIComponent(t.name)}?env=${encodeURIComponent(t.environment)}`,
              subject: `UAT table ${t.name} (${t.environment}) not refreshed for ${Math.floor(hours)} h`,
              body: `${t.name} was last refreshed successfully ${last ? `at ${at.toISOString()} (run ${last.runId})` : "never"}; the threshold is ${c.lagHours} h.`,
            },
            (x) => x.id === c.id,
          )),
        );
      }
    }
  }
  return sent;
}

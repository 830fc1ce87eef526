// In-process scheduler: node-cron fires each enabled schedule; the metadata DB decides which app instance runs it.
// Every due time is claimed with an INSERT on ScheduleFire's unique (scheduleId, dueAt): with several instances
// exactly one insert wins and only that instance starts the run. Due times that passed while no instance was up
// are recorded as missed (and audited), never silently dropped.
import cron, { type ScheduledTask } from "node-cron";
import { audit } from "../audit";
import type { Metadata } from "../metadata/client";
import type { Schedule } from "../generated/prisma/client";
import type { EnqueueRequest } from "../queue/runs";
import { logger } from "../log";
import { dueBetween } from "./cron";
import { BlackoutError } from "../engine/errors";

export interface SchedulerOptions {
  /** Queues a run (the app passes the run queue's enqueue); resolves with the run id. */
  start: (req: EnqueueRequest) => Promise<string>;
  /** Tells whoever subscribed that due times were missed (the app passes the notifier). */
  onMissed?: (s: Schedule, missed: Date[]) => Promise<unknown>;
  /** Tells whoever subscribed that a due time fell in a blackout window and did not run. */
  onSkipped?: (s: Schedule, dueAt: Date, why: string) => Promise<unknown>;
  /** How often to look for schedule changes made by other processes (ms). */
  pollMs?: number;
  /** Grace before an un-fired due time counts as missed (ms). */
  missedAfterMs?: number;
  instance?: string;
}

export class Scheduler {
  private tasks = new Map<string, ScheduledTask>();
  private version = "";
  private poll?: NodeJS.Timeout;
  private running = new Set<Promise<unknown>>();

  constructor(
    private db: Metadata,
    private opts: SchedulerOptions,
  ) {}

  async start() {
    await this.reload();
    this.poll = setInterval(() => void this.reloadIfChanged().catch((e) => logger.error({ err: e }, "scheduler reload failed")), this.opts.pollMs ?? 15_000);
    this.poll.unref();
  }

  async stop() {
    clearInterval(this.poll);
    for (const t of this.tasks.values()) await t.destroy();
    this.tasks.clear();
    await Promise.allSettled([...this.running]);
  }

  /** Re-reads schedules when any changed (cheap check: count + latest update). */
  async reloadIfChanged() {
    const agg = await this.db.schedule.aggregate({ _count: true, _max: { updatedAt: true } });
    if (`${agg._count}|${agg._max.updatedAt?.toISOString()}` !== this.version) await this.reload();
  }

  async reload() {
    const schedules = await this.db.schedule.findMany();
    const agg = await this.db.schedule.aggregate({ _count: true, _max: { updatedAt: true } });
    this.version = `${agg._count}|${agg._max.updatedAt?.toISOString()}`;
    for (const t of this.tasks.values()) await t.destroy();
    this.tasks.clear();
    for (const s of schedules.filter((s) => s.enabled)) {
      await this.recordMissed(s);
      const task = cron.schedule(s.cron, (ctx) => this.track(this.fire(s, ctx.date)), { timezone: s.timezone, name: `schedule:${s.name}`, noOverlap: false });
      this.tasks.set(s.id, task);
    }
    logger.info({ schedules: this.tasks.size, instance: this.opts.instance }, "scheduler loaded");
  }

  private track(p: Promise<unknown>) {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Claims one due time of a schedule; the winner queues its run. Returns the run id, or null when another
   *  instance won (or the run could not be queued: then the reason is audited). */
  async fire(s: Schedule, due: Date): Promise<string | null> {
    const dueAt = new Date(Math.floor(due.getTime() / 1000) * 1000);
    const claimed = await this.db.scheduleFire.createMany({ data: [{ scheduleId: s.id, dueAt }], skipDuplicates: true });
    if (claimed.count === 0) return null;
    const actor = `schedule:${s.name}`;
    try {
      const runId = await this.opts.start({ environment: s.environment, tables: s.scope === "tables" ? s.tables : undefined, trigger: "schedule", triggeredBy: actor, preApproved: s.preApproved });
      await this.db.scheduleFire.update({ where: { scheduleId_dueAt: { scheduleId: s.id, dueAt } }, data: { runId } });
      await audit({ actor, action: "schedule.run", environment: s.environment, target: runId, details: { schedule: s.name, dueAt: dueAt.toISOString(), queued: true } }, this.db);
      return runId;
    } catch (e) {
      if (e instanceof BlackoutError) {
        // Not run, on purpose: recorded on the due time, audited and told.
        await this.db.scheduleFire.update({ where: { scheduleId_dueAt: { scheduleId: s.id, dueAt } }, data: { skipped: e.message } });
        await audit({ actor, action: "schedule.skipped", environment: s.environment, target: s.name, outcome: "cancelled", details: { dueAt: dueAt.toISOString(), window: e.window, until: e.until.toISOString() } }, this.db);
        await this.opts.onSkipped?.(s, dueAt, e.message).catch((err) => logger.error({ err, schedule: s.name }, "skipped-schedule notification not queued"));
        return null;
      }
      logger.warn({ err: e, schedule: s.name }, "scheduled refresh was not queued");
      await audit({ actor, action: "schedule.run", environment: s.environment, target: s.name, outcome: "failed", details: { dueAt: dueAt.toISOString(), error: (e as Error).message } }, this.db);
      return null;
    }
  }

  /** Due times between the last fire (or the schedule's last change) and now that nobody fired. */
  async recordMissed(s: Schedule): Promise<Date[]> {
    const last = await this.db.scheduleFire.findFirst({ where: { scheduleId: s.id }, orderBy: { dueAt: "desc" } });
    const since = new Date(Math.max(last?.dueAt.getTime() ?? 0, s.updatedAt.getTime()));
    const until = new Date(Date.now() - (this.opts.missedAfterMs ?? 60_000));
    if (until <= since) return [];
    const missed = dueBetween(s.cron, s.timezone, since, until);
    if (!missed.length) return [];
    const res = await this.db.scheduleFire.createMany({ data: missed.map((dueAt) => ({ scheduleId: s.id, dueAt, missed: true })), skipDuplicates: true });
    if (res.count > 0) {
      await audit({ actor: `schedule:${s.name}`, action: "schedule.missed", environment: s.environment, target: s.name, outcome: "failed", details: { count: res.count, first: missed[0].toISOString(), last: missed[missed.length - 1].toISOString() } }, this.db);
      logger.warn({ schedule: s.name, missed: res.count }, "scheduled runs were missed while no instance was running");
      await this.opts.onMissed?.(s, missed).catch((err) => logger.error({ err, schedule: s.name }, "missed-schedule notifications not queued"));
    }
    return missed;
  }
}

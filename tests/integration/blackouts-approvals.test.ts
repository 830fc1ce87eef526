// Per environment, on real PostgreSQL with the real run queue and a worker: blackout windows (no refresh starts in
// one: the CLI's run, a trigger and a queued run are refused with the window's name and end; a schedule falling in
// one is recorded as skipped, audited and notified) and approvals (a manual refresh waits for a second person; the
// requester cannot approve; rejected and expired runs never run; pre-approved schedules do not wait).
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RefreshConfig } from "../../lib/config/schema";
import { importConfig } from "../../lib/config/store";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { BlackoutError } from "../../lib/engine/errors";
import { runRefresh } from "../../lib/engine/runner";
import { notifyScheduleSkipped } from "../../lib/notify/notify";
import { ApprovalError, decideApproval, expireApprovals } from "../../lib/queue/approvals";
import { openQueue } from "../../lib/queue/boss";
import { enqueueRun } from "../../lib/queue/runs";
import { startRunWorkers, type RunWorkers } from "../../lib/queue/worker";
import { Scheduler } from "../../lib/scheduler/scheduler";
import { waitFor } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("blackout windows and approvals", () => {
  let env: TestEnv;
  let boss: PgBoss;
  let workers: RunWorkers;
  let base: RefreshConfig;
  const hour = 3_600_000;
  const campaign = () => ({ name: "test campaign", from: new Date(Date.now() - hour).toISOString(), to: new Date(Date.now() + 2 * hour).toISOString(), timezone: "UTC" });
  const rules = (over: Partial<RefreshConfig>) => importConfig(env.db, { ...base, ...over });
  const status = async (id: string) => (await env.db.refreshRun.findUniqueOrThrow({ where: { id } })).status;
  const targetRows = async () => (await env.target.query("SELECT count(*)::int AS n FROM ref")).rows[0].n;

  beforeAll(async () => {
    env = await createTestEnv();
    boss = await openQueue(env.metaUrl);
    workers = await startRunWorkers(env.db, env.metaUrl, boss, { concurrency: 1 });
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE ref (id int PRIMARY KEY, label text)");
    await env.source.query("INSERT INTO ref SELECT g, 'label ' || g FROM generate_series(1, 3000) g");
    base = await env.config([{ name: "ref", strategy: "simple_copy", sync_mode: "full_replace" }]);
    await env.db.notificationChannel.create({ data: { name: "ops", kind: "email", target: "ops@example.test", events: ["schedule_skipped"] } });
  });
  afterAll(async () => {
    await workers?.stop();
    await boss?.stop({ graceful: false });
    await env?.close();
  });

  it("in a blackout window no refresh starts: the CLI's, a trigger, a queued run; a dry run may; the window's name and end are said", async () => {
    const window = campaign();
    await rules({ blackout_windows: [window] });
    const until = window.to.slice(0, 16).replace("T", " ");
    const message = `environment ${env.environment} is in its blackout window "test campaign" until ${until} UTC: no refresh starts before then`;
    await expect(runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" })).rejects.toThrow(message);
    await expect(enqueueRun(env.db, env.metaUrl, boss, { trigger: "web", triggeredBy: "oscar@example.test" })).rejects.toBeInstanceOf(BlackoutError);
    expect(await env.db.refreshRun.count({ where: { dryRun: false } })).toBe(0);
    const dry = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", dryRun: true });
    expect(dry.status).toBe("succeeded");
    expect(await targetRows()).toBe(0);

    // A run queued before the window began is not started when its turn comes in it.
    await rules({ blackout_windows: [] });
    const queued = await env.db.refreshRun.create({ data: { environment: env.environment, trigger: "web", triggeredBy: "oscar@example.test", status: "queued", queuedAt: new Date(), tablesTotal: 1, tables: { create: [{ tableName: "ref", strategy: "simple_copy", status: "pending" }] } } });
    await rules({ blackout_windows: [window] });
    await expect(runRefresh(env.db, env.metaUrl, { trigger: "web", triggeredBy: "x", queuedRunId: queued.id })).rejects.toThrow(message);
    const after = await env.db.refreshRun.findUniqueOrThrow({ where: { id: queued.id }, include: { tables: true } });
    expect([after.status, after.error, after.tables[0].status]).toEqual(["cancelled", message, "skipped"]);
    expect(await targetRows()).toBe(0);
  });

  it("a schedule due in a blackout window is recorded as skipped, audited and notified; nothing runs", async () => {
    const s = await env.db.schedule.create({ data: { environment: env.environment, name: "nightly", cron: "0 2 * * *", timezone: "UTC" } });
    const scheduler = new Scheduler(env.db, { start: (req) => enqueueRun(env.db, env.metaUrl, boss, req), onSkipped: (sch, dueAt, why) => notifyScheduleSkipped(env.db, boss, sch, dueAt, why) });
    const due = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(await scheduler.fire(s, due)).toBeNull();
    const fire = await env.db.scheduleFire.findUniqueOrThrow({ where: { scheduleId_dueAt: { scheduleId: s.id, dueAt: due } } });
    expect([fire.runId, fire.skipped]).toEqual([null, expect.stringContaining('blackout window "test campaign"')]);
    const audited = await env.db.auditEvent.findFirstOrThrow({ where: { action: "schedule.skipped" } });
    expect([audited.environment, audited.target, audited.outcome]).toEqual([env.environment, "nightly", "cancelled"]);
    const delivery = await env.db.notificationDelivery.findFirstOrThrow({ where: { event: "schedule_skipped" } });
    expect(delivery.subject).toBe(`UAT refresh schedule nightly (${env.environment}): skipped at ${due.toISOString()}`);
    expect(await env.db.refreshRun.count({ where: { trigger: "schedule" } })).toBe(0);
    await rules({ blackout_windows: [] });
  });

  it("a manual refresh waits for a second operator: the requester cannot approve, an approval queues it and it runs", async () => {
    await rules({ approval: { required: true, expires_after_hours: 24 } });
    const id = await enqueueRun(env.db, env.metaUrl, boss, { trigger: "web", triggeredBy: "oscar@example.test" });
    expect(await status(id)).toBe("awaiting_approval");
    await new Promise((r) => setTimeout(r, 1500)); // the worker polls every second: nothing was sent to it
    expect([await status(id), await targetRows()]).toEqual(["awaiting_approval", 0]);
    const own = decideApproval(env.db, boss, id, "approve", "oscar@example.test");
    await expect(own).rejects.toBeInstanceOf(ApprovalError);
    await expect(own).rejects.toMatchObject({ status: 403, message: `oscar@example.test asked for run ${id}: another operator of ${env.environment} decides on it` });
    expect(await decideApproval(env.db, boss, id, "approve", "quinn@example.test", "campaign is over")).toBe("queued");
    await waitFor(async () => (await status(id)) === "succeeded", 60_000);
    expect(await targetRows()).toBe(3000);
    const run = await env.db.refreshRun.findUniqueOrThrow({ where: { id } });
    expect([run.decidedBy, run.decisionNote]).toEqual(["quinn@example.test", "campaign is over"]);
    await expect(decideApproval(env.db, boss, id, "reject", "vera@example.test")).rejects.toMatchObject({ status: 409 });
  });

  it("rejected and expired runs never run; a dry run and a pre-approved schedule do not wait", async () => {
    await env.target.query("TRUNCATE ref");
    const rejected = await enqueueRun(env.db, env.metaUrl, boss, { trigger: "web", triggeredBy: "oscar@example.test" });
    expect(await decideApproval(env.db, boss, rejected, "reject", "quinn@example.test", "not during the demo")).toBe("rejected");
    const r = await env.db.refreshRun.findUniqueOrThrow({ where: { id: rejected }, include: { tables: true } });
    expect([r.status, r.error, r.tables[0].status]).toEqual(["rejected", "rejected by quinn@example.test: not during the demo", "skipped"]);

    const late = await enqueueRun(env.db, env.metaUrl, boss, { trigger: "web", triggeredBy: "oscar@example.test" });
    await env.db.refreshRun.update({ where: { id: late }, data: { approvalExpiresAt: new Date(Date.now() - 1000) } });
    expect(await expireApprovals(env.db)).toEqual([late]);
    await expect(decideApproval(env.db, boss, late, "approve", "quinn@example.test")).rejects.toMatchObject({ status: 409 });
    expect(await status(late)).toBe("expired");

    const dry = await enqueueRun(env.db, env.metaUrl, boss, { trigger: "web", triggeredBy: "oscar@example.test", dryRun: true });
    await waitFor(async () => (await status(dry)) === "succeeded", 60_000);
    const s = await env.db.schedule.create({ data: { environment: env.environment, name: "pre-approved nightly", cron: "0 3 * * *", preApproved: true } });
    const scheduled = await new Scheduler(env.db, { start: (req) => enqueueRun(env.db, env.metaUrl, boss, req) }).fire(s, new Date("2026-01-01T03:00:00Z"));
    await waitFor(async () => (await status(scheduled!)) === "succeeded", 60_000);
    expect(await targetRows()).toBe(3000);
  });
});

// History retention against a real metadata database: finished runs older than settings.history_retention_days go
// with their results, but every answer the product reads from history stays the same (each table's last result, last
// success, last verified and committed one, and above all the last watermark a date window starts from, though a
// newer success left none); runs still waiting or running stay; each schedule's last due time stays (missed due
// times are counted from it); a lag alert's record stays; the audit trail is kept unless audit_retention_days says
// otherwise, and the pruning itself is audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lastResults } from "../../lib/engine/last-results";
import { lastWatermark } from "../../lib/engine/last-watermark";
import { renderMetrics } from "../../lib/ops/metrics";
import { pruneHistory } from "../../lib/ops/retention";
import type { TableConfigInput } from "../../lib/config/schema";
import type { RunStatus, TableStatus } from "../../lib/generated/prisma/client";
import { runCli } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

const DAY = 86_400_000;
const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);
const ORDERS = { name: "orders", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "changed", incremental_type: "datetime" } as TableConfigInput;

describe("history retention", () => {
  let env: TestEnv;
  const ids: Record<string, string> = {};

  /** A run of one table, `age` days ago (finished an hour later unless still going). */
  const run = async (name: string, table: string, age: number, status: RunStatus, result: { status: TableStatus; watermarkAfter?: string; verified?: boolean }, dryRun = false) => {
    const startedAt = daysAgo(age);
    const finishedAt = ["running", "queued", "awaiting_approval", "rejected"].includes(status) ? null : new Date(startedAt.getTime() + 3_600_000);
    const r = await env.db.refreshRun.create({
      data: {
        environment: env.environment,
        trigger: "schedule",
        triggeredBy: "schedule:nightly",
        dryRun,
        status,
        startedAt,
        finishedAt,
        tables: {
          create: [
            {
              tableName: table,
              strategy: "simple_copy",
              status: result.status,
              startedAt,
              finishedAt,
              durationMs: 1000 * age,
              rowsCommitted: BigInt(age),
              watermarkAfter: result.watermarkAfter ?? null,
              watermarkColumn: result.watermarkAfter ? "changed" : null,
              verified: result.verified ?? null,
            },
          ],
        },
      },
    });
    ids[name] = r.id;
  };
  /** What the product reads from history: the dashboard's, the next date window's start, the metrics' table lines. */
  const readings = async () => ({
    last: await lastResults(env.db, env.environment, ["orders", "customers"]),
    watermark: await lastWatermark(env.db, env.environment, ORDERS),
    metrics: (await renderMetrics(env.db, now)).body.split("\n").filter((l) => l.startsWith("uat_refresh_table_")),
  });
  const runsLeft = async () => (await env.db.refreshRun.findMany({ select: { id: true } })).map((r) => Object.keys(ids).find((k) => ids[k] === r.id)).sort();

  beforeAll(async () => {
    env = await createTestEnv();
    // Through config.yaml's settings, as an installation sets them.
    await env.config([ORDERS, { name: "customers", sync_mode: "full_replace" }], { history_retention_days: 30 });
    // orders: the last watermark was left 100 days ago; a later success (70 days) left none; the last run failed.
    await run("ordersWatermark", "orders", 100, "succeeded", { status: "succeeded", watermarkAfter: "2025-01-01 00:00:00.000", verified: true });
    await run("ordersFailedOld", "orders", 90, "failed", { status: "failed" });
    await run("ordersDry", "orders", 80, "succeeded", { status: "succeeded", watermarkAfter: "2025-06-01 00:00:00.000" }, true);
    await run("ordersNoWatermark", "orders", 70, "succeeded", { status: "succeeded", verified: true });
    await run("ordersFailedRecent", "orders", 10, "failed", { status: "failed" });
    // customers: its only results are old; the newest stays.
    await run("customersOld", "customers", 200, "succeeded", { status: "succeeded", verified: true });
    await run("customersLast", "customers", 60, "succeeded", { status: "succeeded", verified: true });
    // Not finished: stays whatever its age. Rejected (never ran, no end time): goes by its start.
    await run("stillRunning", "orders", 100, "running", { status: "running" });
    await run("rejected", "customers", 50, "rejected", { status: "skipped" });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("deletes finished runs beyond the retention, keeps every result the product reads, and the readings are the same", async () => {
    const before = await readings();
    expect(before.watermark).toEqual({ column: "changed", value: "2025-01-01 00:00:00.000" });
    const pruned = await pruneHistory(env.db, now);
    expect(pruned.runs).toBe(4);
    expect(await runsLeft()).toEqual(["customersLast", "ordersFailedRecent", "ordersNoWatermark", "ordersWatermark", "stillRunning"]);
    // Their results went with them (cascade).
    expect(await env.db.tableResult.count({ where: { runId: { in: [ids.ordersFailedOld, ids.ordersDry, ids.customersOld, ids.rejected] } } })).toBe(0);
    const after = await readings();
    expect(after.watermark).toEqual(before.watermark);
    expect(after.last).toEqual(before.last);
    expect(after.metrics).toEqual(before.metrics);
    // Pruning again finds nothing more.
    expect((await pruneHistory(env.db, now)).runs).toBe(0);
  });

  it("keeps each schedule's last due time, a lag alert's record, pending deliveries and unexpired sign-outs", async () => {
    const schedule = await env.db.schedule.create({ data: { environment: env.environment, name: "nightly-retention", cron: "0 2 * * *" } });
    const idle = await env.db.schedule.create({ data: { environment: env.environment, name: "idle-retention", cron: "0 3 * * *" } });
    await env.db.scheduleFire.createMany({
      data: [
        { scheduleId: schedule.id, dueAt: daysAgo(100) },
        { scheduleId: schedule.id, dueAt: daysAgo(90) },
        { scheduleId: schedule.id, dueAt: daysAgo(5) },
        { scheduleId: idle.id, dueAt: daysAgo(100) },
        { scheduleId: idle.id, dueAt: daysAgo(90) },
      ],
    });
    const channel = await env.db.notificationChannel.create({ data: { name: "ops-retention", kind: "webhook", target: "https://hooks.example.test/x", events: ["run_failed", "table_lag"], lagHours: 24 } });
    const delivery = (key: string, event: string, status: "sent" | "failed" | "pending", age: number) => ({ channelId: channel.id, event, dedupeKey: key, subject: "s", body: "b", status, createdAt: daysAgo(age) });
    await env.db.notificationDelivery.createMany({
      data: [delivery("old-sent", "run_failed", "sent", 100), delivery("old-failed", "run_failed", "failed", 100), delivery("old-lag", "table_lag", "sent", 100), delivery("old-pending", "run_failed", "pending", 100), delivery("new-sent", "run_failed", "sent", 1)],
    });
    await env.db.revokedSession.createMany({ data: [{ sid: "expired", expiresAt: daysAgo(1) }, { sid: "current", expiresAt: daysAgo(-1) }] });

    const pruned = await pruneHistory(env.db, now);
    expect(pruned).toMatchObject({ scheduleFires: 3, deliveries: 2, revokedSessions: 1 });
    const fires = await env.db.scheduleFire.findMany({ orderBy: { dueAt: "asc" }, select: { scheduleId: true, dueAt: true } });
    expect(fires).toEqual([
      { scheduleId: idle.id, dueAt: daysAgo(90) },
      { scheduleId: schedule.id, dueAt: daysAgo(5) },
    ]);
    expect((await env.db.notificationDelivery.findMany({ select: { dedupeKey: true }, orderBy: { dedupeKey: "asc" } })).map((d) => d.dedupeKey)).toEqual(["new-sent", "old-lag", "old-pending"]);
    expect((await env.db.revokedSession.findMany()).map((s) => s.sid)).toEqual(["current"]);
  });

  it("keeps the audit trail unless audit_retention_days is set, and audits each pruning", async () => {
    await env.db.auditEvent.createMany({ data: [{ actor: "ada", action: "table.update", at: daysAgo(400) }, { actor: "ada", action: "table.update", at: daysAgo(10) }] });
    const auditTotal = await env.db.auditEvent.count();
    expect((await pruneHistory(env.db, now)).auditEvents).toBe(0);
    expect(await env.db.auditEvent.count()).toBe(auditTotal);
    const prunings = await env.db.auditEvent.findMany({ where: { action: "history.pruned" }, orderBy: { at: "asc" } });
    expect(prunings.map((p) => [p.actor, (p.details as { runs: number }).runs])).toEqual([
      ["system", 4],
      ["system", 0],
    ]);

    await env.db.settings.update({ where: { id: 1 }, data: { auditRetentionDays: 365 } });
    expect((await pruneHistory(env.db, now)).auditEvents).toBe(1);
    expect(await env.db.auditEvent.count({ where: { at: { lt: daysAgo(365) } } })).toBe(0);
    expect(await env.db.auditEvent.count({ where: { action: "table.update" } })).toBe(1);
    const last = await env.db.auditEvent.findFirst({ where: { action: "history.pruned" }, orderBy: { at: "desc" } });
    expect(last?.details).toMatchObject({ auditEvents: 1, auditBefore: daysAgo(365).toISOString() });
  });

  it("the CLI prunes the same way on demand (an installation without the web app)", async () => {
    await run("customersOlder", "customers", 300, "failed", { status: "failed" });
    const r = await runCli(["--prune-history", "--json"], { DATABASE_URL: env.metaUrl });
    expect(r.code, r.output).toBe(0);
    expect(JSON.parse(r.output.trim().split("\n").pop()!)).toMatchObject({ runs: 1 });
    expect(await runsLeft()).toEqual(["customersLast", "ordersFailedRecent", "ordersNoWatermark", "ordersWatermark", "stillRunning"]);
  });
});

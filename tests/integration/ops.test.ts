// Health, readiness and metrics against a real metadata database: the metrics a refresh, a waiting run, a failed
// notification and a missed schedule leave behind are scraped and parsed; readiness says which part is unreachable
// and nothing more.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgBoss } from "pg-boss";
import { runRefresh } from "../../lib/engine/runner";
import { createMetadataClient } from "../../lib/metadata/client";
import { readiness } from "../../lib/ops/health";
import { renderMetrics } from "../../lib/ops/metrics";
import { openQueue } from "../../lib/queue/boss";
import { createTestEnv, type TestEnv } from "../support/env";

/** Prometheus text -> { "name{label="v"}": value }. */
function parse(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^(\S+?(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

describe("health, readiness and metrics", () => {
  let env: TestEnv;
  let boss: PgBoss | undefined;

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL)");
    await env.source.query("INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 1234) g");
    await env.config([{ name: "accounts", sync_mode: "full_replace" }]);
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await env?.close();
  });

  it("readiness names the part that does not answer, within its timeout, and nothing else", async () => {
    expect(await readiness(env.db)).toEqual({ ready: false, checks: { metadata: "ok", queue: "unavailable" } });
    boss = await openQueue(env.metaUrl);
    expect(await readiness(env.db)).toEqual({ ready: true, checks: { metadata: "ok", queue: "ok" } });
    const unreachable = createMetadataClient("postgresql://nobody:secret@127.0.0.1:9/none?connect_timeout=1");
    try {
      expect(await readiness(unreachable, 1500)).toEqual({ ready: false, checks: { metadata: "unavailable", queue: "unavailable" } });
    } finally {
      await unreachable.$disconnect();
    }
  });

  it("the metrics are what the metadata database records: runs, last refresh per table, queue, notifications, verification, missed schedules", async () => {
    const run = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(run.status).toBe("succeeded");
    const queuedAt = new Date(Date.now() - 90_000);
    await env.db.refreshRun.create({ data: { environment: env.environment, trigger: "web", triggeredBy: "oscar", status: "queued", queuedAt, tablesTotal: 1 } });
    const channel = await env.db.notificationChannel.create({ data: { name: "ops-hook", kind: "webhook", target: "https://hooks.example.test/x", events: ["run_failed"] } });
    await env.db.notificationDelivery.create({ data: { channelId: channel.id, event: "run_failed", dedupeKey: "k1", subject: "s", body: "b", status: "failed", attempts: 4 } });
    const schedule = await env.db.schedule.create({ data: { environment: env.environment, name: "nightly", cron: "0 2 * * *" } });
    await env.db.scheduleFire.create({ data: { scheduleId: schedule.id, dueAt: new Date("2026-12-01T02:00:00Z"), missed: true } });

    const now = new Date();
    const { body, contentType } = await renderMetrics(env.db, now);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parse(body);
    const result = await env.db.tableResult.findFirstOrThrow({ where: { runId: run.runId } });
    expect(m).toMatchObject({
      [`uat_refresh_runs{environment="${env.environment}",status="succeeded",trigger="cli"}`]: 1,
      [`uat_refresh_runs{environment="${env.environment}",status="queued",trigger="web"}`]: 1,
      uat_refresh_runs_running: 0,
      [`uat_refresh_table_last_rows{environment="${env.environment}",table="accounts",status="succeeded"}`]: 1234,
      [`uat_refresh_table_last_duration_seconds{environment="${env.environment}",table="accounts",status="succeeded"}`]: result.durationMs! / 1000,
      uat_refresh_queue_depth: 1,
      'uat_refresh_notification_deliveries{channel="ops-hook",status="failed"}': 1,
      [`uat_refresh_schedule_missed{environment="${env.environment}",schedule="nightly"}`]: 1,
    });
    expect(m.uat_refresh_queue_oldest_age_seconds).toBeCloseTo((now.getTime() - queuedAt.getTime()) / 1000, 0);
    expect(m[`uat_refresh_table_seconds_since_verified{environment="${env.environment}",table="accounts"}`]).toBeCloseTo((now.getTime() - result.finishedAt!.getTime()) / 1000, 1);
  });
});

import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { createMetadataClient, type Metadata } from "../../lib/metadata/client";
import { openQueue } from "../../lib/queue/boss";
import { enqueueRun } from "../../lib/queue/runs";
import { startRunWorkers, type RunWorkers } from "../../lib/queue/worker";
import { Scheduler } from "../../lib/scheduler/scheduler";
import { waitFor } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("scheduler with several app instances", () => {
  let env: TestEnv;
  let second: Metadata;
  let boss: PgBoss;
  let workers: RunWorkers;
  // Each instance queues through its own metadata client, as two app processes would; a worker executes.
  const instance = (db: Metadata, name?: string, missedAfterMs?: number) =>
    new Scheduler(db, { start: (req) => enqueueRun(db, env.metaUrl, boss, req), instance: name, missedAfterMs });
  beforeAll(async () => {
    env = await createTestEnv();
    second = createMetadataClient(env.metaUrl);
    boss = await openQueue(env.metaUrl);
    workers = await startRunWorkers(env.db, env.metaUrl, boss, { concurrency: 2 });
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE ref (id int PRIMARY KEY, label text)");
    await env.source.query("INSERT INTO ref SELECT g, 'label ' || g FROM generate_series(1, 5000) g");
    await env.config([{ name: "ref", strategy: "simple_copy", sync_mode: "full_replace" }]);
  });
  afterAll(async () => {
    await workers?.stop();
    // A run the every-second ticks queued may still be executing: it ends before its databases are dropped.
    if (env) await waitFor(async () => (await env.db.refreshRun.count({ where: { status: "running" } })) === 0, 60_000);
    await boss?.stop({ graceful: false });
    await second?.$disconnect();
    await env?.close();
  });

  it("two instances claiming the same due time run it once", async () => {
    const s = await env.db.schedule.create({ data: { environment: env.environment, name: "nightly", cron: "0 2 * * *", timezone: "UTC", scope: "tables", tables: ["ref"] } });
    const a = instance(env.db, "a");
    const b = instance(second, "b");
    const due = new Date("2026-01-01T02:00:00.000Z");
    const [ra, rb] = await Promise.all([a.fire(s, due), b.fire(s, due)]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    // queued by the winner, executed by a worker
    await waitFor(async () => (await env.db.refreshRun.findUnique({ where: { id: (ra ?? rb)! } }))?.status === "succeeded", 60_000);
    const runs = await env.db.refreshRun.findMany({ where: { trigger: "schedule" } });
    expect(runs).toHaveLength(1);
    expect(runs[0].triggeredBy).toBe("schedule:nightly");
    expect(runs[0].status).toBe("succeeded");
    const fire = await env.db.scheduleFire.findUniqueOrThrow({ where: { scheduleId_dueAt: { scheduleId: s.id, dueAt: due } } });
    expect(fire.runId).toBe(runs[0].id);
    expect((await env.target.query("SELECT count(*)::int AS n FROM ref")).rows[0].n).toBe(5000);
  });

  it("real node-cron ticks on two started instances: every due second is run by at most one instance", async () => {
    await env.db.schedule.create({ data: { environment: env.environment, name: "every-second", cron: "* * * * * *", timezone: "UTC", scope: "tables", tables: ["ref"] } });
    const a = instance(env.db, "a", 3_600_000);
    const b = instance(second, "b", 3_600_000);
    await Promise.all([a.start(), b.start()]);
    await new Promise((r) => setTimeout(r, 3500));
    await Promise.all([a.stop(), b.stop()]);
    const s = await env.db.schedule.findUniqueOrThrow({ where: { name: "every-second" }, include: { fires: true } });
    expect(s.fires.length).toBeGreaterThanOrEqual(2);
    const ran = s.fires.filter((f) => f.runId);
    expect(ran.length).toBeGreaterThanOrEqual(1);
    const runs = await env.db.refreshRun.findMany({ where: { triggeredBy: "schedule:every-second" } });
    expect(runs).toHaveLength(ran.length);
    expect(new Set(ran.map((f) => f.runId)).size).toBe(ran.length);
    await env.db.schedule.delete({ where: { id: s.id } });
  });

  it("due times that passed while no instance ran are recorded as missed and audited, once", async () => {
    const s = await env.db.schedule.create({ data: { environment: env.environment, name: "hourly", cron: "0 * * * *", timezone: "UTC", scope: "all" } });
    // Due times up to now - 60 s count as missed. H = the hour of (now - 60 s), since = H-5:00 + 30 min: due times
    // H-4:00 ... H:00 were missed (5), and H+1:00 is after now - 60 s. (H was the hour of now - 2 min, and between
    // minute 1 and 2 of an hour H+1:00 was missed too: 6.) Close to the next H, wait until it has passed.
    const toNextHour = 3_600_000 - ((Date.now() - 60_000) % 3_600_000);
    if (toNextHour < 5_000) await new Promise((r) => setTimeout(r, toNextHour + 100));
    await env.db.$executeRaw`UPDATE "Schedule" SET "updatedAt" = date_trunc('hour', now() - interval '60 seconds') - interval '4 hours 30 minutes' WHERE id = ${s.id}`;
    const fresh = await env.db.schedule.findUniqueOrThrow({ where: { id: s.id } });
    const a = instance(env.db);
    const b = instance(second);
    const [ma, mb] = await Promise.all([a.recordMissed(fresh), b.recordMissed(fresh)]);
    expect(ma).toHaveLength(5);
    expect(mb).toHaveLength(5);
    const fires = await env.db.scheduleFire.findMany({ where: { scheduleId: s.id } });
    expect(fires).toHaveLength(5);
    expect(fires.every((f) => f.missed && f.runId === null)).toBe(true);
    const events = await env.db.auditEvent.findMany({ where: { action: "schedule.missed", target: "hourly" } });
    expect(events.reduce((n, e) => n + Number((e.details as { count: number }).count), 0)).toBe(5);
    // nothing ran for them
    expect(await env.db.refreshRun.count({ where: { triggeredBy: "schedule:hourly" } })).toBe(0);
  });
});

// The durable run queue with workers in several processes: runs are executed once, a table already queued or
// running is refused at once, any run (another process's, the CLI's) can be cancelled from anywhere, and a worker
// killed mid-run leaves its run interrupted, not retried.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import pg from "pg";
import type { PgBoss } from "pg-boss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { TableBusyError } from "../../lib/engine/runner";
import { jobIdFor, openQueue } from "../../lib/queue/boss";
import { enqueueRun, requestCancel } from "../../lib/queue/runs";
import { spawnCli, waitFor } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

registerBuiltInDialects();
const root = path.resolve(import.meta.dirname, "../..");

describe("run queue and workers", () => {
  let env: TestEnv;
  let admin: pg.Client;
  let boss: PgBoss;
  let childEnv: Record<string, string>;
  const workers: ChildProcess[] = [];

  /** `npm run worker` as a separate process (what runs on another host, and inside every app instance). */
  async function startWorker(extraEnv: Record<string, string> = {}) {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/worker.ts")], { cwd: root, env: { ...process.env, ...childEnv, WORKER_CONCURRENCY: "1", ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    workers.push(child);
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`worker exited: ${out}`);
      return out.includes("taking up to");
    }, 60_000);
    return child;
  }

  const slowTarget = (table: string, sleepSec: number, atId: number) => `
    CREATE OR REPLACE FUNCTION slow_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = ${atId} THEN PERFORM pg_sleep(${sleepSec}); END IF; RETURN NEW; END $$;
    CREATE TRIGGER slow_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION slow_${table}();`;

  const run = (id: string) => env.db.refreshRun.findUniqueOrThrow({ where: { id }, include: { tables: true } });

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    const tables = ["q1", "q2", "q3", "q4", "parked"];
    for (const t of tables) {
      for (const c of [env.source, env.target]) await c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, v text)`);
      await env.source.query(`INSERT INTO ${t} SELECT g, 'v' || g FROM generate_series(1, 2000) g`);
    }
    await env.target.query("INSERT INTO parked SELECT g, 'old' FROM generate_series(1, 10) g");
    for (const t of ["q1", "q2", "q3", "q4"]) await env.target.query(slowTarget(t, 3, 2000));
    await env.target.query(slowTarget("parked", 120, 1000));
    // Each table fires its slow trigger, so runs last long enough to be watched.
    await env.config(tables.map((name) => ({ name, strategy: "simple_copy" as const, sync_mode: "full_replace" as const, fire_triggers: true })));
    childEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! };
    boss = await openQueue(env.metaUrl);
    await Promise.all([startWorker(), startWorker()]);
  });

  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await boss?.stop({ graceful: false });
    await admin?.end();
    await env?.close();
  });

  const enqueue = (tables: string[], by = "oscar@example.test") => enqueueRun(env.db, env.metaUrl, boss, { tables, trigger: "web", triggeredBy: by });
  const parkedDb = () => new URL(env.targetUrl).pathname.slice(1);
  const releaseParked = () => admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [parkedDb()]);

  it("executes every queued run once, on the workers of other processes", async () => {
    const ids = await Promise.all(["q1", "q2", "q3", "q4"].map((t) => enqueue([t])));
    await waitFor(async () => (await env.db.refreshRun.count({ where: { id: { in: ids }, status: "succeeded" } })) === 4, 90_000, 200);
    const runs = await env.db.refreshRun.findMany({ where: { id: { in: ids } } });
    expect(new Set(runs.map((r) => r.executor)).size).toBe(2); // both worker processes took runs
    expect(runs.every((r) => r.executor?.startsWith("worker "))).toBe(true);
    for (const t of ["q1", "q2", "q3", "q4"]) expect(await fingerprint(env.target, t)).toEqual(await fingerprint(env.source, t));
    const jobs = await env.db.$queryRawUnsafe<{ state: string; retry_count: number }[]>("SELECT state::text, retry_count FROM pgboss.job WHERE id = ANY($1::uuid[])", ids.map(jobIdFor));
    expect(jobs.map((j) => [j.state, j.retry_count])).toEqual(ids.map(() => ["completed", 0]));
  });

  it("refuses at once a trigger for a table that is queued or running, naming the run", async () => {
    const before = await fingerprint(env.target, "parked"); // read now: the refresh's TRUNCATE will hold the table
    const first = await enqueue(["parked"]);
    const refused = await enqueue(["parked"], "vera@example.test").catch((e) => e);
    expect(refused).toBeInstanceOf(TableBusyError);
    // Refused at once: the first run had not finished (it parks for two minutes on its 1000th row).
    expect(["queued", "running"]).toContain((await run(first)).status);
    expect((refused as Error).message).toMatch(new RegExp(`^parked is already (queued in|being refreshed by) run ${first} \\(started by oscar@example\\.test from web`));
    // ... and once it runs on a worker, a cancel from here stops it there within seconds
    await waitFor(async () => (await run(first)).status === "running" && (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [parkedDb()])).rowCount, 60_000);
    expect(await requestCancel(env.db, boss, first, "ada@example.test")).toBe("requested");
    // Cancelled before the 120 s sleep could end by itself: the worker cut the session.
    await waitFor(async () => (await run(first)).status === "cancelled", 90_000, 100);
    const r = await run(first);
    expect(r.executor).toMatch(/^worker /);
    expect(r.tables[0].error).toBe("cancelled by ada@example.test: nothing of the interrupted transaction was committed");
    await releaseParked();
    expect(await fingerprint(env.target, "parked")).toEqual(before);
  });

  it("cancels a queued run before it starts", async () => {
    for (const w of workers) w.kill("SIGSTOP"); // nobody takes jobs for a moment
    try {
      const id = await enqueue(["q1"]);
      expect(await requestCancel(env.db, boss, id, "ada@example.test")).toBe("cancelled");
      const r = await run(id);
      expect([r.status, r.tables[0].status, r.tables[0].error]).toEqual(["cancelled", "skipped", "cancelled by ada@example.test before it started"]);
    } finally {
      for (const w of workers) w.kill("SIGCONT");
    }
  });

  it("cancels a run of the CLI from another process", async () => {
    const before = await fingerprint(env.target, "parked");
    const cli = spawnCli(["--table", "parked", "--force"], childEnv);
    const id = await waitFor(async () => (await env.db.refreshRun.findFirst({ where: { trigger: "cli", status: "running" } }))?.id, 60_000);
    await waitFor(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [parkedDb()])).rowCount, 60_000);
    expect(await requestCancel(env.db, boss, id, "ada@example.test")).toBe("requested");
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toContain("cancelled by ada@example.test: nothing of the interrupted transaction was committed");
    expect(cli.output()).toContain(`run ${id}: cancelled`);
    await releaseParked();
    expect(await fingerprint(env.target, "parked")).toEqual(before);
  });

  it("a worker killed mid-run leaves the run interrupted, and nothing retries it", async () => {
    const before = await fingerprint(env.target, "parked");
    const id = await enqueue(["parked"]);
    await waitFor(async () => (await run(id)).status === "running", 60_000);
    const executor = (await run(id)).executor!;
    const pid = Number(/^worker (\d+)@/.exec(executor)![1]);
    const killed = workers.find((w) => w.pid === pid);
    expect(killed).toBeDefined();
    killed!.kill("SIGKILL");
    await releaseParked();
    // the surviving worker's sweep notices that no process holds the run's tables any more
    await waitFor(async () => (await run(id)).status === "interrupted", 60_000, 250);
    const r = await run(id);
    expect(r.error).toContain(`(${executor}) ended before it finished`);
    expect(r.tables[0]).toMatchObject({ status: "failed", rowsWritten: 0n });
    await new Promise((res) => setTimeout(res, 3000));
    expect((await run(id)).status).toBe("interrupted");
    expect(await env.db.refreshRun.count({ where: { tables: { some: { tableName: "parked" } }, status: "running" } })).toBe(0);
    expect(await fingerprint(env.target, "parked")).toEqual(before);
    const job = await env.db.$queryRawUnsafe<{ retry_count: number; state: string }[]>("SELECT state::text, retry_count FROM pgboss.job WHERE id = $1::uuid", jobIdFor(id));
    expect(job.map((j) => [j.state === "retry", j.retry_count])).toEqual([[false, 0]]);
  });

  it("SIGTERM: a worker takes no new run, lets the running one finish within its grace period, and past it cancels cleanly", async () => {
    const exited = (w: ChildProcess) => new Promise<number | null>((res) => (w.exitCode !== null ? res(w.exitCode) : w.once("exit", (code) => res(code))));
    const others = [...workers];
    for (const w of others) w.kill("SIGSTOP"); // only the worker under test takes jobs
    try {
      // Within the grace period: the run (3 s of slow trigger) finishes, then the worker exits.
      const patient = await startWorker({ WORKER_STOP_GRACE_SECONDS: "60" });
      const finishing = await enqueue(["q1"]);
      await waitFor(async () => (await run(finishing)).status === "running", 60_000);
      patient.kill("SIGTERM");
      expect(await exited(patient)).toBe(0);
      expect((await run(finishing)).status).toBe("succeeded");
      expect(await fingerprint(env.target, "q1")).toEqual(await fingerprint(env.source, "q1"));

      // Past it: the run is cancelled, its transaction rolled back, and the worker exits.
      const before = await fingerprint(env.target, "parked");
      const hurried = await startWorker({ WORKER_STOP_GRACE_SECONDS: "1" });
      const parked = await enqueue(["parked"]);
      await waitFor(async () => (await run(parked)).status === "running", 60_000);
      await waitFor(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'PgSleep'", [parkedDb()])).rowCount, 60_000);
      hurried.kill("SIGTERM");
      expect(await exited(hurried)).toBe(0);
      const r = await run(parked);
      expect(r.status).toBe("cancelled");
      expect(r.cancelRequestedBy).toMatch(/^worker \d+@.+ shutting down$/);
      // Audited as what it was: cancelled, not failed.
      const audited = await env.db.auditEvent.findMany({ where: { target: parked, action: { startsWith: "refresh." } } });
      expect(audited.map((a) => [a.action, a.outcome, a.environment])).toEqual([["refresh.cancelled", "cancelled", env.environment]]);
      await releaseParked();
      expect(await fingerprint(env.target, "parked")).toEqual(before);
    } finally {
      for (const w of others) w.kill("SIGCONT");
    }
  });
});

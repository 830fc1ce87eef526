// One refresh per table, even when the lock connection dies: the run that held the locks stops before it can commit
// anything, and only then can another run take the table. Against real PostgreSQL (source, target and the metadata
// database whose advisory locks are the table locks), with the CLI parked just before its commit.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LockLostError, TableLocks } from "../../lib/engine/locks";
import { runRefresh, sweepInterruptedRuns } from "../../lib/engine/runner";
import { runCli, spawnCli, waitFor } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

describe("table locks", () => {
  let env: TestEnv;
  let admin: pg.Client;
  const metaDb = () => new URL(env.metaUrl).pathname.slice(1);
  const killLockConnections = () => admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'uat-refresh (locks)' AND datname = $1", [metaDb()]);

  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE items (id int PRIMARY KEY, v text)");
    await env.source.query("INSERT INTO items SELECT g, 'new' FROM generate_series(1, 50000) g");
    await env.target.query("INSERT INTO items SELECT g, 'old' FROM generate_series(1, 100) g");
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  it("a lost lock connection is noticed, and proving the locks then fails", async () => {
    const locks = new TableLocks(env.metaUrl, env.environment);
    const lost: string[] = [];
    locks.onLost((why) => lost.push(why));
    expect(await locks.tryLock("items")).toBe(true);
    await locks.assertHeld();
    await killLockConnections();
    await waitFor(async () => lost.length > 0, 10_000);
    expect(lost[0]).toMatch(/lock connection (error|closed)/);
    await expect(locks.assertHeld()).rejects.toThrow(LockLostError);
    await locks.close();
  });

  it("a run whose lock connection dies before its commit commits nothing; only then can another run take the table", async () => {
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const before = await fingerprint(env.target, "items");
    const cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! };
    const first = spawnCli(["--table", "items", "--force"], { ...cliEnv, UAT_REFRESH_FAILPOINT: "before-commit" });
    try {
      await waitFor(async () => {
        if (first.exitCode !== null) throw new Error(`CLI exited early: ${first.output()}`);
        return first.output().includes("failpoint before-commit");
      });
      // While it holds the lock, a second run is refused.
      await expect(runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "second", tables: ["items"] })).rejects.toThrow(/already being refreshed/);
      await killLockConnections();
      // The first run notices and cuts its target session: its open transaction is rolled back by the server.
      const tgt = new URL(env.targetUrl).pathname.slice(1);
      await waitFor(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh run % (target)' AND datname = $1", [tgt])).rowCount === 0, 15_000);
      expect(await fingerprint(env.target, "items")).toEqual(before);
      // Now another run may take the table, and completes.
      const second = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "second", tables: ["items"] });
      expect(second.status, second.tables[0]?.error).toBe("succeeded");
      expect(await fingerprint(env.target, "items")).toEqual(await fingerprint(env.source, "items"));
    } finally {
      first.kill("SIGKILL");
      await first.exited;
    }
    // The first run's row was marked interrupted by the second (its lock was gone), and the sweep leaves finished
    // tables as they are.
    const runs = await env.db.refreshRun.findMany({ orderBy: { startedAt: "asc" }, include: { tables: true } });
    expect(runs.map((r) => r.status)).toEqual(["interrupted", "succeeded"]);
    expect(await sweepInterruptedRuns(env.db, env.metaUrl)).toEqual([]);
    expect(runs[1].tables[0].status).toBe("succeeded");
  });

  it("--status right after a killed CLI says interrupted (its locks are gone), without waiting for another run", async () => {
    await env.config([{ name: "items", strategy: "simple_copy", sync_mode: "full_replace" }]);
    const cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! };
    const killed = spawnCli(["--table", "items", "--force"], { ...cliEnv, UAT_REFRESH_FAILPOINT: "before-commit" });
    await waitFor(async () => killed.output().includes("failpoint before-commit"));
    killed.kill("SIGKILL");
    await killed.exited;
    const status = await runCli(["--status", "--json"], cliEnv);
    expect(status.code, status.output).toBe(0);
    // Without --env: every environment, each with its tables.
    const [only] = JSON.parse(status.output) as { environment: string; tables: { name: string; lastRun: { status: string } | null }[] }[];
    expect(only.environment).toBe(env.environment);
    const items = only.tables.find((t) => t.name === "items");
    expect(items?.lastRun?.status).toBe("interrupted");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportConfig } from "../../lib/config/store";
import { EXACT_COUNT_LIMIT } from "../../lib/engine/limits";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { runRefresh } from "../../lib/engine/runner";
import { dashboardStatus, tableStatuses, testConnections } from "../../lib/engine/status";
import { waitFor } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("status (dashboard and --status)", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE small (id int PRIMARY KEY)");
      await c.query("CREATE TABLE big (id bigint PRIMARY KEY)");
    }
    await env.source.query("INSERT INTO small SELECT generate_series(1, 300)");
    await env.target.query("INSERT INTO small SELECT generate_series(1, 200)");
    await env.source.query(`INSERT INTO big SELECT generate_series(1, ${EXACT_COUNT_LIMIT + 5000})`);
    await env.source.query("ANALYZE big");
    await env.config([
      { name: "small", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
      { name: "big", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "absent", strategy: "simple_copy" },
    ]);
  });
  afterAll(() => env?.close());

  it("counts small tables exactly, estimates big ones, names missing ones, and reports lag", async () => {
    const rows = await tableStatuses(env.db, await exportConfig(env.db));
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(by.small.source).toEqual({ rows: 300, estimated: false, watermark: "300" });
    expect(by.small.target).toMatchObject({ rows: 200, estimated: false, watermark: "200" });
    expect(by.small.lag).toBe("100 ids");
    expect(by.big.source.estimated).toBe(true);
    expect(Math.abs(by.big.source.rows! - (EXACT_COUNT_LIMIT + 5000))).toBeLessThan(50_000);
    expect(by.big.target).toMatchObject({ rows: 0, estimated: false, watermark: null });
    expect(by.absent.source.error).toBe("table not found");
  });

  it("answers in under a second while a full replace holds a table, showing its last known figures", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE held (id bigint PRIMARY KEY, payload text NOT NULL)");
    await env.source.query("INSERT INTO held SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 1000000) g");
    await env.target.query("INSERT INTO held SELECT g, 'old' FROM generate_series(1, 200) g");
    await env.config([
      { name: "small", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
      { name: "held", strategy: "simple_copy", sync_mode: "full_replace" },
    ]);
    const before = await dashboardStatus(env.db, env.metaUrl);
    expect(before.tables.find((t) => t.name === "held")?.target.rows).toBe(200);

    let loading = false;
    const refresh = runRefresh(env.db, env.metaUrl, { tables: ["held"], trigger: "cli", triggeredBy: "test", onProgress: (e) => (loading ||= e.phase === "loading" && e.rows > 0) });
    try {
      await waitFor(async () => loading);
      // The refresh's TRUNCATE now holds the table until it commits: a count or max() there would wait for all of it.
      const started = Date.now();
      const during = await dashboardStatus(env.db, env.metaUrl);
      const elapsed = Date.now() - started;
      const held = during.tables.find((t) => t.name === "held")!;
      expect(elapsed).toBeLessThan(1000);
      expect(held.running).toBe(true);
      expect(held.target).toMatchObject({ rows: 200, refreshing: true });
      expect(during.active.map((r) => r.tables.map((t) => t.tableName))).toEqual([["held"]]);
    } finally {
      expect((await refresh).status).toBe("succeeded");
    }

    const after = (await dashboardStatus(env.db, env.metaUrl)).tables.find((t) => t.name === "held")!;
    expect([after.running, after.target.rows, after.target.refreshing]).toEqual([false, 1_000_000, undefined]);
  });

  it("a lock held by anyone else makes that table report it, quickly, instead of the dashboard waiting", async () => {
    const blocker = new (await import("pg")).default.Client({ connectionString: env.targetUrl });
    await blocker.connect();
    try {
      await blocker.query("BEGIN; LOCK TABLE small IN ACCESS EXCLUSIVE MODE");
      const started = Date.now();
      const small = (await dashboardStatus(env.db, env.metaUrl)).tables.find((t) => t.name === "small")!;
      expect(Date.now() - started).toBeLessThan(3000);
      expect(small.target.error).toMatch(/lock timeout/);
    } finally {
      await blocker.end();
    }
  });

  it("tests connections and says the source is read-only", async () => {
    const checks = await testConnections(await exportConfig(env.db));
    expect(checks.map((c) => [c.role, c.ok, c.readOnly])).toEqual([["source", true, true], ["target", true, false]]);
    expect(checks[0].version).toMatch(/^PostgreSQL \d+/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportConfig } from "../../lib/config/store";
import { EXACT_COUNT_LIMIT } from "../../lib/engine/limits";
import { tableStatuses, testConnections } from "../../lib/engine/status";
import { createTestEnv, type TestEnv } from "../support/env";

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
    expect(by.small.target).toEqual({ rows: 200, estimated: false, watermark: "200" });
    expect(by.small.lag).toBe("100 ids");
    expect(by.big.source.estimated).toBe(true);
    expect(Math.abs(by.big.source.rows! - (EXACT_COUNT_LIMIT + 5000))).toBeLessThan(50_000);
    expect(by.big.target).toEqual({ rows: 0, estimated: false, watermark: null });
    expect(by.absent.source.error).toBe("table not found");
  });

  it("tests connections and says the source is read-only", async () => {
    const checks = await testConnections(await exportConfig(env.db));
    expect(checks.map((c) => [c.role, c.ok, c.readOnly])).toEqual([["source", true, true], ["target", true, false]]);
    expect(checks[0].version).toMatch(/^PostgreSQL \d+/);
  });
});

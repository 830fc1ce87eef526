// settings.max_parallel_tables: a run refreshes up to N tables at once, each on its own sessions, with exact results.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

const TABLES = ["alpha", "beta", "gamma"];

describe("parallel tables", () => {
  let env: TestEnv;
  let admin: pg.Client;
  beforeAll(async () => {
    env = await createTestEnv();
    admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    for (const t of TABLES) {
      for (const c of [env.source, env.target]) await c.query(`CREATE TABLE ${t} (id bigint PRIMARY KEY, payload text NOT NULL)`);
      await env.source.query(`INSERT INTO ${t} SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 300000) g`);
    }
  });
  afterAll(async () => {
    await admin?.end();
    await env?.close();
  });

  /** Runs all tables and samples how many target sessions of that run are open at once (a parallel query's workers
   *  carry the session's application name too: only client backends count). */
  async function runAll(maxParallel: number) {
    await env.config(TABLES.map((name) => ({ name, strategy: "simple_copy" as const, sync_mode: "full_replace" as const })), { max_parallel_tables: maxParallel });
    let peak = 0;
    let sampling = true;
    const db = new URL(env.targetUrl).pathname.slice(1);
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'uat-refresh run % (target)' AND backend_type = 'client backend'", [db]);
        peak = Math.max(peak, rows[0].n);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" }).finally(() => (sampling = false));
    await sampler;
    const results = await env.db.tableResult.findMany({ where: { runId: report.runId }, orderBy: { startedAt: "asc" } });
    const overlaps = results.some((a, i) => results.slice(i + 1).some((b) => b.startedAt! < a.finishedAt!));
    return { report, peak, overlaps };
  }

  it("refreshes two tables at once on separate sessions, and every table exactly", async () => {
    const { report, peak, overlaps } = await runAll(2);
    expect(report.status).toBe("succeeded");
    expect(report.tables.map((t) => t.table)).toEqual(TABLES);
    expect(overlaps).toBe(true);
    expect(peak).toBe(2);
    for (const t of TABLES) expect(await fingerprint(env.target, t)).toEqual(await fingerprint(env.source, t));
  });

  it("with max_parallel_tables 1, one table after the other", async () => {
    for (const t of TABLES) await env.target.query(`TRUNCATE ${t}`);
    const { report, peak, overlaps } = await runAll(1);
    expect(report.status).toBe("succeeded");
    expect(overlaps).toBe(false);
    expect(peak).toBe(1);
    for (const t of TABLES) expect(await fingerprint(env.target, t)).toEqual(await fingerprint(env.source, t));
  });
});

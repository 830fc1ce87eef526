// Masking on every refresh, against real PostgreSQL with real data: no masked source value reaches its target column,
// the same value masks the same way in two tables and two runs (a join on the masked key keeps its row count), a
// unique index holds on 1M masked rows, incremental re-runs add no duplicates and change nothing, partitions are
// masked too, and a refresh killed mid-copy leaves the old state.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { runRefresh } from "../../lib/engine/runner";
import { spawnCli, waitFor } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

registerBuiltInDialects();
const KEY = "masking-integration-key-0123456789";
const N = 1_000_000;

describe("masking", () => {
  let env: TestEnv;
  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY = KEY;
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      await c.query(`CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, first_name text, phone text, born date, note text)`);
      await c.query(`CREATE TABLE contacts (id bigint PRIMARY KEY, email text NOT NULL)`);
    }
    await env.source.query(`INSERT INTO people SELECT g, 'user' || g || '@corp.example', 'Name' || (g % 5000), '+44 20 7946 ' || lpad((g % 10000)::text, 4, '0'),
      date '1950-01-01' + (g % 20000), CASE WHEN g % 2 = 0 THEN 'private note ' || g END FROM generate_series(1, ${N}) g`);
    // contacts reference some people by email (and hold a few unknown ones)
    await env.source.query(`INSERT INTO contacts SELECT g, 'user' || (g * 7) || '@corp.example' FROM generate_series(1, 20000) g`);
    await env.source.query(`INSERT INTO contacts SELECT 100000 + g, 'stranger' || g || '@elsewhere.example' FROM generate_series(1, 500) g`);
    await env.config([
      {
        name: "people",
        strategy: "simple_copy",
        sync_mode: "full_replace",
        masking: [
          { column: "email", rule: "fake_email" },
          { column: "first_name", rule: "fake_first_name" },
          { column: "phone", rule: "partial", keep_last: 4 },
          { column: "born", rule: "date_shift", days: 30 },
          { column: "note", rule: "null" },
        ],
      },
      { name: "contacts", strategy: "simple_copy", sync_mode: "full_replace", masking: [{ column: "email", rule: "fake_email" }] },
    ]);
  });
  afterAll(() => env?.close());

  /** Values of one column, as a set. */
  const values = async (c: pg.Client, sql: string) => new Set((await c.query({ text: sql, rowMode: "array" })).rows.map((r) => r[0]));

  it("masks 1M rows under a unique index: no source value left, every value distinct, recorded on the run", async () => {
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["people", "contacts"] });
    expect(report.status, report.tables.map((t) => t.error).join("; ")).toBe("succeeded");
    const { rows } = await env.target.query("SELECT count(*)::int AS n, count(DISTINCT email)::int AS d, count(note)::int AS notes FROM people");
    expect(rows[0]).toEqual({ n: N, d: N, notes: 0 });
    for (const column of ["email", "first_name", "phone"]) {
      const source = await values(env.source, `SELECT DISTINCT ${column} FROM people`);
      const target = await values(env.target, `SELECT DISTINCT ${column} FROM people`);
      const leaked = [...target].filter((v) => source.has(v));
      expect(leaked, column).toEqual([]);
    }
    const sample = await env.target.query("SELECT phone, born FROM people WHERE id = 1234");
    expect(sample.rows[0].phone).toBe("************1234");
    const result = await env.db.tableResult.findFirstOrThrow({ where: { runId: report.runId, tableName: "people" } });
    expect(result.maskedColumns).toEqual(["email (fake_email)", "first_name (fake_first_name)", "phone (partial)", "born (date_shift)", "note (null)"]);
  });

  it("is deterministic across tables and runs: a join on the masked email keeps its row count", async () => {
    const join = "SELECT count(*)::int AS n FROM contacts c JOIN people p ON p.email = c.email";
    const [src, tgt] = [(await env.source.query(join)).rows[0].n, (await env.target.query(join)).rows[0].n];
    expect(src).toBe(20_000);
    expect(tgt).toBe(src);
    const before = await fingerprint(env.target, "people");
    expect((await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["people"] })).status).toBe("succeeded");
    expect(await fingerprint(env.target, "people")).toEqual(before);
  });

  it("incremental + masking: a re-run adds no duplicates and changes no values", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE signups (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, city text)");
    await env.source.query("INSERT INTO signups SELECT g, 'signup' || g || '@corp.example', 'Town ' || g FROM generate_series(1, 30000) g");
    await env.config([
      { name: "signups", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", batch_size: 7000, masking: [{ column: "email", rule: "fake_email" }, { column: "city", rule: "fake_city" }] },
    ]);
    expect((await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["signups"] })).status).toBe("succeeded");
    const first = await fingerprint(env.target, "signups");
    await env.source.query("INSERT INTO signups SELECT g, 'signup' || g || '@corp.example', 'Town ' || g FROM generate_series(30001, 31000) g");
    expect((await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["signups"] })).tables[0].outcome?.rowsWritten).toBe(1000);
    expect((await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["signups"] })).tables[0].outcome?.rowsWritten).toBe(0);
    const { rows } = await env.target.query("SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM signups");
    expect(rows[0]).toEqual({ n: 31000, d: 31000 });
    const old = await env.target.query("SELECT count(*)::int AS count, coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text AS sum FROM signups t WHERE id <= 30000");
    expect(old.rows[0]).toEqual(first);
  });

  it("masks partition-switched days too, and refuses to mask the partition key", async () => {
    await env.source.query("CREATE TABLE visits (day int NOT NULL, id int NOT NULL, email text, PRIMARY KEY (day, id))");
    await env.target.query("CREATE TABLE visits (day int NOT NULL, id int NOT NULL, email text, PRIMARY KEY (day, id)) PARTITION BY RANGE (day)");
    await env.source.query("INSERT INTO visits SELECT 20250101 + (g % 3), g, 'user' || g || '@corp.example' FROM generate_series(1, 3000) g");
    await env.config([{ name: "visits", strategy: "staging_partition_switch", masking: [{ column: "email", rule: "fake_email" }] }]);
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["visits"] });
    expect(r.status, r.tables[0].error).toBe("succeeded");
    expect((await env.target.query("SELECT count(*)::int AS n FROM visits WHERE email LIKE '%@corp.example'")).rows[0].n).toBe(0);
    expect((await env.target.query("SELECT count(*)::int AS n FROM visits")).rows[0].n).toBe(3000);
    await env.config([{ name: "visits", strategy: "staging_partition_switch", masking: [{ column: "day", rule: "sql", expression: "day" }] }]);
    const refused = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["visits"] });
    expect(refused.tables[0].error).toBe("masking: day is the partition key of public.visits and cannot be masked");
  });

  it("a masked refresh killed mid-copy leaves the target as it was", async () => {
    await env.config([{ name: "contacts", strategy: "simple_copy", sync_mode: "full_replace", masking: [{ column: "email", rule: "hash", length: 32 }] }]);
    const before = await fingerprint(env.target, "contacts");
    const cliEnv = { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD!, UAT_REFRESH_MASKING_KEY: KEY, UAT_REFRESH_FAILPOINT: "before-commit" };
    const child = spawnCli(["--table", "contacts", "--force"], cliEnv);
    await waitFor(async () => child.output().includes("failpoint before-commit"), 60_000);
    child.kill("SIGKILL");
    await child.exited;
    const admin = new pg.Client({ connectionString: env.adminUrl });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'uat-refresh run %' AND datname = $1", [new URL(env.targetUrl).pathname.slice(1)]);
    await admin.end();
    expect(await fingerprint(env.target, "contacts")).toEqual(before);
  });
});

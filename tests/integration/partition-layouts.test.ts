// staging_partition_switch on the partition layouts PostgreSQL schemas use: timestamptz keys (bounds printed with
// an offset), monthly partitions reloaded whole, a weekly layout whose missing partitions keep its width, and days
// that cannot be placed refused before anything is created. Each compared with the source by count and checksum.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

/** DDL and catalog reads as a session in another zone runs them: bounds are instants, printed with its offset. */
const berlin = (sql: string) => `SET TIME ZONE 'Europe/Berlin'; ${sql}; RESET TIME ZONE`;

const partitions = async (env: TestEnv, table: string) => {
  const results = (await env.target.query(berlin(`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${table}'::regclass ORDER BY 1`))) as unknown as { rows: { name: string; bound: string }[] }[];
  return results[1].rows;
};

describe("partition layouts", () => {
  let env: TestEnv;
  const run = (table: string, dryRun = false) => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: [table], dryRun });

  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(() => env?.close());

  it("daily partitions on a timestamptz key: re-runs find their partitions (no 'already exists'), nothing left behind", async () => {
    await env.source.query(`CREATE TABLE ev (id bigint NOT NULL, at timestamptz NOT NULL, v text, PRIMARY KEY (id, at));
      INSERT INTO ev SELECT g, timestamptz '2022-08-18 00:00:00+00' + g * interval '7 minutes', 'v' || g FROM generate_series(1, 1500) g`);
    await env.target.query(berlin(`CREATE TABLE ev (id bigint NOT NULL, at timestamptz NOT NULL, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
      CREATE TABLE ev_p20220818 PARTITION OF ev FOR VALUES FROM ('2022-08-18 00:00:00+00') TO ('2022-08-19 00:00:00+00');
      CREATE TABLE ev_p20220819 PARTITION OF ev FOR VALUES FROM ('2022-08-19 00:00:00+00') TO ('2022-08-20 00:00:00+00')`));
    await env.config([{ name: "ev", strategy: "staging_partition_switch", date_buffer_days: 1 }]);
    for (let i = 0; i < 2; i++) {
      const r = await run("ev");
      expect(r.status, r.tables[0].error).toBe("succeeded");
    }
    expect(await fingerprint(env.target, "ev")).toEqual(await fingerprint(env.source, "ev"));
    expect((await partitions(env, "ev")).map((p) => p.name)).toEqual(["ev_p20220818", "ev_p20220819", "ev_p20220820", "ev_p20220821", "ev_p20220822", "ev_p20220823", "ev_p20220824", "ev_p20220825"]);
    expect((await env.target.query("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'ev_stg%' OR relname LIKE 'ev_old%'")).rows[0].n).toBe(0);
  });

  it("monthly partitions on a timestamptz key: a changed day reloads its month whole; a new month gets a monthly partition", async () => {
    await env.source.query(`CREATE TABLE orders_m (id bigint NOT NULL, placed timestamptz NOT NULL, amount numeric(10, 2), PRIMARY KEY (id, placed));
      INSERT INTO orders_m SELECT g, timestamptz '2024-01-01 00:00:00+00' + g * interval '50 minutes', g % 97 FROM generate_series(1, 2500) g`); // to 2024-03-28
    await env.target.query(berlin(`CREATE TABLE orders_m (id bigint NOT NULL, placed timestamptz NOT NULL, amount numeric(10, 2), PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
      CREATE TABLE orders_m_2024_01 PARTITION OF orders_m FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00');
      CREATE TABLE orders_m_2024_02 PARTITION OF orders_m FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00')`));
    await env.config([{ name: "orders_m", strategy: "staging_partition_switch", date_buffer_days: 2 }]);
    const dry = await run("orders_m", true);
    expect(dry.tables[0].plan?.reason).toMatch(/all days in the source: \d+ day\(s\) in 3 partition\(s\) \(2024-01-01 00:00:00\+00\.\.2024-02-01 00:00:00\+00, 2024-02-01 00:00:00\+00\.\.2024-03-01 00:00:00\+00, 2024-03-01 00:00:00\+00\.\.2024-04-01 00:00:00\+00\), 1 new partition\(s\)/);
    const first = await run("orders_m");
    expect(first.status, first.tables[0].error).toBe("succeeded");
    expect(first.tables[0].outcome?.partitionsCreated).toEqual(["2024-03-01 00:00:00+00..2024-04-01 00:00:00+00"]);
    expect(await fingerprint(env.target, "orders_m")).toEqual(await fingerprint(env.source, "orders_m"));
    expect((await partitions(env, "orders_m")).map((p) => p.bound)).toEqual([
      "FOR VALUES FROM ('2024-01-01 01:00:00+01') TO ('2024-02-01 01:00:00+01')",
      "FOR VALUES FROM ('2024-02-01 01:00:00+01') TO ('2024-03-01 01:00:00+01')",
      "FOR VALUES FROM ('2024-03-01 01:00:00+01') TO ('2024-04-01 02:00:00+02')",
    ]);
    // Day 2: a late change inside March and one inside January (outside the 2-day buffer: kept as it was).
    await env.source.query("UPDATE orders_m SET amount = -1 WHERE placed >= '2024-03-27' OR id = 5");
    const second = await run("orders_m");
    expect(second.tables[0].outcome?.partitionsSwitched).toEqual(["2024-03-01 00:00:00+00..2024-04-01 00:00:00+00"]);
    expect(second.tables[0].outcome?.rowsWritten).toBe(Number((await env.source.query("SELECT count(*) AS n FROM orders_m WHERE placed >= '2024-03-01'")).rows[0].n));
    const jan = await env.target.query("SELECT amount FROM orders_m WHERE id = 5");
    expect(jan.rows[0].amount).toBe("5.00");
  });

  it("monthly partitions on date and YYYYMMDD keys, and a weekly layout whose missing partitions keep its width", async () => {
    await env.source.query(`CREATE TABLE md (d date NOT NULL, k int NOT NULL, PRIMARY KEY (d, k)); INSERT INTO md SELECT date '2025-01-01' + g / 10, g FROM generate_series(0, 700) g;
      CREATE TABLE mi (d int NOT NULL, k int NOT NULL, PRIMARY KEY (d, k)); INSERT INTO mi SELECT to_char(date '2025-01-01' + g / 10, 'YYYYMMDD')::int, g FROM generate_series(0, 700) g;
      CREATE TABLE wk (d date NOT NULL, k int NOT NULL, PRIMARY KEY (d, k)); INSERT INTO wk SELECT date '2025-01-06' + g / 10, g FROM generate_series(0, 300) g`);
    await env.target.query(`CREATE TABLE md (d date NOT NULL, k int NOT NULL, PRIMARY KEY (d, k)) PARTITION BY RANGE (d);
      CREATE TABLE md_2025_01 PARTITION OF md FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
      CREATE TABLE mi (d int NOT NULL, k int NOT NULL, PRIMARY KEY (d, k)) PARTITION BY RANGE (d);
      CREATE TABLE mi_2025_01 PARTITION OF mi FOR VALUES FROM (20250101) TO (20250201);
      CREATE TABLE wk (d date NOT NULL, k int NOT NULL, PRIMARY KEY (d, k)) PARTITION BY RANGE (d);
      CREATE TABLE wk_w1 PARTITION OF wk FOR VALUES FROM ('2025-01-06') TO ('2025-01-13')`);
    await env.config(["md", "mi", "wk"].map((name) => ({ name, strategy: "staging_partition_switch" as const })));
    for (const t of ["md", "mi", "wk"]) {
      const r = await run(t);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(await fingerprint(env.target, t)).toEqual(await fingerprint(env.source, t));
    }
    expect((await partitions(env, "md")).map((p) => p.bound)).toEqual([
      "FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')",
      "FOR VALUES FROM ('2025-02-01') TO ('2025-03-01')",
      "FOR VALUES FROM ('2025-03-01') TO ('2025-04-01')",
    ]);
    // New months are named as UAT names its partitions (after their dates); a layout whose names hold no date (wk_w1)
    // gets the table's name and the start date.
    expect((await partitions(env, "mi")).map((p) => p.name)).toEqual(["mi_2025_01", "mi_2025_02", "mi_2025_03"]);
    expect((await partitions(env, "md")).map((p) => p.name)).toEqual(["md_2025_01", "md_2025_02", "md_2025_03"]);
    expect((await partitions(env, "wk")).map((p) => p.name).sort()).toEqual(["wk_p20250113", "wk_p20250120", "wk_p20250127", "wk_p20250203", "wk_w1"]);
    expect((await partitions(env, "wk")).map((p) => p.bound).sort()).toEqual([
      "FOR VALUES FROM ('2025-01-06') TO ('2025-01-13')",
      "FOR VALUES FROM ('2025-01-13') TO ('2025-01-20')",
      "FOR VALUES FROM ('2025-01-20') TO ('2025-01-27')",
      "FOR VALUES FROM ('2025-01-27') TO ('2025-02-03')",
      "FOR VALUES FROM ('2025-02-03') TO ('2025-02-10')",
    ]);
  });

  it("a day that cannot be placed is refused with the reason, in the dry run too, before anything is created", async () => {
    await env.source.query("CREATE TABLE bad (d date NOT NULL, k int NOT NULL); INSERT INTO bad VALUES ('2025-01-10', 1), ('2025-03-05', 2), ('2025-07-01', 3)");
    // Mostly monthly, but one day of March has its own partition: the new partition for March 5 (the latest
    // partition's width, 30 days back from April 1) would overlap it. July is in an open-ended range.
    await env.target.query(`CREATE TABLE bad (d date NOT NULL, k int NOT NULL) PARTITION BY RANGE (d);
      CREATE TABLE bad_2025_01 PARTITION OF bad FOR VALUES FROM ('2025-01-01') TO ('2025-02-01');
      CREATE TABLE bad_2025_03_20 PARTITION OF bad FOR VALUES FROM ('2025-03-20') TO ('2025-03-21');
      CREATE TABLE bad_2025_04 PARTITION OF bad FOR VALUES FROM ('2025-04-01') TO ('2025-05-01');
      CREATE TABLE bad_rest PARTITION OF bad FOR VALUES FROM ('2025-06-01') TO (MAXVALUE)`);
    await env.config([{ name: "bad", strategy: "staging_partition_switch" }]);
    const before = await partitions(env, "bad");
    for (const dryRun of [true, false]) {
      const r = await run("bad", dryRun);
      expect(r.status).toBe("failed");
      expect(r.tables[0].error).toBe("day 20250305: a new partition [2025-03-02, 2025-04-01) for it would overlap partition bad_2025_03_20 [2025-03-20, 2025-03-21)");
    }
    expect(await partitions(env, "bad")).toEqual(before);
    await env.source.query("DELETE FROM bad WHERE d = '2025-03-05'");
    const r = await run("bad");
    expect(r.tables[0].error).toBe("day 20250701: falls in partition bad_rest [2025-06-01, MAXVALUE), an open-ended range PostgreSQL cannot split: add a partition for it");
    expect(await partitions(env, "bad")).toEqual(before);
  });
});

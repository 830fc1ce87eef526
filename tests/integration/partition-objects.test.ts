// A switched partition keeps what UAT's partition had of its own, on real PostgreSQL: a payment table partitioned by
// month whose keys (primary key, foreign key to customer) are declared on each partition, as a public sample schema
// does, and on one partition what a DBA added in UAT between refreshes: an index, a grant, a trigger, a comment,
// a storage parameter, extended statistics, a column's comment and statistics target, an owner, row-level security
// with a policy. The catalog of every table and partition is the
// same before and after day 1 and day 2; the foreign keys declared on partitions count as payment's (no table
// outside the configuration is named); the rows equal production's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { catalog } from "../support/catalog";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

const MONTHS = ["2025_01", "2025_02", "2025_03"];
const SCHEMA = `
CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE payment (id int NOT NULL, customer_id int NOT NULL, amount numeric(10, 2) NOT NULL, paid_at timestamptz NOT NULL) PARTITION BY RANGE (paid_at);
${MONTHS.map((m, i) => `
CREATE TABLE payment_p${m} PARTITION OF payment FOR VALUES FROM ('2025-0${i + 1}-01 00:00+00') TO ('2025-0${i + 2}-01 00:00+00');
ALTER TABLE payment_p${m} ADD PRIMARY KEY (id);
ALTER TABLE payment_p${m} ADD CONSTRAINT payment_p${m}_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customer (id);
CREATE INDEX payment_p${m}_customer_id_idx ON payment_p${m} (customer_id);`).join("\n")}`;

const DAY1 = `
INSERT INTO customer SELECT g, 'customer ' || g FROM generate_series(1, 200) g;
INSERT INTO payment SELECT g, 1 + g % 200, (g % 500) + 0.5, timestamptz '2025-01-01 00:00+00' + g * interval '30 minutes' FROM generate_series(1, 4000) g;`;

const DAY2 = `
INSERT INTO customer VALUES (201, 'customer 201');
UPDATE payment SET amount = amount + 1 WHERE paid_at >= '2025-02-10' AND paid_at < '2025-02-11';
INSERT INTO payment VALUES (4001, 201, 99.5, '2025-02-27 12:00+00');`;

/** What a DBA gave one UAT partition between refreshes. */
const UAT_ADDITIONS = `
DO $$ BEGIN CREATE ROLE uat_app; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE uat_owner; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT SELECT ON payment_p2025_02 TO uat_app;
GRANT UPDATE (amount) ON payment_p2025_02 TO uat_app;
CREATE INDEX uat_big_amounts ON payment_p2025_02 (amount) WHERE amount > 400;
CREATE FUNCTION uat_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER uat_touch BEFORE UPDATE ON payment_p2025_02 FOR EACH ROW EXECUTE FUNCTION uat_touch();
ALTER TABLE payment_p2025_02 DISABLE TRIGGER uat_touch;
COMMENT ON TABLE payment_p2025_02 IS 'February, kept for the billing testers';
ALTER TABLE payment_p2025_02 SET (fillfactor = 80);
ALTER TABLE payment_p2025_02 ADD CONSTRAINT uat_positive CHECK (amount > 0);
ALTER TABLE payment_p2025_02 ENABLE ROW LEVEL SECURITY;
CREATE POLICY uat_app_reads ON payment_p2025_02 FOR SELECT TO uat_app USING (amount < 1000);
COMMENT ON COLUMN payment_p2025_02.amount IS 'in euros; the testers check rounding here';
ALTER TABLE payment_p2025_02 ALTER COLUMN customer_id SET STATISTICS 500;
ALTER TABLE payment_p2025_02 OWNER TO uat_owner;
GRANT CREATE ON SCHEMA public TO uat_owner;
SET ROLE uat_owner;
CREATE STATISTICS uat_amount_customer (dependencies) ON amount, customer_id FROM payment_p2025_02;
RESET ROLE;`;

describe("partitions keep what UAT gave them (PostgreSQL)", () => {
  let env: TestEnv;
  const run = async () => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(r.tables.map((t) => [t.table, t.status, t.error ?? ""])).toEqual([["customer", "succeeded", ""], ["payment", "succeeded", ""]]);
    return r;
  };

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query(SCHEMA);
    await env.source.query(DAY1);
    await env.config([
      { name: "customer", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "payment", strategy: "staging_partition_switch" },
    ]);
  });
  afterAll(() => env?.close());

  it("day 1: every partition switched in carries the keys, foreign keys and indexes declared on it; no table outside the configuration is named", async () => {
    const before = await catalog(env.target);
    const r = await run();
    const payment = r.tables.find((t) => t.table === "payment")!;
    expect(payment.plan?.reason).toMatch(/refreshed as one group: customer \(merged\) -> payment/);
    expect(payment.outcome?.partitionsSwitched).toHaveLength(3);
    expect(await catalog(env.target)).toEqual(before);
    expect(await fingerprint(env.target, "payment")).toEqual(await fingerprint(env.source, "payment"));
    const fks = await env.target.query("SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND convalidated AND conrelid::regclass::text LIKE 'payment_p%'");
    expect(fks.rows[0].n).toBe(3);
  });

  it("day 2, after a DBA gave February an index, grants, a trigger, comments, a storage parameter, extended statistics and a column's statistics target, an owner and row-level security: all of it survives the switch", async () => {
    await env.target.query(UAT_ADDITIONS);
    await env.source.query(DAY2);
    const before = await catalog(env.target);
    const r = await run();
    expect(r.tables.find((t) => t.table === "payment")!.outcome?.partitionsSwitched).toContain("2025-02-01 00:00:00+00..2025-03-01 00:00:00+00");
    expect(await catalog(env.target)).toEqual(before);
    expect(await fingerprint(env.target, "payment")).toEqual(await fingerprint(env.source, "payment"));
    const feb = before.find((t) => t.name === "payment_p2025_02")!;
    expect(feb).toMatchObject({ owner: "uat_owner", options: "{fillfactor=80}", rls: true, comment: "February, kept for the billing testers" });
    expect(JSON.stringify(feb.indexes)).toContain("uat_big_amounts");
    expect(feb.acl).toContain("uat_app=r/");
    expect(feb.statistics).toEqual([["uat_amount_customer", "CREATE STATISTICS public.uat_amount_customer (dependencies) ON customer_id, amount FROM payment_p2025_02", "uat_owner"]]);
    expect(feb.column_settings).toEqual([["amount", "in euros; the testers check rounding here", null], ["customer_id", null, 500]]);
  });

  it("day 3, after a DBA's CREATE UNIQUE INDEX CONCURRENTLY on March failed on its duplicates: the invalid index is not built again on the partition switched in (pg_dump leaves it out too), the plan says so, and the rest survives", async () => {
    // Production's March repeats amounts, so a unique index on them fails its build and stays behind, invalid.
    await expect(env.target.query("CREATE UNIQUE INDEX CONCURRENTLY uat_unique_amount ON payment_p2025_03 (amount)")).rejects.toThrow(/could not create unique index/);
    await env.source.query("UPDATE payment SET amount = amount + 1 WHERE paid_at >= '2025-03-05' AND paid_at < '2025-03-06'");
    // Everything as it was, but for the invalid index.
    const before = (await catalog(env.target)).map((t) => (t.name === "payment_p2025_03" ? { ...t, indexes: (t.indexes as [string, string][]).filter(([name]) => name !== "uat_unique_amount") } : t));
    const r = await run();
    const payment = r.tables.find((t) => t.table === "payment")!;
    expect(payment.outcome?.partitionsSwitched).toContain("2025-03-01 00:00:00+00..2025-04-01 00:00:00+00");
    expect(payment.plan?.reason).toContain("UAT's index uat_unique_amount of payment_p2025_03 is invalid (a CREATE INDEX CONCURRENTLY that failed): not built again on the partition switched in, as pg_dump leaves it out; build it again there once it can be");
    expect(await catalog(env.target)).toEqual(before);
    expect(await fingerprint(env.target, "payment")).toEqual(await fingerprint(env.source, "payment"));
  });
});

// A UAT people use between refreshes, on real PostgreSQL: production commits transactions out of id order (two real
// sessions), testers add rows with default ids, by hand-picked ids and future dates, and keep rows by rule. No
// production row is ever skipped, no UAT row moves a watermark or takes an id production will use, and a run whose
// rows did not all land never says "succeeded".
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

const INVOICES = `CREATE TABLE invoice (
  id serial PRIMARY KEY,
  customer text NOT NULL,
  total numeric(12,2) NOT NULL,
  issued date NOT NULL
)`;

describe("a lived-in UAT (PostgreSQL)", () => {
  let env: TestEnv;
  const run = async (tables: string[], dryRun = false) => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables, dryRun });
    return { ...r, t: r.tables[0] };
  };
  /** Production committing out of id order: session A runs `insert` (RETURNING id) in a transaction it holds open
   *  while `meanwhile` runs on other sessions, then commits. Resolves to the id session A took. */
  const heldInsert = async (insert: string, meanwhile: () => Promise<void>) => {
    const a = new pg.Client({ connectionString: env.sourceUrl });
    await a.connect();
    try {
      await a.query("BEGIN");
      const id = (await a.query(insert)).rows[0].id as number;
      await meanwhile();
      await a.query("COMMIT");
      return id;
    } finally {
      await a.end();
    }
  };
  /** Day 1 of a table production numbers by identity (10 rows, serial id, a note), copied with identity_buffer 5. */
  const identityDayOne = async (table: string) => {
    for (const c of [env.source, env.target]) await c.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, note text NOT NULL)`);
    await env.source.query(`INSERT INTO ${table} (note) SELECT '${table[0]}' || g FROM generate_series(1, 10) g`);
    await env.config([{ name: table, sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", identity_buffer: 5 }]);
    expect((await run([table])).status).toBe("succeeded");
  };
  /** Day 1 of a refresh group appended by identity: `parent` with ids 1..parents, `child` with ids 1..items, each item
   *  referencing parent 1 + id % parents; both copied. */
  const identityGroupDayOne = async (parent: string, child: string, rows: { parents: number; items: number; buffer: number }) => {
    for (const c of [env.source, env.target]) await c.query(`CREATE TABLE ${parent} (id int PRIMARY KEY); CREATE TABLE ${child} (id int PRIMARY KEY, ${parent}_id int NOT NULL REFERENCES ${parent} (id))`);
    await env.source.query(`INSERT INTO ${parent} SELECT g FROM generate_series(1, ${rows.parents}) g; INSERT INTO ${child} SELECT g, 1 + g % ${rows.parents} FROM generate_series(1, ${rows.items}) g`);
    const identity = { sync_mode: "incremental" as const, incremental_column: "id", incremental_type: "identity" as const, identity_buffer: rows.buffer };
    await env.config([{ name: parent, ...identity }, { name: child, ...identity }]);
    expect((await run([parent, child])).status).toBe("succeeded");
  };
  const ids = async (c: pg.Client, table: string) => (await c.query(`SELECT t.id::text AS id FROM ${table} t ORDER BY t.id`)).rows.map((r) => r.id as string);

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query(INVOICES);
    await env.source.query("INSERT INTO invoice (customer, total, issued) SELECT 'c' || g, g, date '2025-01-01' + g FROM generate_series(1, 10) g");
  });
  afterAll(() => env?.close());

  it("identity mode: a row production commits after a higher id arrives on the next run (two real sessions)", async () => {
    await env.config([{ name: "invoice", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" }]);
    expect((await run(["invoice"])).status).toBe("succeeded");
    // Session A takes id 11 and holds its transaction open; session B takes 12 and commits first.
    const slow = await heldInsert("INSERT INTO invoice (customer, total, issued) VALUES ('slow', 1, '2025-02-01') RETURNING id", async () => {
      expect((await env.source.query("INSERT INTO invoice (customer, total, issued) VALUES ('fast', 2, '2025-02-01') RETURNING id")).rows[0].id).toBe(12);
      const first = await run(["invoice"]);
      expect(first.status, first.t.error).toBe("succeeded");
      expect(await ids(env.target, "invoice")).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12"]);
    });
    expect(slow).toBe(11);
    const second = await run(["invoice"]);
    expect(second.status, second.t.error).toBe("succeeded");
    expect(second.t.plan?.reason).toMatch(/re-reading ids above -9988 \(identity_buffer 10000 below the watermark 12\) and loading them by key/);
    expect(await fingerprint(env.target, "invoice")).toEqual(await fingerprint(env.source, "invoice"));
  });

  it("UAT's own rows take ids production never uses, never move the watermark, and stay", async () => {
    // The refresh left the sequence at UAT's range: a tester's row takes 2,000,000,000 and up, not production's next.
    const tester = await env.target.query("INSERT INTO invoice (customer, total, issued) VALUES ('tester', 9, '2030-01-01') RETURNING id");
    expect(tester.rows[0].id).toBe(2000000000);
    await env.source.query("INSERT INTO invoice (customer, total, issued) SELECT 'p' || g, g, date '2025-03-01' FROM generate_series(1, 3) g"); // 13..15
    const r = await run(["invoice"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.plan?.watermarkBefore).toBe("12"); // the tester's row (id 2e9) is not production's
    expect(r.t.plan?.reason).toContain("UAT's own rows: 1 in UAT's id range left as they are");
    expect(r.t.outcome?.watermarkAfter).toBe("15");
    const uat = await env.target.query("SELECT id, customer FROM invoice WHERE id > 12 ORDER BY id");
    expect(uat.rows).toEqual([
      { id: 13, customer: "p1" },
      { id: 14, customer: "p2" },
      { id: 15, customer: "p3" },
      { id: 2000000000, customer: "tester" },
    ]);
    expect((await env.target.query("INSERT INTO invoice (customer, total, issued) VALUES ('tester2', 1, '2025-01-01') RETURNING id")).rows[0].id).toBe(2000000001);
    await env.target.query("DELETE FROM invoice WHERE customer LIKE 'tester%'");
  });

  it("a row a tester numbers by hand (max + 1) never hides production's row of that id: production's arrives", async () => {
    await env.target.query("INSERT INTO invoice (id, customer, total, issued) VALUES (16, 'hand-numbered', 5, '2025-03-02')");
    // the watermark never goes beyond production's own max (15 here)
    const dry = await run(["invoice"], true);
    expect(dry.t.plan?.watermarkBefore).toBe("15");
    expect(dry.t.plan?.reason).toMatch(/UAT has rows beyond production's max \(15\)/);
    await env.source.query("INSERT INTO invoice (customer, total, issued) VALUES ('production-16', 16, '2025-03-02'), ('production-17', 17, '2025-03-02')");
    const r = await run(["invoice"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect((await env.target.query("SELECT customer FROM invoice WHERE id = 16")).rows).toEqual([{ customer: "production-16" }]);
    expect(await fingerprint(env.target, "invoice")).toEqual(await fingerprint(env.source, "invoice"));
  });

  it("date mode: a future-dated UAT row neither moves the window nor is deleted by it", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE visit (id int PRIMARY KEY, at date NOT NULL, who text)");
    await env.source.query("INSERT INTO visit SELECT g, date '2025-01-01' + g, 'p' FROM generate_series(1, 30) g");
    await env.config([{ name: "visit", sync_mode: "incremental", incremental_column: "at", incremental_type: "date", date_buffer_days: 2, keep_rows: "who = 'tester'" }]);
    expect((await run(["visit"])).status).toBe("succeeded");
    await env.target.query("INSERT INTO visit VALUES (1000, date '2031-01-01', 'tester')");
    await env.source.query("INSERT INTO visit SELECT g, date '2025-01-01' + g, 'p' FROM generate_series(31, 33) g");
    const r = await run(["visit"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.plan?.watermarkBefore).toBe("2025-01-31");
    const { rows } = await env.target.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE who = 'tester')::int AS tester FROM visit");
    expect(rows[0]).toEqual({ n: 34, tester: 1 });
  });

  it("datetime mode on a last-changed column: a production row updated since the last refresh arrives updated, by key", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE account (id int PRIMARY KEY, balance int NOT NULL, changed timestamptz NOT NULL)");
    await env.source.query("INSERT INTO account SELECT g, 100, timestamptz '2025-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 10) g");
    await env.config([{ name: "account", sync_mode: "incremental", incremental_column: "changed", incremental_type: "datetime", date_buffer_days: 1 }]);
    expect((await run(["account"])).status).toBe("succeeded");
    // Account 2 (last changed on the 3rd, far outside the window) is updated; account 10 (inside it) is deleted.
    await env.source.query("UPDATE account SET balance = 50, changed = '2025-01-12 00:00+00' WHERE id = 2; DELETE FROM account WHERE id = 10");
    const r = await run(["account"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(await fingerprint(env.target, "account")).toEqual(await fingerprint(env.source, "account"));
    expect(r.t.outcome?.verification?.ok).toBe(true);
  });

  it("a child refreshed in its parent's group by a last-changed column: production's update arrives by key, a tester's change stays", async () => {
    for (const c of [env.source, env.target])
      await c.query(`CREATE TABLE project (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE task (id int PRIMARY KEY, project_id int NOT NULL REFERENCES project (id), done boolean NOT NULL, changed timestamptz NOT NULL)`);
    await env.source.query(`INSERT INTO project VALUES (1, 'one'), (2, 'two');
      INSERT INTO task SELECT g, 1 + g % 2, false, timestamptz '2025-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 10) g`);
    await env.config([
      { name: "project", sync_mode: "full_replace" },
      { name: "task", sync_mode: "incremental", incremental_column: "changed", incremental_type: "datetime", date_buffer_days: 1 },
    ]);
    expect((await run(["project", "task"])).status).toBe("succeeded");
    await env.source.query("UPDATE task SET done = true, changed = '2025-01-13 00:00+00' WHERE id = 2");
    await env.target.query("UPDATE task SET done = true, changed = '2025-01-12 00:00+00' WHERE id = 4");
    // Production also commits a task stamped a week before its window (lib/engine/late-rows): it arrives too.
    await env.source.query("INSERT INTO task VALUES (11, 1, false, '2025-01-05 12:00+00')");
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["project", "task"] });
    expect(r.status, r.tables.map((t) => t.error ?? "").join()).toBe("succeeded");
    const { rows } = await env.target.query("SELECT id, done FROM task WHERE done ORDER BY id");
    expect(rows).toEqual([{ id: 2, done: true }, { id: 4, done: true }]);
    expect((await env.target.query("SELECT id FROM task WHERE id = 11")).rows).toEqual([{ id: 11 }]);
    expect(r.tables.find((t) => t.table === "task")!.outcome?.verification?.ok).toBe(true);
  });

  it("a merged parent's date window leaves a tester's row in UAT's id range, as the plan says", async () => {
    for (const c of [env.source, env.target])
      await c.query(`CREATE TABLE batch (id serial PRIMARY KEY, label text NOT NULL, created date NOT NULL);
        CREATE TABLE batch_item (id int PRIMARY KEY, batch_id int NOT NULL REFERENCES batch (id))`);
    await env.source.query("INSERT INTO batch (label, created) SELECT 'b' || g, date '2025-01-01' + g FROM generate_series(1, 5) g; INSERT INTO batch_item SELECT g, 1 + g % 5 FROM generate_series(1, 10) g");
    await env.config([
      { name: "batch", sync_mode: "incremental", incremental_column: "created", incremental_type: "date", date_buffer_days: 2 },
      { name: "batch_item", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" },
    ]);
    expect((await run(["batch", "batch_item"])).status).toBe("succeeded");
    // A tester's batch dated inside the window production's next run re-syncs, with an id of UAT's range.
    expect((await env.target.query("INSERT INTO batch (label, created) VALUES ('tester', '2025-01-05') RETURNING id")).rows[0].id).toBe(2000000000);
    await env.source.query("INSERT INTO batch (label, created) VALUES ('b6', '2025-01-07')");
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["batch", "batch_item"] });
    expect(r.status, r.tables.map((t) => t.error ?? "").join()).toBe("succeeded");
    const batch = r.tables.find((t) => t.table === "batch")!;
    expect(batch.plan?.reason).toContain("1 in UAT's id range left as they are");
    expect(batch.plan?.reason).toContain("(merged)");
    expect((await env.target.query("SELECT id, label FROM batch WHERE id > 5 ORDER BY id")).rows).toEqual([{ id: 6, label: "b6" }, { id: 2000000000, label: "tester" }]);
  });

  it("identity mode: a row production commits later than identity_buffer ids behind arrives too (the plan looks below the buffer)", async () => {
    await identityDayOne("receipt");
    // Session A takes id 11 and holds it while production commits 30 more rows (12 to 41): six buffers further on.
    const slow = await heldInsert("INSERT INTO receipt (note) VALUES ('slow') RETURNING id", async () => {
      await env.source.query("INSERT INTO receipt (note) SELECT 'fast' FROM generate_series(1, 30)");
      const first = await run(["receipt"]);
      expect(first.status, first.t.error).toBe("succeeded");
    });
    expect(slow).toBe(11);
    // The buffer re-reads ids above 36; receipt 11 lies in the band (6, 11], where production has a row UAT lacks.
    const dry = await run(["receipt"], true);
    expect(dry.t.plan?.reason).toContain("re-reading ids above 6 (identity_buffer 5 below the watermark 41; widened below the buffer: production has 1 row(s) there that UAT lacks (committed after higher ids, or deleted in UAT)) and loading them by key");
    const second = await run(["receipt"]);
    expect(second.status, second.t.error).toBe("succeeded");
    expect(await fingerprint(env.target, "receipt")).toEqual(await fingerprint(env.source, "receipt"));
    // In step again: the next plan re-reads the buffer only.
    expect((await run(["receipt"], true)).t.plan?.reason).toContain("re-reading ids above 36 (identity_buffer 5 below the watermark 41) and loading them by key");
  });

  it("identity mode: a row production commits thirty buffers late arrives too: the ids the floor passed while UAT lacked them are asked again", async () => {
    await identityDayOne("coupon");
    // Session A takes id 11 and holds it while production commits 150 more rows (12 to 161), and two refreshes run:
    // the second's floor (156) passes 11, far below the bands it compares (116 to 156).
    const slow = await heldInsert("INSERT INTO coupon (note) VALUES ('slow') RETURNING id", async () => {
      await env.source.query("INSERT INTO coupon (note) SELECT 'fast' FROM generate_series(1, 150)");
      for (let i = 0; i < 2; i++) expect((await run(["coupon"])).status).toBe("succeeded");
    });
    expect(slow).toBe(11);
    const dry = await run(["coupon"], true);
    expect(dry.t.plan?.reason).toContain("re-reading ids above 156 (identity_buffer 5 below the watermark 161) and loading them by key; asking again for 1 id range(s) below that UAT lacked when earlier refreshes passed them (11; each for 7 days)");
    expect(dry.t.plan?.rowsExpected).toBe(6);
    const late = await run(["coupon"]);
    expect(late.status, late.t.error).toBe("succeeded");
    expect(late.t.outcome?.verification?.detail).toMatch(/^verified: 6 row\(s\)/);
    expect(await fingerprint(env.target, "coupon")).toEqual(await fingerprint(env.source, "coupon"));
    // The gap is filled: the next plan asks for it no more.
    expect((await run(["coupon"], true)).t.plan?.reason).not.toContain("asking again");
    // Only the last run's watch is kept (each run recorded one).
    expect(await env.db.tableResult.count({ where: { tableName: "coupon", idGaps: { not: null } } })).toBe(1);
  });

  it("identity mode: a late row hidden behind a row production deleted in the same band (equal counts) arrives too", async () => {
    await identityDayOne("voucher");
    // Session A takes id 11 and holds it; production commits 30 more rows and purges voucher 9 meanwhile. Identity
    // mode never deletes, so UAT keeps 9: the band (6, 11] then holds 4 rows on each side (7, 8, 10, 11 against
    // 7, 8, 9, 10) once 11 commits, and only the sums of their ids differ.
    const slow = await heldInsert("INSERT INTO voucher (note) VALUES ('slow') RETURNING id", async () => {
      await env.source.query("INSERT INTO voucher (note) SELECT 'fast' FROM generate_series(1, 30)");
      const first = await run(["voucher"]);
      expect(first.status, first.t.error).toBe("succeeded");
      await env.source.query("DELETE FROM voucher WHERE id = 9");
    });
    expect(slow).toBe(11);
    const dry = await run(["voucher"], true);
    expect(dry.t.plan?.reason).toContain("re-reading ids above 6 (identity_buffer 5 below the watermark 41; widened below the buffer: production has at least 1 row(s) there that UAT lacks");
    // The late row arrives; the purged row UAT keeps is left out of the verification, and said.
    const second = await run(["voucher"]);
    expect(second.status, second.t.error).toBe("succeeded");
    expect(second.t.outcome?.verification?.detail).toContain("1 row(s) UAT holds under production's ids that production does not (deleted there since they were copied; identity mode never deletes) left out");
    expect((await env.target.query("SELECT note FROM voucher WHERE id = 11")).rows).toEqual([{ note: "slow" }]);
    // Production's rows all there; UAT's extra is the row production purged (identity mode never deletes).
    expect(await fingerprint(env.target, "voucher", { where: "id <> 9" })).toEqual(await fingerprint(env.source, "voucher"));
    expect((await run(["voucher"], true)).t.plan?.reason).toContain("re-reading ids above 36 (identity_buffer 5 below the watermark 41) and loading them by key");
  });

  it("identity mode: a row production deletes inside the buffer stays in UAT, and the run verifies production's rows, saying what it left out", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE parcel (id int PRIMARY KEY, note text NOT NULL)");
    await env.source.query("INSERT INTO parcel SELECT g, 'p' || g FROM generate_series(1, 30) g");
    await env.config([{ name: "parcel", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", identity_buffer: 10, batch_size: 7 }]);
    expect((await run(["parcel"])).status).toBe("succeeded");
    // Production deletes parcel 25 (inside the re-read window, ids above 20) and changes 28.
    await env.source.query("DELETE FROM parcel WHERE id = 25; UPDATE parcel SET note = 'changed' WHERE id = 28; INSERT INTO parcel VALUES (31, 'p31')");
    const r = await run(["parcel"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification?.detail).toContain("verified: 10 row(s) in 2 committed batch(es), counts and checksums equal, 1 row(s) UAT holds under production's ids that production does not (deleted there since they were copied; identity mode never deletes) left out");
    // The plan said so before the run: the rows it would leave out, and that it would count them.
    expect(r.t.plan?.verifies).toBe("row counts and the values of 2 of 2 column(s), on both sides after the commit; left out, counted and said: rows UAT holds under production's ids that production does not (deleted there since they were copied; identity mode never deletes)");
    expect((await env.target.query("SELECT id, note FROM parcel WHERE id IN (25, 28, 31) ORDER BY id")).rows).toEqual([{ id: 25, note: "p25" }, { id: 28, note: "changed" }, { id: 31, note: "p31" }]);
    // A value UAT's copy lost would still fail: here the left-out row is UAT's own copy of a deleted one, nothing else.
    expect(await fingerprint(env.target, "parcel", { where: "id <> 25" })).toEqual(await fingerprint(env.source, "parcel"));
  });

  it("identity mode in a refresh group: a row production deletes inside an appended member's window stays, and the group verifies, saying so", async () => {
    await identityGroupDayOne("crate", "crate_item", { parents: 20, items: 30, buffer: 10 });
    await env.source.query("DELETE FROM crate_item WHERE id = 25; INSERT INTO crate_item VALUES (31, 3)");
    const r = await run(["crate", "crate_item"]);
    expect(r.status, r.tables.map((t) => t.error ?? "").join()).toBe("succeeded");
    const item = r.tables.find((t) => t.table === "crate_item")!;
    expect(item.outcome?.verification?.detail).toContain("1 row(s) UAT holds under production's ids that production does not (deleted there since they were copied; identity mode never deletes) left out");
    expect(await ids(env.target, "crate_item")).toEqual([...(await ids(env.source, "crate_item")), "25"].sort((a, b) => Number(a) - Number(b)));
  });

  it("identity mode in a refresh group: an appended member's row committed thirty buffers late arrives through the watched gaps", async () => {
    await identityGroupDayOne("shelf", "shelf_item", { parents: 5, items: 10, buffer: 5 });
    // Item 11 commits after 12..161 and two refreshes (inserted later here): the second's floor (156) passes it.
    await env.source.query("INSERT INTO shelf_item SELECT g, 1 + g % 5 FROM generate_series(12, 161) g");
    for (let i = 0; i < 2; i++) expect((await run(["shelf", "shelf_item"])).status).toBe("succeeded");
    await env.source.query("INSERT INTO shelf_item VALUES (11, 2)");
    const r = await run(["shelf", "shelf_item"]);
    expect(r.status, r.tables.map((t) => t.error ?? "").join()).toBe("succeeded");
    expect(await fingerprint(env.target, "shelf_item")).toEqual(await fingerprint(env.source, "shelf_item"));
    expect(r.tables.find((t) => t.table === "shelf_item")!.plan?.reason).toContain("asking again for 1 id range(s) below that UAT lacked when earlier refreshes passed them (11; each for 7 days)");
  });

  it("identity mode on a smallint key: the bands below the buffer stop at the type's smallest value", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE grade (id smallint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, label text NOT NULL)");
    await env.source.query("INSERT INTO grade (label) SELECT 'g' || g FROM generate_series(1, 20) g");
    // The default identity_buffer (10,000) and its 8 bands reach 90,000 below the max: past smallint's -32,768.
    await env.config([{ name: "grade", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" }]);
    expect((await run(["grade"])).status).toBe("succeeded");
    await env.target.query("DELETE FROM grade WHERE id = 3"); // a tester's delete: production has a row UAT lacks
    await env.source.query("INSERT INTO grade (label) VALUES ('g21')");
    const second = await run(["grade"]);
    expect(second.status, second.t.error).toBe("succeeded");
    expect(await fingerprint(env.target, "grade")).toEqual(await fingerprint(env.source, "grade"));
    // A buffer reaching below smallint's smallest value itself: every id is re-read.
    await env.config([{ name: "grade", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity", identity_buffer: 40_000 }]);
    await env.target.query("DELETE FROM grade WHERE id = 4");
    const third = await run(["grade"]);
    expect(third.status, third.t.error).toBe("succeeded");
    expect(third.t.plan?.reason).toContain("re-reading every id (identity_buffer 40000 below the watermark 21 reaches below the column type's smallest value)");
    expect(await fingerprint(env.target, "grade")).toEqual(await fingerprint(env.source, "grade"));
  });

  it("date mode into a UAT restored from production's backup (no refresh recorded where it left production's rows): the plan says what it cannot tell, once", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE claim (id int PRIMARY KEY, changed timestamptz NOT NULL)");
    await env.source.query("INSERT INTO claim SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 10) g");
    // The restore: UAT holds production's rows as they were, and no run of this product ever refreshed the table.
    await env.target.query("INSERT INTO claim SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 10) g");
    await env.config([{ name: "claim", sync_mode: "incremental", incremental_column: "changed", incremental_type: "datetime", date_buffer_days: 1 }]);
    const note = "no earlier refresh recorded where it left production's rows in changed (the first since an upgrade or a restore): a row UAT changed since, dated up to production's max (2025-01-11 00:00:00+00), is taken for production's and can move the window's start past rows production changed";
    expect((await run(["claim"], true)).t.plan?.reason).toContain(note);
    const first = await run(["claim"]);
    expect(first.status, first.t.error).toBe("succeeded");
    expect(first.t.plan?.reason).toContain(note);
    // The next plan starts from the watermark this refresh recorded, and says nothing of it.
    const next = await run(["claim"], true);
    expect(next.t.plan?.reason).not.toContain("no earlier refresh recorded");
    expect(next.t.plan?.watermarkBefore).toBe("2025-01-11 00:00:00+00");
  });

  it("date mode: production's rows UAT changed since the last refresh neither move the window nor leave it", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE ticket (id int PRIMARY KEY, status text NOT NULL, changed timestamptz NOT NULL)");
    await env.source.query("INSERT INTO ticket SELECT g, 'open', timestamptz '2025-01-01 00:00+00' + g * interval '1 day' FROM generate_series(1, 10) g");
    await env.config([{ name: "ticket", sync_mode: "incremental", incremental_column: "changed", incremental_type: "datetime", date_buffer_days: 1 }]);
    expect((await run(["ticket"])).status).toBe("succeeded");
    // Production closes ticket 5 on the 12th. In UAT a tester works on tickets 3 and 6 on the 15th (the application
    // stamps `changed`); production escalates ticket 6 on the 16th and opens ticket 11.
    await env.source.query("UPDATE ticket SET status = 'closed', changed = '2025-01-12 00:00+00' WHERE id = 5");
    await env.target.query("UPDATE ticket SET status = 'tested', changed = '2025-01-15 00:00+00' WHERE id IN (3, 6)");
    await env.source.query("UPDATE ticket SET status = 'escalated', changed = '2025-01-16 00:00+00' WHERE id = 6; INSERT INTO ticket VALUES (11, 'open', '2025-01-16 00:00+00')");
    const dry = await run(["ticket"], true);
    // The watermark is where the last refresh left production's rows (the 11th), not the tester's 15th: ticket 5's
    // change on the 12th is in the window.
    expect(dry.t.plan?.watermarkBefore).toBe("2025-01-11 00:00:00+00");
    expect(dry.t.plan?.reason).toContain("2 row(s) changed in UAT since the last refresh (changed beyond 2025-01-11 00:00:00+00, where it left production's rows): they never move the watermark, and stay as UAT has them unless production changed them too");
    const r = await run(["ticket"]);
    expect(r.status, r.t.error).toBe("succeeded");
    const { rows } = await env.target.query("SELECT id, status, changed::text FROM ticket WHERE id IN (3, 5, 6, 11) ORDER BY id");
    expect(rows).toEqual([
      { id: 3, status: "tested", changed: "2025-01-15 00:00:00+00" }, // UAT's change, kept: production did not touch it
      { id: 5, status: "closed", changed: "2025-01-12 00:00:00+00" }, // production's change, not skipped
      { id: 6, status: "escalated", changed: "2025-01-16 00:00:00+00" }, // changed on both sides: production's
      { id: 11, status: "open", changed: "2025-01-16 00:00:00+00" },
    ]);
    expect((await env.target.query("SELECT count(*)::int AS n FROM ticket")).rows[0].n).toBe(11);
    // Verified over production's rows of the window; the ticket UAT keeps is left out, as UAT's.
    expect([r.t.outcome?.verification?.ok, r.t.outcome?.verification?.detail]).toEqual([true, "verified: 5 row(s), counts and checksums equal (the copied window; 1 row(s) UAT changed since the last refresh left out)"]);
    expect(r.t.plan?.verifies).toMatch(/; left out, counted and said: production's rows UAT changed since the last refresh \(they stay as UAT has them\)$/);
    // The watermark recorded is production's (the 16th), never the tester's row.
    expect(r.t.outcome?.watermarkAfter).toBe("2025-01-16 00:00:00+00");
    await env.target.query("UPDATE ticket SET changed = '2025-02-01 00:00+00' WHERE id = 3");
    const next = await run(["ticket"], true);
    expect(next.t.plan?.watermarkBefore).toBe("2025-01-16 00:00:00+00");
  });

  it("date mode: a row UAT changed before the last refresh, still inside the next window's buffer, is not taken for one production deleted", async () => {
    // Ticket 3 as the last refresh left it (UAT's change of the 15th, kept): production's watermark is the 16th, the
    // next window starts on the 15th (a day's buffer), and production's ticket 3 is older, so it is not in the window.
    // Production deletes ticket 11 meanwhile, which the window must delete; ticket 3 production still has.
    await env.target.query("UPDATE ticket SET changed = '2025-01-15 00:00+00' WHERE id = 3");
    await env.source.query("DELETE FROM ticket WHERE id = 11");
    const r = await run(["ticket"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect((await env.target.query("SELECT id, status FROM ticket WHERE id IN (3, 6, 11) ORDER BY id")).rows).toEqual([
      { id: 3, status: "tested" },
      { id: 6, status: "escalated" },
    ]);
    expect((await env.target.query("SELECT count(*)::int AS n FROM ticket")).rows[0].n).toBe(10);
    expect([r.t.outcome?.verification?.ok, r.t.outcome?.verification?.detail]).toEqual([true, "verified: 1 row(s), counts and checksums equal (the copied window; 1 row(s) UAT changed since the last refresh left out)"]);
  });

  it("date mode: production purges thousands of the window's rows; UAT's earlier changes among them stay (keys asked a page at a time)", async () => {
    // Calls 1..4,500 stamped the 15th (inside the next window), 4,501..4,600 the 2nd (outside it), 4,601 the 16th.
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE call_log (id int PRIMARY KEY, note text NOT NULL, changed timestamptz NOT NULL)");
    await env.source.query(`INSERT INTO call_log SELECT g, 'p', CASE WHEN g <= 4500 THEN timestamptz '2025-01-15 00:00+00' WHEN g <= 4600 THEN '2025-01-02 00:00+00' ELSE '2025-01-16 00:00+00' END
      FROM generate_series(1, 4601) g`);
    await env.config([{ name: "call_log", sync_mode: "incremental", incremental_column: "changed", incremental_type: "datetime", date_buffer_days: 1 }]);
    expect((await run(["call_log"])).status).toBe("succeeded");
    // Three calls testers changed before that refresh (kept, stamped the 15th in UAT; production's are the 2nd), and
    // production purges 4,400 of the window's calls: 4,403 keys to ask, more than two pages of 2,000.
    await env.target.query("UPDATE call_log SET note = 'tester', changed = '2025-01-15 06:00+00' WHERE id IN (4510, 4550, 4590)");
    await env.source.query("DELETE FROM call_log WHERE id <= 4400");
    const r = await run(["call_log"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect((await env.target.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE note = 'tester')::int AS tester, min(id) AS first FROM call_log")).rows[0]).toEqual({ n: 201, tester: 3, first: 4401 });
    expect([r.t.outcome?.verification?.ok, r.t.outcome?.verification?.detail]).toEqual([true, "verified: 101 row(s), counts and checksums equal (the copied window; 3 row(s) UAT changed since the last refresh left out)"]);
  });

  it("date mode without a key: a row UAT changed stays, and the window is verified without it", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE reading (meter int NOT NULL, value int NOT NULL, at date NOT NULL)");
    await env.source.query("INSERT INTO reading SELECT g % 3, g, date '2025-01-01' + g FROM generate_series(1, 10) g");
    await env.config([{ name: "reading", sync_mode: "incremental", incremental_column: "at", incremental_type: "date", date_buffer_days: 0 }]);
    expect((await run(["reading"])).status).toBe("succeeded");
    await env.target.query("UPDATE reading SET value = -1, at = '2025-01-20' WHERE value = 2");
    await env.source.query("INSERT INTO reading VALUES (1, 11, '2025-01-12'), (2, 12, '2025-01-21')");
    const r = await run(["reading"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.plan?.watermarkBefore).toBe("2025-01-11");
    // The plan says what a window without a key cannot do.
    expect(r.t.plan?.reason).toContain("deleted and copied again: without a key a row production updated arrives beside its old version");
    expect((await env.target.query("SELECT value FROM reading ORDER BY value")).rows.map((x) => x.value)).toEqual([-1, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(r.t.outcome?.verification?.ok).toBe(true);
  });

  it("date mode: a unique index a DBA's CREATE INDEX CONCURRENTLY left invalid (on a tester's duplicate) is no key: the window is deleted and copied, and the plan says why", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE request (id int NOT NULL, at date NOT NULL, note text NOT NULL)");
    await env.source.query("CREATE UNIQUE INDEX request_id ON request (id)");
    await env.source.query("INSERT INTO request SELECT g, date '2025-02-01' + g, 'p' || g FROM generate_series(1, 20) g");
    await env.config([{ name: "request", sync_mode: "incremental", incremental_column: "at", incremental_type: "date", date_buffer_days: 3 }]);
    expect((await run(["request"])).status).toBe("succeeded");
    // A tester copies one of production's rows; a DBA's unique index, built concurrently, then fails on it and stays,
    // INVALID (PostgreSQL's CREATE INDEX CONCURRENTLY leaves it so): it names a key the rows do not keep.
    await env.target.query("INSERT INTO request VALUES (19, date '2025-02-20', 'tester copy')");
    await expect(env.target.query("CREATE UNIQUE INDEX CONCURRENTLY request_id ON request (id)")).rejects.toThrow(/could not create unique index/);
    expect((await env.target.query("SELECT indisvalid FROM pg_index WHERE indexrelid = 'request_id'::regclass")).rows).toEqual([{ indisvalid: false }]);
    await env.source.query("UPDATE request SET note = 'p19 changed' WHERE id = 19; INSERT INTO request VALUES (21, date '2025-02-22', 'p21')");
    const r = await run(["request"]);
    expect(r.t.plan?.reason).toContain("deleted and copied again: without a key (request_id is not valid: a key enforced by nothing may already hold duplicates)");
    expect(r.status, r.t.error).toBe("succeeded");
    expect(await fingerprint(env.target, "request")).toEqual(await fingerprint(env.source, "request"));
  });

  it("partition switch: a row a tester adds in UAT (today's, or future-dated) never moves the days re-synced past production's", async () => {
    await env.source.query("CREATE TABLE reading_log (id int NOT NULL, day int NOT NULL, v text, PRIMARY KEY (id, day))");
    await env.target.query(`CREATE TABLE reading_log (id int NOT NULL, day int NOT NULL, v text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
      CREATE TABLE reading_log_p20250101 PARTITION OF reading_log FOR VALUES FROM (20250101) TO (20250102)`);
    await env.source.query("INSERT INTO reading_log SELECT g, 20250100 + g, 'p' FROM generate_series(1, 10) g");
    await env.config([{ name: "reading_log", strategy: "staging_partition_switch", date_buffer_days: 1 }]);
    expect((await run(["reading_log"])).status).toBe("succeeded");
    // Production's days 11 to 14 come while refreshes pause; a tester adds a reading for day 28 in UAT (by hand, no
    // id range); production's day 20 is its newest.
    await env.target.query("CREATE TABLE reading_log_p20250128 PARTITION OF reading_log FOR VALUES FROM (20250128) TO (20250129); INSERT INTO reading_log VALUES (99, 20250128, 'tester')");
    await env.source.query("INSERT INTO reading_log SELECT g, 20250100 + g, 'p' FROM generate_series(11, 14) g; INSERT INTO reading_log VALUES (20, 20250120, 'p')");
    const r = await run(["reading_log"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.plan?.reason).toMatch(/^days from 20250109 \(target max 20250110 - 1 day buffer; UAT's rows beyond the last refresh's 20250110 never move it\)/);
    expect(r.t.outcome?.partitionsSwitched).toEqual(["20250109", "20250110", "20250111", "20250112", "20250113", "20250114", "20250120"]);
    expect((await env.target.query("SELECT count(*)::int AS n FROM reading_log WHERE v = 'p'")).rows[0].n).toBe(15);
    expect(r.t.outcome?.watermarkAfter).toBe("20250120");
  });

  it("refuses an identity column that is not unique, before anything is written, and says why", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE event_log (seq int NOT NULL, msg text)");
    await env.source.query("INSERT INTO event_log SELECT g / 2, 'm' || g FROM generate_series(1, 10) g");
    await env.config([{ name: "event_log", sync_mode: "incremental", incremental_column: "seq", incremental_type: "identity", batch_size: 3 }]);
    const r = await run(["event_log"]);
    expect(r.status).toBe("failed");
    expect(r.t.error).toBe("incremental_column seq of public.event_log is not unique (no primary key or unique index on it alone): rows that share a value across a batch boundary would be skipped");
    expect((await env.target.query("SELECT count(*)::int AS n FROM event_log")).rows[0].n).toBe(0);
  });

  it("full replace keeps the rows a keep rule names, and UAT's values of keep_columns on production's rows", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE app_setting (name text PRIMARY KEY, url text, owner text)");
    await env.source.query("INSERT INTO app_setting VALUES ('site', 'https://shop.example.com', 'prod'), ('api', 'https://api.example.com', 'prod')");
    await env.target.query("INSERT INTO app_setting VALUES ('site', 'https://uat.shop.example.com', 'uat'), ('old', 'x', 'uat'), ('tester-flag', 'on', 'tester')");
    await env.config([{ name: "app_setting", sync_mode: "full_replace", keep_rows: "owner = 'tester'", keep_columns: ["url"] }]);
    const r = await run(["app_setting"]);
    expect(r.status, r.t.error).toBe("succeeded");
    const { rows } = await env.target.query("SELECT name, url, owner FROM app_setting ORDER BY name");
    expect(rows).toEqual([
      { name: "api", url: "https://api.example.com", owner: "prod" },
      { name: "site", url: "https://uat.shop.example.com", owner: "prod" },
      { name: "tester-flag", url: "on", owner: "tester" },
    ]);
    // The plan (dry run, run page, CLI) says what happens to UAT's own rows.
    expect(r.t.plan?.reason).toContain("UAT's own rows: 1 kept by keep_rows");
  });

  it("in a refresh group too: a child's kept rows and a parent's kept values stay (both merged, not emptied)", async () => {
    for (const c of [env.source, env.target])
      await c.query(`CREATE TABLE service (id int PRIMARY KEY, name text NOT NULL, url text);
        CREATE TABLE service_check (id int PRIMARY KEY, service_id int NOT NULL REFERENCES service (id), owner text NOT NULL)`);
    await env.source.query("INSERT INTO service VALUES (1, 'api', 'https://api.example.com'), (2, 'web', 'https://www.example.com'); INSERT INTO service_check VALUES (1, 1, 'ops')");
    await env.target.query("INSERT INTO service VALUES (1, 'api', 'https://api.uat.example.com'); INSERT INTO service_check VALUES (1, 1, 'ops'), (100, 1, 'tester')");
    await env.config([
      { name: "service", sync_mode: "full_replace", keep_columns: ["url"] },
      { name: "service_check", sync_mode: "full_replace", keep_rows: "owner = 'tester'" },
    ]);
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["service", "service_check"] });
    expect(r.status, r.tables.map((t) => t.error ?? "").join()).toBe("succeeded");
    expect(r.tables.find((t) => t.table === "service_check")!.plan?.reason).toContain("refreshed as one group: service (merged) -> service_check (merged)");
    expect((await env.target.query("SELECT id, url FROM service ORDER BY id")).rows).toEqual([{ id: 1, url: "https://api.uat.example.com" }, { id: 2, url: "https://www.example.com" }]);
    expect((await env.target.query("SELECT id, owner FROM service_check ORDER BY id")).rows).toEqual([{ id: 1, owner: "ops" }, { id: 100, owner: "tester" }]);
    expect(r.tables.every((t) => t.outcome?.verification?.ok)).toBe(true);
  });

  it("in a refresh group, a keep rule on a child without a key: emptied but for its kept rows (as on its own), its parent merged", async () => {
    // Before, such a child was merged with the group and refused for want of a key to merge on.
    for (const c of [env.source, env.target]) await c.query("DROP TABLE service_check; CREATE TABLE service_note (service_id int NOT NULL REFERENCES service (id), owner text NOT NULL, note text NOT NULL)");
    await env.source.query("INSERT INTO service_note VALUES (1, 'ops', 'restarted'), (2, 'ops', 'deployed'), (2, 'ops', 'deployed')");
    await env.target.query("INSERT INTO service_note VALUES (1, 'ops', 'old'), (1, 'tester', 'flaky in UAT')");
    await env.config([
      { name: "service", sync_mode: "full_replace", keep_columns: ["url"] },
      { name: "service_note", sync_mode: "full_replace", keep_rows: "owner = 'tester'" },
    ]);
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["service", "service_note"] });
    expect(r.tables.map((t) => [t.table, t.status, t.error ?? ""])).toEqual([["service", "succeeded", ""], ["service_note", "succeeded", ""]]);
    expect(r.tables.find((t) => t.table === "service_note")!.plan?.reason).toContain("UAT's own rows: 1 kept by keep_rows, not checked against production's keys (the table has no key); refreshed as one group: service (merged) -> service_note (its kept rows stay)");
    const notes = (await env.target.query("SELECT service_id, owner, note FROM service_note ORDER BY owner, service_id, note")).rows;
    expect(notes).toEqual([
      { service_id: 1, owner: "ops", note: "restarted" },
      { service_id: 2, owner: "ops", note: "deployed" },
      { service_id: 2, owner: "ops", note: "deployed" },
      { service_id: 1, owner: "tester", note: "flaky in UAT" },
    ]);
    expect(r.tables.map((t) => t.outcome?.verification?.ok)).toEqual([true, true]);
    for (const c of [env.source, env.target]) await c.query("DROP TABLE service_note");
  });

  it("a keep rule naming a row production also has is refused by the dry run and the run, naming the table, key and rule", async () => {
    await env.target.query("UPDATE app_setting SET owner = 'uat' WHERE name = 'site'");
    await env.config([{ name: "app_setting", sync_mode: "full_replace", keep_rows: "owner IN ('tester', 'uat')" }]);
    const before = await fingerprint(env.target, "app_setting");
    for (const dryRun of [true, false]) {
      const r = await run(["app_setting"], dryRun);
      expect(r.status).toBe("failed");
      expect(r.t.error).toBe(
        "public.app_setting: keep_rows (owner IN ('tester', 'uat')) keeps a row whose key production also has (name = site): the refresh would overwrite it or fail on its key. Narrow the rule (e.g. to UAT's id range) or remove the row",
      );
    }
    expect(await fingerprint(env.target, "app_setting")).toEqual(before);
  });
});

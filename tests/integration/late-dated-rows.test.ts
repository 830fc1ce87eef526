// A date window re-reads date_buffer_days below the watermark: a row production commits after later-stamped ones (a
// long transaction whose rows carry its start time, a batch job loading yesterday) arrives only while it is that
// close. Below the window the plan compares production's rows with UAT's, day band by day band, and widens the
// window down to the lowest band where production has more: before, a row stamped before the window's start but
// committed after the last refresh was skipped for good, and the run said "succeeded".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { daysBefore } from "../../lib/engine/late-rows";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

describe("rows production commits late, stamped before the date window", () => {
  let env: TestEnv;
  const run = (tables: string[]) => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables });

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE events_keyed (id int PRIMARY KEY, at timestamp NOT NULL, note text)");
      await c.query("CREATE TABLE events_bare (id int NOT NULL, at timestamp NOT NULL, note text)");
    }
  });
  afterAll(() => env?.close());

  for (const table of ["events_keyed", "events_bare"]) {
    it(`${table}: a row stamped hours before the watermark and one days before arrive on the next refresh, the plan says why`, async () => {
      // Day 1: 20 days of rows, copied.
      await env.source.query(`INSERT INTO ${table} SELECT g, timestamp '2026-03-01' + g * interval '1 hour', 'e' || g FROM generate_series(1, 480) g`);
      await env.config([{ name: table, sync_mode: "smart_sync", incremental_column: "at", incremental_type: "datetime" }]);
      const first = await run([table]);
      expect(first.status, first.tables[0].error).toBe("succeeded");

      // Production then commits a row stamped 3 hours before the max, one stamped 5 days before, and a new one.
      await env.source.query(`INSERT INTO ${table} VALUES (1001, timestamp '2026-03-20 21:00', 'late by hours'), (1002, timestamp '2026-03-16 12:30', 'late by days'), (1003, timestamp '2026-03-21 01:00', 'new')`);
      const second = await run([table]);
      expect(second.status, second.tables[0].error).toBe("succeeded");
      expect(second.tables[0].plan?.reason).toContain("re-syncing from 2026-03-21 00:00:00 (0 day buffer below the watermark 2026-03-21 00:00:00)");
      expect(second.tables[0].plan?.reason).toContain("production has 2 more row(s) dated from 2026-03-16 00:00:00 up to the window than UAT has there");
      expect(second.tables[0].plan?.reason).toContain(table === "events_keyed" ? "the ones UAT lacks by key are inserted" : "the window reaches down to 2026-03-16 00:00:00");
      const { rows } = await env.target.query(`SELECT id, note FROM ${table} WHERE id > 1000 ORDER BY id`);
      expect(rows).toEqual([
        { id: 1001, note: "late by hours" },
        { id: 1002, note: "late by days" },
        { id: 1003, note: "new" },
      ]);
      expect(await fingerprint(env.target, table)).toEqual(await fingerprint(env.source, table));
      expect(second.tables[0].outcome?.verification?.ok).toBe(true);

      // Nothing late: the window is the buffer's again.
      const third = await run([table]);
      expect(third.tables[0].plan?.reason).not.toMatch(/widened/);
      expect(await fingerprint(env.target, table)).toEqual(await fingerprint(env.source, table));
    });
  }

  it("with a key, a tester's change to a production row below the window stays as UAT has it while a late row arrives; without one, the plan says the late row is not copied", async () => {
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE visits_keyed (id int PRIMARY KEY, changed timestamp NOT NULL, status text)");
      await c.query("CREATE TABLE visits_bare (id int NOT NULL, changed timestamp NOT NULL, status text)");
    }
    for (const table of ["visits_keyed", "visits_bare"]) {
      await env.source.query(`INSERT INTO ${table} SELECT g, timestamp '2026-05-01' + g * interval '1 hour', 'open' FROM generate_series(1, 240) g`);
      await env.config([{ name: table, sync_mode: "smart_sync", incremental_column: "changed", incremental_type: "datetime", date_buffer_days: 1 }]);
      expect((await run([table])).status).toBe("succeeded");
      // A tester closes visit 100 in UAT (stamped now); production commits a visit stamped five days back.
      await env.target.query(`UPDATE ${table} SET status = 'tested', changed = timestamp '2026-05-12' WHERE id = 100`);
      await env.source.query(`INSERT INTO ${table} VALUES (500, timestamp '2026-05-04 10:00', 'late')`);
      const r = await run([table]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      const rows = (await env.target.query(`SELECT id, status FROM ${table} WHERE id IN (100, 500) ORDER BY id`)).rows;
      if (table === "visits_keyed") {
        expect(rows).toEqual([{ id: 100, status: "tested" }, { id: 500, status: "late" }]);
        expect(r.tables[0].plan?.reason).toContain("production has 2 more row(s) dated from 2026-05-04 00:00:00");
        expect(r.tables[0].outcome?.verification?.ok).toBe(true);
      } else {
        // Production's visit 100 (stamped the 5th) is in UAT as the tester's row (the 12th): a keyless copy cannot
        // tell which of the two missing rows is the late one.
        expect(rows).toEqual([{ id: 100, status: "tested" }]);
        expect(r.tables[0].plan?.reason).toContain("not copied, since without a key they cannot be told from the 1 row(s) UAT changed");
      }
    }
  });

  it("with a numeric key, a late row in the same day band as a row production deleted arrives (the bands' counts are equal, the key's sums are not)", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE orders_swapped (id int PRIMARY KEY, placed timestamp NOT NULL, note text)");
    await env.source.query("INSERT INTO orders_swapped SELECT g, timestamp '2026-07-01' + g * interval '1 hour', 'o' || g FROM generate_series(1, 480) g");
    await env.config([{ name: "orders_swapped", sync_mode: "smart_sync", incremental_column: "placed", incremental_type: "datetime" }]);
    expect((await run(["orders_swapped"])).status).toBe("succeeded");
    // Production archives order 300 (the 13th) and commits order 900 stamped the same day, both days below the window:
    // each band holds as many rows on both sides, so a count alone finds nothing.
    await env.source.query("DELETE FROM orders_swapped WHERE id = 300");
    await env.source.query("INSERT INTO orders_swapped VALUES (900, timestamp '2026-07-13 23:30', 'late, beside an archived one')");
    const r = await run(["orders_swapped"]);
    expect(r.status, r.tables[0].error).toBe("succeeded");
    expect(r.tables[0].plan?.reason).toContain("production has at least 1 more row(s) dated from 2026-07-13 00:00:00");
    const { rows } = await env.target.query("SELECT id, note FROM orders_swapped WHERE id IN (300, 900) ORDER BY id");
    // Order 300 stays: a date window copies production's changes, not its deletions below it.
    expect(rows).toEqual([{ id: 300, note: "o300" }, { id: 900, note: "late, beside an archived one" }]);
    expect(r.tables[0].outcome?.verification?.ok).toBe(true);
  });

  it("with a text key, and with a key of two columns, the same: their values hashed, summed beside each band's rows", async () => {
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE tickets_swapped (code text PRIMARY KEY, opened timestamp NOT NULL)");
      await c.query("CREATE TABLE lines_swapped (desk text NOT NULL, line int NOT NULL, opened timestamp NOT NULL, PRIMARY KEY (desk, line))");
    }
    await env.source.query("INSERT INTO tickets_swapped SELECT 'T-' || g, timestamp '2026-07-01' + g * interval '1 hour' FROM generate_series(1, 480) g");
    await env.source.query("INSERT INTO lines_swapped SELECT 'D-' || g % 3, g, timestamp '2026-07-01' + g * interval '1 hour' FROM generate_series(1, 480) g");
    for (const [table, gone, late] of [["tickets_swapped", "code = 'T-300'", "('T-LATE', timestamp '2026-07-13 23:30')"], ["lines_swapped", "line = 300", "('D-LATE', 300, timestamp '2026-07-13 23:30')"]]) {
      await env.config([{ name: table, sync_mode: "smart_sync", incremental_column: "opened", incremental_type: "datetime" }]);
      expect((await run([table])).status).toBe("succeeded");
      // Production deletes the row of 2026-07-13 12:00 and commits one stamped 23:30 that day (for the two-column key,
      // under the same line number at another desk: one column's sum alone would not change).
      await env.source.query(`DELETE FROM ${table} WHERE ${gone}`);
      await env.source.query(`INSERT INTO ${table} VALUES ${late}`);
      const r = await run([table]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(r.tables[0].plan?.reason, table).toContain("production has at least 1 more row(s) dated from 2026-07-13 00:00:00");
      expect((await env.target.query(`SELECT count(*)::int AS n FROM ${table} WHERE opened >= '2026-07-13' AND opened < '2026-07-14'`)).rows[0].n, table).toBe(25);
    }
  });

  it("a key UAT widened (varchar(20) to varchar(40)) is summed too; a masked key is counted only, never flagging a band that lost nothing", async () => {
    await env.source.query("CREATE TABLE badges (code varchar(20) PRIMARY KEY, opened timestamp NOT NULL)");
    await env.target.query("CREATE TABLE badges (code varchar(40) PRIMARY KEY, opened timestamp NOT NULL)");
    await env.source.query("INSERT INTO badges SELECT 'B-' || g, timestamp '2026-07-01' + g * interval '1 hour' FROM generate_series(1, 480) g");
    await env.config([{ name: "badges", sync_mode: "smart_sync", incremental_column: "opened", incremental_type: "datetime" }]);
    expect((await run(["badges"])).status).toBe("succeeded");
    await env.source.query("DELETE FROM badges WHERE code = 'B-300'; INSERT INTO badges VALUES ('B-LATE', timestamp '2026-07-13 23:30')");
    const widened = await run(["badges"]);
    expect(widened.status, widened.tables[0].error).toBe("succeeded");
    expect(widened.tables[0].plan?.reason).toContain("production has at least 1 more row(s) dated from 2026-07-13 00:00:00");
    expect((await env.target.query("SELECT count(*)::int AS n FROM badges WHERE code = 'B-LATE'")).rows[0].n).toBe(1);

    // The members' emails are their key, masked in UAT: every band's sums differ by design, and no band is short.
    process.env.UAT_REFRESH_MASKING_KEY ??= "late-rows-test-masking-key-0123456789";
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE members (email varchar(80) PRIMARY KEY, joined timestamp NOT NULL)");
    await env.source.query("INSERT INTO members SELECT 'm' || g || '@shop.example', timestamp '2026-07-01' + g * interval '1 hour' FROM generate_series(1, 480) g");
    await env.config([{ name: "members", sync_mode: "smart_sync", incremental_column: "joined", incremental_type: "datetime", masking: [{ column: "email", rule: "fake_email" }] }]);
    expect((await run(["members"])).status).toBe("succeeded");
    await env.source.query("INSERT INTO members VALUES ('new@shop.example', timestamp '2026-07-21 01:00')");
    const masked = await run(["members"]);
    expect(masked.status, masked.tables[0].error).toBe("succeeded");
    expect(masked.tables[0].plan?.reason).not.toContain("more row(s)");
    expect((await env.target.query("SELECT count(*)::int AS n FROM members")).rows[0].n).toBe(481);
  });

  it("a day band moves the date, keeps the time and offset as the server wrote them, and stops before the year 1", () => {
    expect(daysBefore("2026-03-01 12:30:00.1234567 +02:00", 1)).toBe("2026-02-28 12:30:00.1234567 +02:00");
    expect(daysBefore("2024-03-01", 1)).toBe("2024-02-29");
    expect(daysBefore("2026-01-03T00:00:00", 8)).toBe("2025-12-26T00:00:00");
    expect(daysBefore("0001-01-02", 1)).toBe("0001-01-01");
    expect(daysBefore("0001-01-02", 2)).toBeNull();
    expect(daysBefore("infinity", 1)).toBeNull();
  });
});

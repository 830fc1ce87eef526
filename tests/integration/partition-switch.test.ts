import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

// report_date is a YYYYMMDD integer, as in the original design's daily_reports.
const SOURCE = `CREATE TABLE daily_reports (id bigint NOT NULL, report_date int NOT NULL, region text NOT NULL, revenue numeric(14,2), PRIMARY KEY (id, report_date))`;
const TARGET = `CREATE TABLE daily_reports (id bigint NOT NULL, report_date int NOT NULL, region text NOT NULL, revenue numeric(14,2), PRIMARY KEY (id, report_date)) PARTITION BY RANGE (report_date);
  CREATE INDEX daily_reports_region ON daily_reports (region);
  CREATE TABLE daily_reports_p20250101 PARTITION OF daily_reports FOR VALUES FROM (20250101) TO (20250102);
  CREATE TABLE daily_reports_p20250102 PARTITION OF daily_reports FOR VALUES FROM (20250102) TO (20250103);`;

function rowsFor(day: number, n: number, tag = "") {
  return `INSERT INTO daily_reports SELECT g, ${day}, 'region-' || (g % 7) || '${tag}', g * 1.5 FROM generate_series(1, ${n}) g`;
}

describe("staging_partition_switch on PostgreSQL declarative partitions", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.source.query(SOURCE);
    await env.target.query(TARGET);
  });
  afterAll(() => env?.close());

  it("creates missing daily partitions, replaces an existing day's rows and keeps other days", async () => {
    await env.target.query(rowsFor(20250101, 500, "-old"));
    await env.target.query(rowsFor(20250102, 700, "-old"));
    await env.source.query(rowsFor(20250102, 1000));
    await env.source.query(rowsFor(20250103, 1200));
    await env.source.query(rowsFor(20250201, 300));
    await env.config([{ name: "daily_reports", strategy: "staging_partition_switch", date_buffer_days: 0 }]);
    // the target's max is 20250102 with 0 buffer days: days >= 20250102 are refreshed, 20250101 is kept
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["daily_reports"] });
    expect(report.status, report.tables[0].error).toBe("succeeded");
    const outcome = report.tables[0].outcome!;
    expect(outcome.partitionsCreated).toEqual(["20250103", "20250201"]);
    expect(outcome.partitionsSwitched).toEqual(["20250102", "20250103", "20250201"]);
    expect(outcome.rowsWritten).toBe(2500);
    expect(outcome.verification).toEqual({ ok: true, rows: 2500, detail: "verified: 2500 row(s) in 3 partition(s), counts and checksums equal" });

    const byDay = await env.target.query("SELECT report_date, count(*)::int AS n, bool_and(region LIKE '%-old') AS old FROM daily_reports GROUP BY 1 ORDER BY 1");
    expect(byDay.rows).toEqual([
      { report_date: 20250101, n: 500, old: true },
      { report_date: 20250102, n: 1000, old: false },
      { report_date: 20250103, n: 1200, old: false },
      { report_date: 20250201, n: 300, old: false },
    ]);
    const parts = await env.target.query(
      "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'daily_reports'::regclass ORDER BY 1",
    );
    expect(parts.rows.map((r) => r.relname)).toEqual(["daily_reports_p20250101", "daily_reports_p20250102", "daily_reports_p20250103", "daily_reports_p20250201"]);
    // Switched-in partitions carry index names like the ones PostgreSQL gives a partition, not the staging table's.
    const indexes = await env.target.query(
      "SELECT i.relname FROM pg_inherits h JOIN pg_index x ON x.indrelid = h.inhrelid JOIN pg_class i ON i.oid = x.indexrelid WHERE h.inhparent = 'daily_reports'::regclass ORDER BY 1",
    );
    expect(indexes.rows.map((r) => r.relname).filter((n: string) => /_stg_|_old_/.test(n))).toEqual([]);
    expect(indexes.rows.map((r) => r.relname)).toEqual(expect.arrayContaining(["daily_reports_p20250103_pkey", "daily_reports_p20250103_region_idx", "daily_reports_p20250201_pkey"]));
    expect(parts.rows[3].bound).toBe("FOR VALUES FROM (20250201) TO (20250202)");
    // switched-in partitions carry the parent's indexes (attached), and nothing is left behind
    const idx = await env.target.query("SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'daily_reports_p20250103'");
    expect(idx.rows[0].n).toBe(2);
    const leftovers = await env.target.query("SELECT relname FROM pg_class WHERE relname ~ '_(stg|old)_' AND relkind = 'r'");
    expect(leftovers.rows).toEqual([]);
  });

  it("with no buffer configured, re-running switches every source day again and the result is identical", async () => {
    await env.config([{ name: "daily_reports", strategy: "staging_partition_switch" }]);
    await env.source.query("UPDATE daily_reports SET revenue = revenue + 1 WHERE report_date = 20250103 AND id <= 10");
    const before = await fingerprint(env.source, "daily_reports");
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(report.tables[0].outcome?.partitionsCreated).toEqual([]);
    const target = await env.target.query("SELECT count(*)::int AS n FROM daily_reports WHERE report_date <> 20250101");
    expect(target.rows[0].n).toBe(2500);
    const src = await fingerprint(env.source, "daily_reports");
    expect(src).toEqual(before);
    expect(await fingerprint(env.target, "(SELECT * FROM daily_reports WHERE report_date <> 20250101)")).toEqual(src);
  });

  it("a late-arriving fact in a day below the buffer: the days from its band are loaded again, and the plan says why", async () => {
    await env.source.query(`CREATE TABLE sales (id int NOT NULL, sold_on date NOT NULL, amount numeric(10,2), PRIMARY KEY (id, sold_on))`);
    await env.target.query(`CREATE TABLE sales (id int NOT NULL, sold_on date NOT NULL, amount numeric(10,2), PRIMARY KEY (id, sold_on)) PARTITION BY RANGE (sold_on)`);
    await env.source.query("INSERT INTO sales SELECT g, date '2025-03-01' + g % 20, g FROM generate_series(1, 2000) g");
    await env.config([{ name: "sales", strategy: "staging_partition_switch", date_buffer_days: 1 }]);
    const run = () => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["sales"] });
    expect((await run()).status).toBe("succeeded"); // day 1: every day
    // Production then receives a sale for 2025-03-15, five days before its max (2025-03-20), and a new day.
    await env.source.query("INSERT INTO sales VALUES (5001, date '2025-03-15', 9.99), (5002, date '2025-03-21', 1.00)");
    const report = await run();
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(report.tables[0].plan?.reason).toMatch(/^days from 20250314 \(target max 20250320 - 1 day buffer; from 20250314: production has 1 more row\(s\) in the days below the buffer than UAT/);
    expect(await fingerprint(env.target, "sales")).toEqual(await fingerprint(env.source, "sales"));
    expect(report.tables[0].outcome?.verification?.ok).toBe(true);
    // Nothing late: the buffer's days only.
    const again = await run();
    expect(again.tables[0].plan?.reason).toMatch(/^days from 20250320 \(target max 20250321 - 1 day buffer\)/);
    // Production voids sale 34 of 2025-03-15 and a late sale arrives for that day: as many rows as UAT has there, but
    // the key's sum differs, so that band's days load again (before, counts alone found nothing: the sale never came).
    await env.source.query("DELETE FROM sales WHERE id = 34; INSERT INTO sales VALUES (5003, date '2025-03-15', 4.50)");
    const swapped = await run();
    expect(swapped.tables[0].plan?.reason).toMatch(/^days from 20250314 \(target max 20250321 - 1 day buffer; from 20250314: production has at least 1 more row\(s\) in the days below the buffer than UAT/);
    expect(await fingerprint(env.target, "sales")).toEqual(await fingerprint(env.source, "sales"));
  });

  it("production's rows without a day (NULL partition key), where UAT has no DEFAULT partition to hold them, are said in the plan", async () => {
    await env.source.query("CREATE TABLE visits (id int NOT NULL, seen_on date NULL)");
    await env.target.query("CREATE TABLE visits (id int NOT NULL, seen_on date NULL) PARTITION BY RANGE (seen_on)");
    await env.source.query("INSERT INTO visits SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE date '2025-04-01' + g % 3 END FROM generate_series(1, 100) g");
    await env.config([{ name: "visits", strategy: "staging_partition_switch" }]);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["visits"] });
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(report.tables[0].plan?.reason).toContain("10 production row(s) have no seen_on (NULL), and no partition of UAT's table can hold them (PostgreSQL: a DEFAULT partition), so they are never copied");
    expect((await env.target.query("SELECT count(*)::int AS n FROM visits")).rows[0].n).toBe(90);
  });

  it("production's rows without a day, where UAT's partition key is NOT NULL, are said in the plan, and the days still load", async () => {
    await env.source.query("CREATE TABLE rings (id int NOT NULL, rung_on date NULL)");
    await env.target.query("CREATE TABLE rings (id int NOT NULL, rung_on date NOT NULL) PARTITION BY RANGE (rung_on); CREATE TABLE rings_other PARTITION OF rings DEFAULT");
    await env.source.query("INSERT INTO rings SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE date '2025-04-01' + g % 3 END FROM generate_series(1, 100) g");
    await env.config([{ name: "rings", strategy: "staging_partition_switch" }]);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["rings"] });
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(report.tables[0].plan?.reason).toContain("10 production row(s) have no rung_on (NULL), and UAT's rung_on is NOT NULL, so they are never copied");
    expect((await env.target.query("SELECT count(*)::int AS n FROM rings")).rows[0].n).toBe(90);
  });

  it("production's rows without a day go into UAT's DEFAULT partition, replaced as a unit of their own: none skipped, none twice once production dates them", async () => {
    await env.source.query("CREATE TABLE calls (id int NOT NULL, called_on date NULL, who text)");
    await env.target.query("CREATE TABLE calls (id int NOT NULL, called_on date NULL, who text) PARTITION BY RANGE (called_on); CREATE TABLE calls_other PARTITION OF calls DEFAULT");
    await env.source.query("INSERT INTO calls SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE date '2025-04-01' + g % 3 END, 'caller ' || g FROM generate_series(1, 100) g");
    await env.config([{ name: "calls", strategy: "staging_partition_switch", date_buffer_days: 1 }]);
    const run = () => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["calls"] });
    const day1 = await run();
    expect(day1.status, day1.tables[0].error).toBe("succeeded");
    expect(day1.tables[0].plan?.reason).toContain("the rows without a called_on (NULL: no day), in partition calls_other: UAT's 0 replaced by production's 10, in one transaction");
    expect(day1.tables[0].plan?.rowsExpected).toBe(100);
    expect(day1.tables[0].outcome?.verification).toMatchObject({ ok: true, rows: 100 });
    expect(await fingerprint(env.target, "calls")).toEqual(await fingerprint(env.source, "calls"));
    // Day 2: production dates three of them (one into a day below the buffer) and records two new calls without a day.
    await env.source.query("UPDATE calls SET called_on = date '2025-04-03' WHERE id IN (10, 20); UPDATE calls SET called_on = date '2025-04-01' WHERE id = 30");
    await env.source.query("INSERT INTO calls VALUES (101, NULL, 'caller 101'), (102, NULL, 'caller 102')");
    const day2 = await run();
    expect(day2.status, day2.tables[0].error).toBe("succeeded");
    expect(day2.tables[0].plan?.reason).toContain("UAT's 10 replaced by production's 9");
    expect(await fingerprint(env.target, "calls")).toEqual(await fingerprint(env.source, "calls"));
    expect((await env.target.query("SELECT count(*)::int AS n FROM calls_other")).rows[0].n).toBe(9);
    expect(day2.tables[0].outcome?.verification?.ok).toBe(true);
  });

  it("refuses a non-partitioned target with a clear error and changes nothing", async () => {
    await env.target.query("CREATE TABLE plain_reports (id bigint, report_date int)");
    await env.source.query("CREATE TABLE plain_reports (id bigint, report_date int)");
    await env.config([{ name: "plain_reports", strategy: "staging_partition_switch" }]);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.status).toBe("failed");
    expect(report.tables[0].error).toMatch(/plain_reports is not partitioned/);
  });

  it("a session ended after a day's switch committed: only the tidying runs again, and UAT's own index keeps its name", async () => {
    await env.source.query("CREATE TABLE daily_events (id bigint NOT NULL, day int NOT NULL, note text, PRIMARY KEY (id, day))");
    await env.target.query(`CREATE TABLE daily_events (id bigint NOT NULL, day int NOT NULL, note text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
      CREATE TABLE daily_events_p20250301 PARTITION OF daily_events FOR VALUES FROM (20250301) TO (20250302);
      CREATE INDEX uat_events_note ON daily_events_p20250301 (note);`);
    await env.source.query("INSERT INTO daily_events SELECT g, 20250301, 'n' || g FROM generate_series(1, 200) g");
    await env.target.query("INSERT INTO daily_events SELECT g, 20250301, 'old' FROM generate_series(1, 50) g");
    // The server ends the session at the first index renamed after the switch committed (once, the sequence counts
    // outside any transaction), as an administrator's pg_terminate_backend would: 57P01, which the run retries.
    await env.target.query(`CREATE SEQUENCE renames_seen;
      CREATE FUNCTION end_session_once() RETURNS event_trigger LANGUAGE plpgsql AS $$
      BEGIN IF nextval('renames_seen') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; END $$;
      CREATE EVENT TRIGGER end_session_at_rename ON ddl_command_end WHEN TAG IN ('ALTER INDEX') EXECUTE FUNCTION end_session_once();`);
    try {
      await env.config([{ name: "daily_events", strategy: "staging_partition_switch", date_buffer_days: 0 }], { max_retries: 1 });
      const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["daily_events"] });
      expect(report.status, report.tables[0].error).toBe("succeeded");
      expect((await env.target.query("SELECT last_value::int AS n FROM renames_seen")).rows[0].n).toBeGreaterThan(1);
      expect(report.tables[0].outcome!.rowsWritten).toBe(200);
      const rows = await env.target.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE note = 'old')::int AS old FROM daily_events");
      expect(rows.rows[0]).toEqual({ n: 200, old: 0 });
      const indexes = await env.target.query("SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'daily_events_p20250301'::regclass ORDER BY 1");
      expect(indexes.rows.map((r) => r.relname)).toEqual(["daily_events_p20250301_pkey", "uat_events_note"]);
      const leftovers = await env.target.query("SELECT relname FROM pg_class WHERE relname ~ '^daily_events.*_(stg|old)_' OR relname ~ '_uatnew$'");
      expect(leftovers.rows).toEqual([]);
    } finally {
      await env.target.query("DROP EVENT TRIGGER end_session_at_rename");
    }
  });
});

// A server's own session defaults do not change what is copied, compared or verified: production and UAT here each
// have another DateStyle (neither ISO), TimeZone, IntervalStyle, extra_float_digits and client_encoding (LATIN1,
// SQL_ASCII), set on the database as a DBA would. The product's sessions must read watermarks, write parameters and checksum values the same on both sides.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importConfig } from "../../lib/config/store";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

describe("a server's own session defaults (DateStyle, TimeZone, IntervalStyle, extra_float_digits, client_encoding)", () => {
  let env: TestEnv;
  const run = async () => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["readings"] });
    return { ...r, t: r.tables[0] };
  };
  /** Rows from..to, dated over `days` days from `firstDay`, stamped later the larger their id. */
  const insert = (from: number, to: number, firstDay = "2025-01-01", days = 60) =>
    env.source.query(`INSERT INTO readings SELECT g, date '${firstDay}' + g % ${days}, timestamp '2025-01-01 00:00:00.123456' + g * interval '37 minutes',
      timestamptz '2025-01-01 00:00:00.5+00' + g * interval '41 minutes', g / 3.0, g / 7.0, g / 9.0, g * interval '1 day 3 hours 5.25 seconds' - interval '2 months', ARRAY[date '2025-01-01' + g % 28, date '2025-02-03'], 'café ñ – 表 ' || g FROM generate_series(${from}, ${to}) g`);

  beforeAll(async () => {
    env = await createTestEnv();
    const name = (url: string) => new URL(url).pathname.slice(1);
    // Existing sessions (the test's own clients) keep ISO; every session the product opens gets these.
    await env.source.query(`ALTER DATABASE ${name(env.sourceUrl)} SET DateStyle = 'SQL, MDY'`);
    await env.source.query(`ALTER DATABASE ${name(env.sourceUrl)} SET TimeZone = 'America/Los_Angeles'`);
    await env.source.query(`ALTER DATABASE ${name(env.sourceUrl)} SET IntervalStyle = 'sql_standard'`);
    await env.source.query(`ALTER DATABASE ${name(env.sourceUrl)} SET extra_float_digits = 0`);
    await env.source.query(`ALTER DATABASE ${name(env.sourceUrl)} SET client_encoding = 'LATIN1'`);
    await env.target.query(`ALTER DATABASE ${name(env.targetUrl)} SET DateStyle = 'German'`);
    await env.target.query(`ALTER DATABASE ${name(env.targetUrl)} SET TimeZone = 'Asia/Kolkata'`);
    await env.target.query(`ALTER DATABASE ${name(env.targetUrl)} SET extra_float_digits = 3`);
    await env.target.query(`ALTER DATABASE ${name(env.targetUrl)} SET client_encoding = 'SQL_ASCII'`);
    for (const c of [env.source, env.target])
      await c.query("CREATE TABLE readings (id int PRIMARY KEY, day date NOT NULL, at timestamp(6) NOT NULL, at_tz timestamptz NOT NULL, v double precision, r real, n numeric(12,4), dur interval, days date[], label text)");
    await insert(1, 3000);
  });
  afterAll(() => env?.close());

  it("a full replace copies every value exactly and verifies it", async () => {
    await env.config([{ name: "readings", sync_mode: "full_replace" }]);
    const r = await run();
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification?.detail).toBe("verified: 3000 row(s), counts and checksums equal (the whole table)");
    expect(await fingerprint(env.target, "readings")).toEqual(await fingerprint(env.source, "readings"));
  });

  it("incremental by date and by datetime: the window starts at UAT's watermark as production reads it, no row skipped", async () => {
    for (const [column, type] of [["day", "date"], ["at", "datetime"], ["at_tz", "datetime"]] as const) {
      const from = 3001 + 100 * ["day", "at", "at_tz"].indexOf(column);
      await insert(from, from + 99, "2025-03-01", 3);
      await env.source.query("UPDATE readings SET v = -v WHERE id % 500 = 0");
      await env.config([{ name: "readings", sync_mode: "incremental", incremental_column: column, incremental_type: type, date_buffer_days: 1 }]);
      const r = await run();
      expect(r.status, `${column}: ${r.t.error}`).toBe("succeeded");
      expect(r.t.plan?.reason, column).toMatch(/re-syncing from \d{4}-\d{2}-\d{2}/);
      expect(r.t.outcome?.verification?.ok, `${column}: ${r.t.outcome?.verification?.detail}`).toBe(true);
      const newest = await env.target.query(`SELECT count(*)::int AS n FROM readings WHERE id > 3000`);
      expect(newest.rows[0].n, column).toBe((await env.source.query("SELECT count(*)::int AS n FROM readings WHERE id > 3000")).rows[0].n);
    }
  });
});

describe("a production database in another encoding (LATIN1) refreshed into a UTF8 UAT", () => {
  let env: TestEnv;
  let latin1: pg.Client;

  beforeAll(async () => {
    env = await createTestEnv();
    const created = await env.addDatabase("latin1", "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    // The test's own client speaks UTF8 (the server converts); a session that says nothing gets the database's encoding.
    latin1 = created.client;
    await latin1.query("SET client_encoding = 'UTF8'");
    for (const c of [latin1, env.target]) await c.query("CREATE TABLE labels (id int PRIMARY KEY, label text NOT NULL)");
    await latin1.query("INSERT INTO labels SELECT g, 'café ñ ü ß ' || g FROM generate_series(1, 500) g");
    const config = await env.config([{ name: "labels", sync_mode: "full_replace" }]);
    await importConfig(env.db, { ...config, databases: { ...config.databases, source: { ...config.databases.source, database: created.name } } });
  });
  afterAll(() => env?.close());

  it("every character arrives as it is, verified", async () => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["labels"] });
    expect(r.status, r.tables[0].error).toBe("succeeded");
    expect(r.tables[0].outcome?.verification?.ok).toBe(true);
    const all = "SELECT id, label FROM labels ORDER BY id";
    expect((await env.target.query(all)).rows).toEqual((await latin1.query(all)).rows);
    expect((await env.target.query("SELECT label FROM labels WHERE id = 7")).rows).toEqual([{ label: "café ñ ü ß 7" }]);
  });
});

// Production's DBA bounds idle transactions and statements (and, from PostgreSQL 17, whole transactions) on the
// database, as many do. The product's source session holds one snapshot from the copy to the checksum, and sits idle
// in it while UAT waits (here for a tester's lock): those limits must not end a refresh halfway. Its sessions turn the
// database's timeouts off, as pg_dump's do, and bound each statement by command_timeout, the product's own setting.
describe("a production and a UAT whose databases set statement, idle-in-transaction and transaction timeouts", () => {
  let env: TestEnv;
  let transactionTimeout = false;
  /** A full replace of events while a tester holds a lock on UAT's table for `holdMs` (its emptying waits). */
  const refreshWhileLocked = async (holdMs: number, commandTimeout: number) => {
    await env.config([{ name: "events", sync_mode: "full_replace" }], { command_timeout: commandTimeout });
    await env.target.query("BEGIN; LOCK TABLE events IN ACCESS SHARE MODE");
    const released = new Promise((r) => setTimeout(r, holdMs)).then(() => env.target.query("COMMIT"));
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["events"] });
    await released;
    return { ...r, t: r.tables[0] };
  };

  beforeAll(async () => {
    env = await createTestEnv();
    const name = (url: string) => new URL(url).pathname.slice(1);
    transactionTimeout = Number((await env.source.query("SHOW server_version_num")).rows[0].server_version_num) >= 170000;
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE events (id int PRIMARY KEY, payload text NOT NULL)");
    await env.source.query("INSERT INTO events SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 200000) g");
    // The test's own sessions were opened before: only the product's new sessions get these.
    for (const [c, url] of [[env.source, env.sourceUrl], [env.target, env.targetUrl]] as const) {
      await c.query(`ALTER DATABASE ${name(url)} SET idle_in_transaction_session_timeout = '300ms'`);
      await c.query(`ALTER DATABASE ${name(url)} SET statement_timeout = '20ms'`);
      if (transactionTimeout) await c.query(`ALTER DATABASE ${name(url)} SET transaction_timeout = '600ms'`);
    }
  });
  afterAll(() => env?.close());

  it("a full replace that waits a second and a half for a tester's lock on UAT still succeeds, verified", async () => {
    // command_timeout 0: no limit of the product's own, so none of the database's applies either.
    const r = await refreshWhileLocked(1500, 0);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification?.detail).toBe("verified: 200000 row(s), counts and checksums equal (the whole table)");
    expect(await fingerprint(env.target, "events")).toEqual(await fingerprint(env.source, "events"));
  });

  it("command_timeout, where set, is the statements' bound instead of the database's", async () => {
    // 2 s: the 700 ms wait outlasts the database's statement (20 ms), idle (300 ms) and transaction (600 ms) limits.
    // That command_timeout ends a statement is faults.test.ts' own test.
    const r = await refreshWhileLocked(700, 2);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification?.ok).toBe(true);
  });
});

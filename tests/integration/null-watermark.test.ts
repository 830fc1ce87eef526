// An incremental column production leaves NULL in (an `updated_at` set on the first update only, a `shipped_at` not
// yet known): no watermark can say whether such a row is new or changed. A date window that compared only
// `column >= cutoff` never read them again after the first copy: a row production added later with NULL there
// never reached UAT, one it deleted stayed, and the run said "succeeded". Identity mode pages by the column, so a
// row without a value can never be read: refused by name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

const TICKETS = (key: boolean) => `CREATE TABLE tickets_${key ? "keyed" : "bare"} (
  id int NOT NULL${key ? " PRIMARY KEY" : ""},
  title text NOT NULL,
  updated_at timestamp NULL
)`;

describe("an incremental date column with NULLs in production", () => {
  let env: TestEnv;
  const run = (tables: string[]) => runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables });

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) for (const key of [true, false]) await c.query(TICKETS(key));
  });
  afterAll(() => env?.close());

  for (const key of [true, false]) {
    const table = `tickets_${key ? "keyed" : "bare"}`;
    it(`${key ? "with a key" : "without a key"}: rows without a date are re-read with every window, so production's new and deleted ones arrive`, async () => {
      // Day 1: rows with a date and rows never updated (NULL).
      await env.source.query(`INSERT INTO ${table} SELECT g, 'ticket ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE timestamp '2026-01-01' + g * interval '1 hour' END FROM generate_series(1, 300) g`);
      await env.config([{ name: table, sync_mode: "smart_sync", incremental_column: "updated_at", incremental_type: "datetime", date_buffer_days: 1 }]);
      const first = await run([table]);
      expect(first.status, first.tables[0].error).toBe("succeeded");
      expect(await fingerprint(env.target, table)).toEqual(await fingerprint(env.source, table));

      // Between: production adds rows with no date and with a date, renames one without, deletes one without.
      await env.source.query(`INSERT INTO ${table} VALUES (1001, 'new, never updated', NULL), (1002, 'new', timestamp '2026-02-01')`);
      await env.source.query(`UPDATE ${table} SET title = 'renamed without a date' WHERE id = 3`);
      await env.source.query(`DELETE FROM ${table} WHERE id = 6`);

      const second = await run([table]);
      expect(second.status, second.tables[0].error).toBe("succeeded");
      expect(second.tables[0].plan?.mode).toBe("incremental");
      expect(second.tables[0].plan?.reason).toMatch(/rows with no updated_at \(NULL\) in production are read again with every window/);
      const { rows } = await env.target.query(`SELECT id, title FROM ${table} WHERE id IN (3, 6, 1001, 1002) ORDER BY id`);
      expect(rows).toEqual([
        { id: 3, title: "renamed without a date" },
        { id: 1001, title: "new, never updated" },
        { id: 1002, title: "new" },
      ]);
      expect(await fingerprint(env.target, table)).toEqual(await fingerprint(env.source, table));
      expect(second.tables[0].outcome?.verification?.ok).toBe(true);
    });
  }

  it("a NOT NULL date column's window has no NULL branch (nothing read again for nothing)", async () => {
    await env.source.query("CREATE TABLE dated (id int PRIMARY KEY, at timestamp NOT NULL)");
    await env.target.query("CREATE TABLE dated (id int PRIMARY KEY, at timestamp NOT NULL)");
    await env.source.query("INSERT INTO dated SELECT g, timestamp '2026-01-01' + g * interval '1 hour' FROM generate_series(1, 100) g");
    await env.target.query("INSERT INTO dated SELECT g, timestamp '2026-01-01' + g * interval '1 hour' FROM generate_series(1, 50) g");
    await env.config([{ name: "dated", sync_mode: "incremental", incremental_column: "at", incremental_type: "datetime" }]);
    const report = await run(["dated"]);
    expect(report.status, report.tables[0].error).toBe("succeeded");
    expect(report.tables[0].plan?.sourceQuery.sql).not.toMatch(/IS NULL/);
    expect(report.tables[0].plan?.reason).not.toMatch(/NULL/);
  });

  it("identity mode over a column production has NULLs in is refused, naming the column and the rows", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE legacy (id int PRIMARY KEY, code int NULL UNIQUE, name text)");
    await env.source.query("INSERT INTO legacy VALUES (1, 1, 'a'), (2, 2, 'b'), (3, NULL, 'no code'), (4, NULL, 'no code either')");
    await env.target.query("INSERT INTO legacy VALUES (1, 1, 'a')");
    await env.config([{ name: "legacy", sync_mode: "incremental", incremental_column: "code", incremental_type: "identity" }]);
    const report = await run(["legacy"]);
    expect(report.status).toBe("failed");
    expect(report.tables[0].error).toMatch(/incremental_column code of public\.legacy has 2 row\(s\) with no value \(NULL\) in production/);
    // Nothing written.
    expect((await env.target.query("SELECT count(*)::int AS n FROM legacy")).rows[0].n).toBe(1);
  });
});

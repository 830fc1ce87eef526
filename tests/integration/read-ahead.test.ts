// A run plans its units on the target's session; meanwhile the source's session reads the first table's catalog
// (lib/engine/read-ahead), and the table's refresh takes those answers instead of asking again. Proven by order,
// through the real CLI and the statement log: UAT's table is locked so the plan cannot finish, and the source's
// catalog must be read while it waits.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCli, waitFor } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

interface Line {
  msg: string;
  side: string;
  sql: string;
}

const catalogReads = { findTable: /^SELECT n\.nspname AS schema, c\.relname AS name FROM pg_class/, columns: /^SELECT a\.attname AS name, format_type/, indexes: /^SELECT i\.relname AS name, x\.indisunique/ };

describe("the source's catalog read while the run plans", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE visit (id int PRIMARY KEY, at date NOT NULL, who text)");
    await env.source.query("INSERT INTO visit SELECT g, date '2025-01-01' + g, 'p' || g FROM generate_series(1, 500) g");
    // smart_sync: the plan asks whether UAT's table is empty, a read that waits for a lock on it.
    await env.config([{ name: "visit", sync_mode: "smart_sync", incremental_column: "id", incremental_type: "identity" }]);
  });
  afterAll(() => env?.close());

  it("reads the first table's source catalog while the target's plan waits, then copies without asking it again", async () => {
    await env.target.query("BEGIN; LOCK TABLE visit IN ACCESS EXCLUSIVE MODE");
    const child = spawnCli(["--table", "visit", "--force"], { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD!, LOG_LEVEL: "debug" });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const logged = () =>
      stderr
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Line)
        .filter((l) => l.msg === "statement");
    const read = (side: string, what: RegExp) => logged().filter((l) => l.side === side && what.test(l.sql));
    try {
      // The target's plan waits for the lock: the source's three catalog reads happen meanwhile (without the read
      // ahead they come only after the plan, and this wait runs out).
      const planWaits = async () => Number((await env.target.query("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'visit'::regclass")).rows[0].count) === 1;
      await waitFor(async () => read("source", catalogReads.indexes).length > 0 && (await planWaits()), 30_000);
    } finally {
      await env.target.query("ROLLBACK");
    }
    expect(await child.exited, child.output()).toBe(0);
    // Each asked once on the source: the refresh took the answers read ahead.
    for (const what of Object.values(catalogReads)) expect(read("source", what)).toHaveLength(1);
    expect(await fingerprint(env.target, "visit")).toEqual(await fingerprint(env.source, "visit"));
  });
});

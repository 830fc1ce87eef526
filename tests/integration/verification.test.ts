// Verification after every refresh, on real PostgreSQL: the copied rows are counted and checksummed on the source (on
// the copy's snapshot) and on the target after the commit; a UAT whose rows end up different fails the table saying
// so, and the dashboard's "in sync" comes only from a verification.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { tableStatuses } from "../../lib/engine/status";
import { exportConfig } from "../../lib/config/store";
import { createTestEnv, type TestEnv } from "../support/env";

describe("verification after the refresh", () => {
  let env: TestEnv;
  const run = async (tables: string[]) => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables });
    return { ...r, t: r.tables[0] };
  };
  const lag = async (name: string) => (await tableStatuses(env.db, await exportConfig(env.db))).find((t) => t.name === name)!.lag;

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL)");
      await c.query("CREATE TABLE events (id int PRIMARY KEY, at timestamptz NOT NULL, kind text NOT NULL)");
    }
    await env.source.query("INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5 FROM generate_series(1, 5000) g");
    await env.source.query("INSERT INTO events SELECT g, timestamptz '2025-01-01' + g * interval '1 hour', 'k' || (g % 7) FROM generate_series(1, 2000) g");
    await env.source.query("ANALYZE"); // the dashboard reads production through its statistics only
    await env.config([
      { name: "accounts", sync_mode: "full_replace" },
      { name: "events", sync_mode: "incremental", incremental_column: "at", incremental_type: "datetime", date_buffer_days: 2 },
    ]);
  });
  afterAll(() => env?.close());

  it("a full replace is verified by count and checksum, shown on the run and as the dashboard's 'in sync'", async () => {
    const r = await run(["accounts"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification).toEqual({ ok: true, rows: 5000, detail: "verified: 5000 row(s), counts and checksums equal (the whole table)" });
    const row = await env.db.tableResult.findFirstOrThrow({ where: { runId: r.runId } });
    expect([row.verified, row.verification]).toEqual([true, "verified: 5000 row(s), counts and checksums equal (the whole table)"]);
    expect(await lag("accounts")).toBe("in sync");
  });

  it("an incremental date window is verified over the window it copied", async () => {
    expect((await run(["events"])).status).toBe("succeeded");
    await env.source.query("INSERT INTO events SELECT g, timestamptz '2025-01-01' + g * interval '1 hour', 'new' FROM generate_series(2001, 2100) g");
    await env.source.query("UPDATE events SET kind = 'changed' WHERE id BETWEEN 1990 AND 2000");
    const r = await run(["events"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification?.detail).toMatch(/^verified: \d+ row\(s\), counts and checksums equal \(the copied window\)$/);
    expect(r.t.outcome!.verification!.rows).toBeGreaterThan(100);
  });

  it("rows that end up different from production's fail the table, saying they were committed and how they differ", async () => {
    // A UAT trigger that rewrites rows as they arrive, allowed to fire during the load.
    await env.target.query(`CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.owner := upper(NEW.owner); RETURN NEW; END $$;
      CREATE TRIGGER shout BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION shout()`);
    await env.config([{ name: "accounts", sync_mode: "full_replace", fire_triggers: true }]);
    const r = await run(["accounts"]);
    expect(r.status).toBe("failed");
    expect(r.t.error).toBe("verification failed: 5000 row(s) on both sides, but their values differ (checksums of the whole table); the refreshed rows were committed");
    expect(r.t.rowsCommitted).toBe(5000);
    expect(await lag("accounts")).toBe("equal, not verified");
    await env.target.query("DROP TRIGGER shout ON accounts");
  });

  it("masked columns are counted, not compared", async () => {
    process.env.UAT_REFRESH_MASKING_KEY ??= "a masking key for the verification test";
    await env.config([{ name: "accounts", sync_mode: "full_replace", masking: [{ column: "owner", rule: "fake_full_name" }] }]);
    const r = await run(["accounts"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification?.detail).toBe("verified: 5000 row(s), counts and checksums equal (the whole table, owner counted only (masked, kept or typed differently))");
  });

  it("a table with verify: false is refreshed without the extra read, and never shown as in sync", async () => {
    await env.config([{ name: "accounts", sync_mode: "full_replace", verify: false }]);
    const r = await run(["accounts"]);
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.outcome?.verification).toBeUndefined();
    const row = await env.db.tableResult.findFirstOrThrow({ where: { runId: r.runId } });
    expect([row.verified, row.verification]).toEqual([null, null]);
    expect(await lag("accounts")).toBe("equal, not verified");
  });
});

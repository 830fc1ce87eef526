// Schema drift found in the plan, on real PostgreSQL: a UAT column narrower than production's refuses the table
// before anything is written, naming both definitions; a column only production has is reported and copied once
// UAT has it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

describe("schema drift, in the plan", () => {
  let env: TestEnv;
  const run = async (dryRun = false) => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["people"], dryRun });
    return { ...r, t: r.tables[0] };
  };

  beforeAll(async () => {
    env = await createTestEnv();
    await env.source.query("CREATE TABLE people (id int PRIMARY KEY, name varchar(50) NOT NULL, score numeric(8,2))");
    await env.target.query("CREATE TABLE people (id int PRIMARY KEY, name varchar(10) NOT NULL, score numeric(8,2))");
    await env.source.query("INSERT INTO people SELECT g, 'a name longer than ten ' || g, g FROM generate_series(1, 100) g");
    await env.target.query("INSERT INTO people VALUES (1, 'old', 1)");
    // New columns are reviewed before they flow (tests/integration/new-columns.test.ts); here only drift is shown.
    await env.config([{ name: "people", sync_mode: "full_replace" }], { review_new_columns: false });
  });
  afterAll(() => env?.close());

  it("a narrower UAT column refuses the table in the dry run and the run, naming both definitions; nothing is written", async () => {
    const before = await fingerprint(env.target, "people");
    for (const dryRun of [true, false]) {
      const r = await run(dryRun);
      expect(r.status).toBe("failed");
      expect(r.t.error).toBe(
        "public.people differs from production: name: UAT's character varying(10) is shorter than production's character varying(50); alter UAT's column (or production's) before the refresh",
      );
    }
    expect(await fingerprint(env.target, "people")).toEqual(before);
  });

  it("a column only production has is reported and not copied; once UAT has it, it is copied", async () => {
    await env.target.query("ALTER TABLE people ALTER COLUMN name TYPE varchar(60)");
    await env.source.query("ALTER TABLE people ADD COLUMN nickname text; UPDATE people SET nickname = 'n' || id");
    const r = await run();
    expect(r.status, r.t.error).toBe("succeeded");
    expect(r.t.plan?.reason).toContain("drift: production has nickname (text), which UAT lacks: not copied until UAT has it");
    expect((await env.target.query("SELECT count(*)::int AS n FROM people")).rows[0].n).toBe(100);

    await env.target.query("ALTER TABLE people ADD COLUMN nickname text");
    const again = await run();
    expect(again.status, again.t.error).toBe("succeeded");
    expect(again.t.plan?.reason).not.toContain("drift:");
    expect(await fingerprint(env.target, "people")).toEqual(await fingerprint(env.source, "people"));
  });
});

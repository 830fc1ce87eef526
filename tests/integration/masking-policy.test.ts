// The personal-data policy and the masking preview against real PostgreSQL: a table with a flagged column that is
// neither masked nor decided on is refused before anything is written, naming the column; a recorded decision lets
// it through; the preview shows the source rows before and after the rules, and its "after" is exactly what a
// refresh writes for those rows (the same row path, `sql` rules included).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TableConfigDraft } from "../../lib/config/schema";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { previewMasking } from "../../lib/engine/masking/preview";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("personal data policy and masking preview", () => {
  let env: TestEnv;
  const table = (extra: Partial<TableConfigDraft>): TableConfigDraft => ({ name: "clients", strategy: "simple_copy", sync_mode: "full_replace", ...extra });
  const rules = [
    { column: "email", rule: "fake_email" as const },
    { column: "phone", rule: "partial" as const, keep_last: 2 },
    { column: "city", rule: "sql" as const, expression: "upper(left(city, 1)) || '…'" },
  ];

  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY = "masking-policy-key-0123456789";
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE clients (id int PRIMARY KEY, email text NOT NULL, phone text, city text, notes text)");
    await env.source.query(`INSERT INTO clients SELECT g, 'client' || g || '@corp.example', '+31 20 555 ' || lpad(g::text, 4, '0'), (ARRAY['Utrecht','Leiden','Delft'])[1 + g % 3],
      CASE WHEN g % 3 = 0 THEN 'call before delivery' END FROM generate_series(1, 2000) g`);
    await env.target.query("INSERT INTO clients VALUES (1, 'old@uat.example', NULL, NULL, NULL)");
  });
  afterAll(() => env?.close());

  it("refuses a flagged, unmasked column before writing, then runs once an admin recorded a decision", async () => {
    const before = await fingerprint(env.target, "clients");
    await env.config([table({ masking: rules, personal_data: [{ column: "email" }, { column: "notes", found: "column name notes" }] })]);
    const refused = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["clients"] });
    expect(refused.status).toBe("failed");
    expect(refused.tables[0].error).toBe(
      'public.clients: notes is flagged as personal data and not masked: add a masking rule for each, or have an admin record "no masking needed" with a reason (Admin > Masking)',
    );
    expect(await fingerprint(env.target, "clients")).toEqual(before);

    await env.config([table({ masking: rules, personal_data: [{ column: "email" }, { column: "notes", no_masking_needed: "delivery hints only, reviewed by the DPO", decided_by: "ada@example.test" }] })]);
    const ran = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["clients"] });
    expect(ran.status, ran.tables[0].error).toBe("succeeded");
    expect((await env.target.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE email LIKE '%@example.com')::int AS masked FROM clients")).rows[0]).toEqual({ n: 2000, masked: 2000 });
  });

  it("names a flagged column the table does not have", async () => {
    await env.config([table({ personal_data: [{ column: "e_mail" }] })]);
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["clients"], dryRun: true });
    expect(r.tables[0].error).toBe("personal_data: e_mail is not a column of public.clients");
  });

  it("previews source rows before and after, exactly as the refresh writes them, without writing anything", async () => {
    const config = await env.config([table({ masking: rules })]);
    const targetBefore = await fingerprint(env.target, "clients");
    const preview = await previewMasking(config, config.tables[0], 4);
    expect(await fingerprint(env.target, "clients")).toEqual(targetBefore);
    expect(preview.keyColumn).toBe("id");
    expect(preview.columns).toEqual([{ name: "email", rule: "fake_email" }, { name: "phone", rule: "partial" }, { name: "city", rule: "sql" }]);
    expect(preview.rows.map((r) => r.key)).toEqual(["1", "2", "3", "4"]);
    expect(preview.rows[0].values).toEqual([
      { before: "client1@corp.example", after: expect.stringMatching(/^[a-z]+\.[a-z]+\.[0-9a-f]{16}@example\.com$/) },
      { before: "+31 20 555 0001", after: "*************01" },
      { before: "Leiden", after: "L…" },
    ]);
    const ran = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["clients"] });
    expect(ran.status, ran.tables[0].error).toBe("succeeded");
    const written = (await env.target.query("SELECT id::text, email, phone, city FROM clients WHERE id <= 4 ORDER BY id")).rows;
    expect(written.map((r) => [r.email, r.phone, r.city])).toEqual(preview.rows.map((r) => r.values.map((v) => v.after)));
  });

  it("previews a table without a primary key in the order of a unique index", async () => {
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE badges (holder text NOT NULL, code text NOT NULL UNIQUE)");
    await env.source.query("INSERT INTO badges SELECT 'holder ' || g, 'B' || lpad((100 - g)::text, 3, '0') FROM generate_series(1, 50) g");
    const config = await env.config([{ name: "badges", strategy: "simple_copy", sync_mode: "full_replace", masking: [{ column: "holder", rule: "fake_full_name" }] }]);
    const preview = await previewMasking(config, config.tables[0], 3);
    expect(preview.keyColumn).toBe("code");
    expect(preview.rows.map((r) => [r.key, r.values[0].before])).toEqual([["B050", "holder 50"], ["B051", "holder 49"], ["B052", "holder 48"]]);
  });
});

// Masking administration against real PostgreSQL: the admin page's scan flags what it finds and audits names and
// reasons only (never a sampled value); rule changes are checked against the catalog before they are saved and
// audited with before/after; two changes at once cannot lose one another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withRule } from "../../lib/config/personal-data";
import { rowToTable } from "../../lib/config/store";
import { createTestEnv, type TestEnv } from "../support/env";

describe("masking administration", () => {
  let env: TestEnv;
  let admin: typeof import("../../server/masking");
  const table = async () => rowToTable(await env.db.tableConfig.findUniqueOrThrow({ where: { environment_name: { environment: env.environment, name: "members" } } }));
  const audits = (action: string) => env.db.auditEvent.findMany({ where: { action }, orderBy: { at: "asc" } });

  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY = "masking-admin-key-0123456789";
    env = await createTestEnv();
    process.env.DATABASE_URL = env.metaUrl;
    admin = await import("../../server/masking");
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE members (id int PRIMARY KEY, login text NOT NULL UNIQUE, email text, plan text NOT NULL)");
    await env.source.query("INSERT INTO members SELECT g, 'member' || g, 'm' || g || '@corp.example', (ARRAY['free','pro'])[1 + g % 2] FROM generate_series(1, 300) g");
    await env.config([{ name: "members", strategy: "simple_copy", sync_mode: "full_replace" }]);
  });
  afterAll(() => env?.close());

  it("the scan flags its findings once and audits no sampled value", async () => {
    const { findings, errors } = await admin.scanAndFlag(env.environment, "ada@example.test");
    expect(errors).toEqual([]);
    expect(findings.map((f) => [f.column, f.rule.rule])).toEqual([["email", "fake_email"]]);
    expect((await table()).personal_data).toEqual([{ column: "email", found: "200 of 200 sampled values are email addresses", suggested_rule: "fake_email" }]);
    await admin.scanAndFlag(env.environment, "ada@example.test"); // nothing new: no second flag
    expect((await table()).personal_data).toHaveLength(1);
    const [scan] = await audits("pii.scan");
    expect(scan).toMatchObject({ actor: "ada@example.test", target: "members" });
    expect(JSON.stringify(await env.db.auditEvent.findMany())).not.toMatch(/m\d+@corp\.example|member\d+/);
    const [flag, ...more] = await audits("masking.flag");
    expect(more).toEqual([]);
    expect(flag.details).toMatchObject({ by: "pii scan", before: {}, after: { personal_data: [{ column: "email" }] } });
  });

  it("checks a change against the catalog before saving it, and audits what it saved with before/after", async () => {
    const refused = await admin.changeTableMasking(env.environment, "members", withRule({ column: "login", rule: "fake_first_name" }), { actor: "ada@example.test", action: "masking.rules" });
    expect(refused.errors).toEqual(["masking: login is under a unique index and rule fake_first_name can give two rows the same value: use hash or fake_email (their outputs stay distinct)"]);
    const unknown = await admin.changeTableMasking(env.environment, "members", withRule({ column: "e_mail", rule: "fake_email" }), { actor: "ada@example.test", action: "masking.rules" });
    expect(unknown.errors[0]).toMatch(/^masking: e_mail is not a column of public\.members/);
    expect((await table()).masking).toBeUndefined();
    expect(await audits("masking.rules")).toEqual([]);

    const ok = await admin.changeTableMasking(env.environment, "members", withRule({ column: "email", rule: "fake_email" }), { actor: "ada@example.test", action: "masking.rules" });
    expect(ok.errors).toEqual([]);
    expect((await table()).masking).toEqual([{ column: "email", rule: "fake_email" }]);
    const [saved] = await audits("masking.rules");
    expect(saved.details).toMatchObject({ before: { personal_data: [{ column: "email" }] }, after: { masking: [{ column: "email", rule: "fake_email" }] } });
    expect((saved.details as { before: object }).before).not.toHaveProperty("masking");
  });

  it("two changes at once: one is saved, the other is told to reload, nothing is lost silently", async () => {
    const results = await Promise.all([
      admin.changeTableMasking(env.environment, "members", withRule({ column: "login", rule: "hash" }), { actor: "ada@example.test", action: "masking.rules" }),
      admin.changeTableMasking(env.environment, "members", withRule({ column: "plan", rule: "fixed", value: "free" }), { actor: "bob@example.test", action: "masking.rules" }),
    ]);
    const failed = results.filter((r) => r.errors.length);
    expect(failed).toHaveLength(1);
    expect(failed[0].errors).toEqual(["members was changed by someone else meanwhile: reload the page and try again"]);
    const rules = (await table()).masking!.map((r) => r.column);
    expect(rules).toContain("email");
    expect(rules).toHaveLength(2); // email and the one change that was saved
  });
});

// PII discovery against a real source: proposals from column names and from sampled values (emails, IBANs by
// check digits, card numbers by Luhn, phones), hash for unique columns, already-masked columns marked; the CLI
// prints the masking list to add and never a sampled value.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportConfig } from "../../lib/config/store";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { scanPii } from "../../lib/engine/pii";
import { runCli } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

describe("PII discovery", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target])
      await c.query(`CREATE TABLE clients (id int PRIMARY KEY, email text UNIQUE, given_name text, phone_number text, account_ref text, payment_token text,
        national_id text UNIQUE, birth_date date, notes text, amount numeric(10,2), contact text)`);
    await env.source.query(`INSERT INTO clients SELECT g, 'client' || g || '@mail.example', 'Name' || g, '+31 20 555 ' || lpad(g::text, 4, '0'),
      (ARRAY['GB82WEST12345698765432', 'DE89370400440532013000', 'NL91ABNA0417164300'])[1 + g % 3],
      (ARRAY['4111111111111111', '5500005555555559', '378282246310005'])[1 + g % 3],
      'ID-' || g, date '1960-01-01' + g, 'free text ' || g, g * 1.5, 'reach me at someone' || g || '@mail.example' FROM generate_series(1, 500) g`);
    await env.config([{ name: "clients", strategy: "simple_copy", sync_mode: "full_replace", masking: [{ column: "email", rule: "fake_email" }] }]);
  });
  afterAll(() => env?.close());

  it("proposes a rule for every personal column, and none for the others", async () => {
    const findings = await scanPii(await exportConfig(env.db));
    const by = Object.fromEntries(findings.map((f) => [f.column, f]));
    expect(Object.fromEntries(findings.map((f) => [f.column, f.rule.rule]))).toEqual({
      email: "fake_email",
      given_name: "fake_first_name",
      phone_number: "fake_phone",
      account_ref: "fake_iban",
      payment_token: "fake_card_number",
      national_id: "hash",
      birth_date: "fake_date_of_birth",
      contact: "null",
    });
    expect(by.email.masked).toBe(true);
    expect(by.given_name.masked).toBe(false);
    expect(by.account_ref.reason).toBe("200 of 200 sampled values are IBANs (valid check digits)");
    expect(by.payment_token.reason).toBe("200 of 200 sampled values are card numbers (Luhn-valid)");
    expect(by.contact.reason).toBe("200 of 200 sampled values contain email addresses");
    expect(by.national_id.reason).toBe("column name national_id");
  });

  it("a bare name column is a person's name only in a table of people (a product's or a category's name is not)", async () => {
    for (const c of [env.source, env.target])
      await c.query(`CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL); CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE categories (id int PRIMARY KEY, full_name text NOT NULL)`);
    await env.source.query(`INSERT INTO customers SELECT g, 'Person ' || g FROM generate_series(1, 50) g;
      INSERT INTO products SELECT g, 'Widget ' || g FROM generate_series(1, 50) g; INSERT INTO categories SELECT g, 'Garden / Tools ' || g FROM generate_series(1, 50) g`);
    const config = await exportConfig(env.db);
    const findings = await scanPii({ ...config, tables: ["customers", "products", "categories"].map((name) => ({ ...config.tables[0], name, masking: undefined })) });
    expect(findings.map((f) => [f.table, f.column, f.rule.rule, f.reason])).toEqual([["customers", "name", "fake_full_name", "column name name in a table of people (customers)"]]);
  });

  it("the CLI prints the masking list to add, and no sampled value", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "pii-")), "c.yaml");
    const config = await exportConfig(env.db);
    writeFileSync(file, JSON.stringify(config)); // YAML is a superset of JSON
    const r = await runCli(["--scan-pii", "--config", file], { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain("Proposed additions to config.yaml (review each one):\n  - name: clients\n    masking:\n      - { column: given_name, rule: fake_first_name }");
    expect(r.output).toContain("      - { column: national_id, rule: hash }");
    // the personal_data list keeps the policy on every finding, the masked one included
    expect(r.output).toMatch(/    personal_data:\n(      - \{ column: \w+, found: "[^"]+" \}\n)*      - \{ column: email, found: "[^"]+" \}/);
    expect(r.output).not.toContain("{ column: email, rule:");
    expect(r.output).not.toMatch(/client\d+@mail\.example|GB82WEST|4111111111111111|ID-\d/);
  });
});

// Export is lossless: a configuration with every field set (masking rules, personal-data flags, "no masking needed"
// decisions, fire_triggers, disabled tables, every setting) goes into the metadata DB and comes back out identical,
// and importing an unchanged export changes nothing.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffConfig, isEmptyDiff } from "../../lib/config/diff";
import { settingsSchema, tableSchema } from "../../lib/config/schema";
import { exportConfig, importConfig } from "../../lib/config/store";
import { parseConfigYaml, stringifyConfig } from "../../lib/config/yaml";
import { createTestEnv, type TestEnv } from "../support/env";

const EXTRA = `
  - name: weekly_reports
    strategy: staging_partition_switch
    partition_column: report_date
  - name: members
    schema: crm
    strategy: simple_copy
    sync_mode: full_replace
    truncate_target: false
    fire_triggers: true
    enabled: false
    masking:
      - { column: email, rule: fake_email }
      - { column: phone, rule: partial, keep_last: 4, mask_char: "#" }
      - { column: born, rule: date_shift, days: 30 }
      - { column: note, rule: sql, expression: "LEFT(note, 3)" }
      - { column: vip, rule: fixed, value: "no" }
    keep_referencing:
      - { foreign_key: notes_member_fk, table: crm.member_notes, reason: "notes are written in UAT by the testers", decided_by: ada@example.test }
    keep_rows: "member_type = 'tester'"
    keep_columns: [portal_url]
    reviewed_columns: [id, email, phone, born, note, vip, member_type, portal_url]
  - name: payments
    strategy: simple_copy
    sync_mode: incremental
    incremental_column: id
    incremental_type: identity
    identity_buffer: 500
    uat_ids_from: 1500000000
    verify: false
  - name: queue_items
    sync_mode: full_replace
    allow_shrink: true
  - name: tester_notes
    keep_table: true
    personal_data:
      - { column: email, found: "200 of 200 sampled values are email addresses", suggested_rule: fake_email }
      - { column: nickname, found: "column name", no_masking_needed: "chosen by members, public on the site", decided_by: ada@example.test }
`;

describe("configuration export and import", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(() => env?.close());

  it("export -> import -> export is identical, every field kept, and re-importing the export shows no change", async () => {
    const base = readFileSync("tests/fixtures/config-full.yaml", "utf8").replace("\nsettings:", `${EXTRA}\nsettings:\n  max_streams_per_table: 3\n  min_rows_per_stream: 100000\n  reserve_uat_ids: false\n  review_new_columns: false\n  history_retention_days: 90\n  audit_retention_days: 730\n  min_source_rows_percent: 20`);
    const steps = `\npost_refresh_steps:\n  - { name: cut email, tables: [members], sql: "UPDATE crm.members SET email = 'x@example.invalid'" }\n  - { name: log, enabled: false, description: who and when, sql: "INSERT INTO log VALUES (@run_id)" }\n`;
    const original = parseConfigYaml(base + steps);
    expect(original.post_refresh_steps).toHaveLength(2);
    await importConfig(env.db, original);
    const first = stringifyConfig(await exportConfig(env.db));
    const reparsed = parseConfigYaml(first);
    expect(reparsed).toEqual(original);
    // Every table field the schema knows is exercised by this configuration, so a new field must be exported too.
    const used = new Set(original.tables.flatMap((t) => Object.keys(t)));
    expect(Object.keys(tableSchema.shape).filter((k) => !used.has(k))).toEqual([]);
    // And every setting.
    expect(Object.keys(settingsSchema.shape).filter((k) => !(k in original.settings))).toEqual([]);

    expect(isEmptyDiff(diffConfig(await exportConfig(env.db), reparsed))).toBe(true);
    await importConfig(env.db, reparsed);
    expect(stringifyConfig(await exportConfig(env.db))).toBe(first);
    expect(first).toContain("no_masking_needed");
    expect(first).toContain("fire_triggers: true");
    expect(first).toContain("keep_referencing");
  });
});

// The admin table form reads and writes what UAT keeps with the same schema as config.yaml.
import { describe, expect, it } from "vitest";
import { parseTableForm, valuesFromTable, withStoredFields } from "../../lib/config/form";
import { tableSchema } from "../../lib/config/schema";

describe("the admin table form", () => {
  it("round-trips keep_rows, keep_columns, keep_table, uat_ids_from and identity_buffer", () => {
    const values = {
      name: "orders", schema: "", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "id", incremental_type: "identity",
      partition_column: "", partition_function: "", partition_scheme: "", keep_rows: "created_by = 'tester'", date_buffer_days: "", batch_size: "",
      identity_buffer: "500", uat_ids_from: "2000000000", truncate_target: true, fire_triggers: false, enabled: true, keep_table: false, keep_columns: "notes, site_url",
    };
    const { table, errors } = parseTableForm(values);
    expect(errors).toEqual({});
    expect(table).toMatchObject({ keep_rows: "created_by = 'tester'", keep_columns: ["notes", "site_url"], identity_buffer: 500, uat_ids_from: 2_000_000_000 });
    expect(table!.keep_table).toBeUndefined();
    expect(valuesFromTable(table!)).toMatchObject({ keep_rows: "created_by = 'tester'", keep_columns: "notes, site_url", identity_buffer: "500", keep_table: false });
  });

  it("names the field and the reason for what the schema refuses", () => {
    const base = { name: "orders", strategy: "simple_copy", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
    expect(parseTableForm({ ...base, keep_table: true, keep_rows: "id > 5" }).errors.keep_table).toMatch(/keep_rows and keep_columns have nothing left to do/);
    expect(parseTableForm({ ...base, identity_buffer: "10" }).errors.identity_buffer).toMatch(/applies only with incremental_type: identity/);
    // Names are checked against the catalog (any name a catalog can hold passes here); one longer than sysname cannot.
    expect(parseTableForm({ ...base, keep_columns: `ok, ${"x".repeat(129)}` }).errors.keep_columns).toMatch(/^keep_columns\[1\]: must be at most 128 characters/);
  });

  it("a save keeps what the form does not edit (the reviewed columns, verify, masking), and takes what it does", () => {
    const stored = tableSchema.parse({
      name: "customers", strategy: "simple_copy", sync_mode: "full_replace", batch_size: 1000, keep_rows: "created_by = 'tester'", verify: false,
      reviewed_columns: ["id", "name", "email"], masking: [{ column: "email", rule: "fake_email" }], personal_data: [{ column: "phone", found: "new in production since the table's last personal-data review" }],
    });
    // The admin changed the batch size and cleared the keep rule.
    const { table } = parseTableForm({ ...valuesFromTable(stored), batch_size: "5000", keep_rows: "" });
    const saved = withStoredFields(table!, stored);
    expect(saved).toMatchObject({ batch_size: 5000, verify: false, reviewed_columns: ["id", "name", "email"], masking: stored.masking, personal_data: stored.personal_data });
    expect(saved.keep_rows).toBeUndefined();
    // Before: the form's table alone, which lost them (the next run would take every column production has as reviewed).
    expect(table!.reviewed_columns).toBeUndefined();
  });
});

// New columns reviewed before they flow, on real PostgreSQL: the first refresh records the columns it copies; a
// column production and UAT gain later is flagged on the masking page and refuses the table until an admin decides
// it; the decision lets it through (masked); the installation can turn the rule off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffConfig } from "../../lib/config/diff";
import { withRule } from "../../lib/config/personal-data";
import { exportConfig, importConfig, rowToTable, tableToRow } from "../../lib/config/store";
import { runRefresh } from "../../lib/engine/runner";
import { createTestEnv, type TestEnv } from "../support/env";

describe("new columns reviewed before they flow", () => {
  let env: TestEnv;
  const run = async () => {
    const r = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test", tables: ["members"] });
    return { ...r, t: r.tables[0] };
  };

  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY ??= "a masking key for the new-column test";
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE members (id int PRIMARY KEY, nickname text)");
    await env.source.query("INSERT INTO members SELECT g, 'n' || g FROM generate_series(1, 20) g");
    await env.config([{ name: "members", sync_mode: "full_replace" }]);
  });
  afterAll(() => env?.close());

  it("the first refresh records the columns it copies as reviewed", async () => {
    expect((await run()).status).toBe("succeeded");
    expect((await env.db.tableConfig.findUniqueOrThrow({ where: { environment_name: { environment: env.environment, name: "members" } } })).reviewedColumns).toEqual(["id", "nickname"]);
  });

  it("re-importing a file that states no reviewed columns (the original config.yaml) keeps the recorded ones, and the diff says nothing changed", async () => {
    const stored = await exportConfig(env.db);
    const file = { ...stored, tables: stored.tables.map((t) => ({ ...t, reviewed_columns: undefined })) };
    expect(diffConfig(stored, file).changed).toEqual([]);
    await importConfig(env.db, file);
    expect((await env.db.tableConfig.findUniqueOrThrow({ where: { environment_name: { environment: env.environment, name: "members" } } })).reviewedColumns).toEqual(["id", "nickname"]);
  });

  it("a column production gains is flagged and refuses the table until decided; nothing of it reaches UAT", async () => {
    for (const c of [env.source, env.target]) await c.query("ALTER TABLE members ADD COLUMN ssn text");
    await env.source.query("UPDATE members SET ssn = '123-45-' || lpad(id::text, 4, '0')");
    const refused = await run();
    expect(refused.status).toBe("failed");
    expect(refused.t.error).toBe(
      'public.members: ssn appeared in production since the table\'s last personal-data review and would be copied as it is: decide on Admin > Masking (a masking rule, or "no masking needed" with a reason), where it is now listed',
    );
    expect((await env.target.query("SELECT count(*)::int AS n FROM members WHERE ssn IS NOT NULL")).rows[0].n).toBe(0);
    const row = await env.db.tableConfig.findUniqueOrThrow({ where: { environment_name: { environment: env.environment, name: "members" } } });
    expect(rowToTable(row).personal_data).toEqual([{ column: "ssn", found: "new in production since the table's last personal-data review" }]);
    expect(await env.db.auditEvent.count({ where: { action: "masking.flag", target: "members" } })).toBe(1);
    // Still refused (flagged, undecided) until an admin decides: here a masking rule.
    expect((await run()).t.error).toMatch(/ssn is flagged as personal data and not masked/);
    const table = rowToTable(row);
    const decided = withRule({ column: "ssn", rule: "hash" })({ masking: table.masking, personal_data: table.personal_data });
    await env.db.tableConfig.update({ where: { id: row.id }, data: tableToRow({ ...table, ...decided }, row.position) });
    const ok = await run();
    expect(ok.status, ok.t.error).toBe("succeeded");
    const copied = await env.target.query("SELECT count(*)::int AS n FROM members WHERE ssn LIKE '123-45-%'");
    expect(copied.rows[0].n).toBe(0);
  });

  it("settings.review_new_columns: false lets new columns through as before", async () => {
    const config = await exportConfig(env.db);
    await importConfig(env.db, { ...config, settings: { ...config.settings, review_new_columns: false } });
    for (const c of [env.source, env.target]) await c.query("ALTER TABLE members ADD COLUMN team text");
    expect((await run()).status).toBe("succeeded");
  });
});

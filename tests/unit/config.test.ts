import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/schema";
import { loadConfigFile, parseConfigYaml, stringifyConfig } from "../../lib/config/yaml";

function issuesOf(text: string): string[] {
  try {
    parseConfigYaml(text, "bad.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

const base = readFileSync("tests/fixtures/config-full.yaml", "utf8");

describe("config.yaml validation", () => {
  it("accepts the shipped examples and round-trips them", () => {
    for (const file of ["config/config.yaml", "config/config-test.yaml", "tests/fixtures/config-full.yaml"]) {
      const config = loadConfigFile(file);
      expect(config.tables.length).toBeGreaterThan(2);
      expect(parseConfigYaml(stringifyConfig(config))).toEqual(config);
    }
  });

  it("reports YAML syntax errors with line and column", () => {
    const issues = issuesOf("databases:\n  source: [unclosed\n");
    expect(issues[0]).toMatch(/^line \d+, column \d+: /);
  });

  it("names the field path and the reason", () => {
    const text = base.replace("incremental_type: identity", "incremental_type: serial").replace("max_retries: 3", "max_retries: -1");
    expect(issuesOf(text)).toEqual([
      expect.stringMatching(/^tables\[1\]\.incremental_type: Invalid option: expected one of "identity"\|"date"\|"datetime"/),
      expect.stringMatching(/^settings\.max_retries: Too small: expected number to be >=0/),
    ]);
  });

  it("requires incremental settings for incremental modes", () => {
    const text = base.replace("    incremental_column: order_id\n", "");
    expect(issuesOf(text)).toEqual(["tables[1].incremental_column: is required when sync_mode is smart_sync"]);
  });

  it("refuses unknown keys, duplicate tables, mixed engines and bad env var names", () => {
    const text = base
      .replace("truncate_target: true", "truncate_target: true\n    truncate_targte: false")
      .replace("  - name: orders\n", "  - name: CUSTOMERS\n")
      .replace("password_env: TARGET_DB_PASSWORD", "password_env: TARGET-DB;PASSWORD")
      .replace("    engine: sqlserver\n    server: uat", "    engine: postgres\n    server: uat");
    const issues = issuesOf(text);
    expect(issues).toContain('tables[0]: Unrecognized key: "truncate_targte"');
    expect(issues).toContain("tables[1].name: duplicates tables[0]");
    expect(issues).toContain("databases.target.password_env: must be an environment variable name (letters, digits, _)");
    expect(issues).toContain("databases.target.engine: must match the source engine (rows stream in the engine's native bulk format)");
  });

  it("refuses identifiers no catalog can hold, and accepts hostile-looking ones (they are quoted)", () => {
    expect(issuesOf(base.replace("name: customers", 'name: ""'))).toEqual(["tables[0].name: must not be empty"]);
    expect(issuesOf(base.replace("name: customers", 'name: "a\\u0000b"'))).toEqual(["tables[0].name: must not contain control characters"]);
    const hostile = parseConfigYaml(base.replace("name: customers", `name: "x\\"; DROP TABLE y; --"`));
    expect(hostile.tables[0].name).toBe('x"; DROP TABLE y; --');
  });

  it("loads the original tool's config.yaml verbatim, auth_type included", () => {
    const config = loadConfigFile("config/config.yaml");
    expect(config.databases.source).toEqual({ engine: "sqlserver", server: "prod-sql-server", database: "ProductionDB", auth_type: "windows", options: {} });
    expect(config.databases.target.auth_type).toBe("sql");
    expect(config.tables.map((t) => [t.name, t.strategy, t.sync_mode])).toEqual([
      ["Users", "simple_copy", "full_replace"],
      ["Orders", "simple_copy", "incremental"],
      ["DailyReports", "staging_partition_switch", "incremental"],
    ]);
    expect(config.tables[2]).toMatchObject({ incremental_column: "report_date", incremental_type: "date", date_buffer_days: 7, partition_function: "pf_DailyReports" });
  });

  it("says where auth_type does not fit", () => {
    const original = readFileSync("config/config.yaml", "utf8");
    expect(issuesOf(original.replace('auth_type: "sql"', 'auth_type: "kerberos"'))).toEqual([expect.stringMatching(/^databases\.target\.auth_type: Invalid option: expected one of "sql"\|"windows"/)]);
    const pg = original.replace('server: "prod-sql-server"', 'engine: postgres\n    server: "prod-sql-server"').replace('server: "uat-sql-server"', 'engine: postgres\n    server: "uat-sql-server"');
    expect(issuesOf(pg)).toEqual(["databases.source.auth_type: windows authentication is for SQL Server; PostgreSQL logins use username_env/password_env"]);
    expect(issuesOf(original.replace('auth_type: "sql"', 'auth_type: "sql"\n    options: { authentication: ntlm }'))).toEqual(["databases.target.options.authentication: conflicts with auth_type sql: set one of them"]);
  });

  it("gives a clear error for an empty document", () => {
    expect(issuesOf("")).toEqual(["databases: Invalid input: expected object, received undefined"]);
  });
});

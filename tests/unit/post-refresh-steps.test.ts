// Post-refresh steps in config.yaml and their parameters: field paths and reasons for what cannot run, and the run's
// facts bound as parameters (never pasted), only where they are parameters.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, postRefreshStepSchema } from "../../lib/config/schema";
import { STEP_TEMPLATES, templatesFor } from "../../lib/config/step-templates";
import { tsqlErrors } from "../support/tsql-check";
import { parseConfigYaml } from "../../lib/config/yaml";
import { bindStepParameters, stepParameterProblem, stepParametersUsed, stepValues } from "../../lib/config/step-parameters";

const base = readFileSync("tests/fixtures/config-full.yaml", "utf8");
const values = { run_id: "run-1", run_started_at: "2026-12-03 10:00:00.000", triggered_by: "ada" };

function issuesOf(steps: string): string[] {
  try {
    parseConfigYaml(`${base}\npost_refresh_steps:\n${steps}`, "bad.yaml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("post_refresh_steps in config.yaml", () => {
  it("loads steps as written, enabled unless said otherwise", () => {
    const config = parseConfigYaml(`${base}\npost_refresh_steps:\n  - name: jobs off\n    sql: UPDATE cron.job SET active = false\n`);
    expect(config.post_refresh_steps).toEqual([{ name: "jobs off", sql: "UPDATE cron.job SET active = false", enabled: true }]);
  });

  it("names the field and the reason for every step that cannot run", () => {
    const table = parseConfigYaml(base).tables[0].name;
    expect(
      issuesOf(
        [
          `  - { name: a, sql: "UPDATE t SET x = 'open", tables: [${table}] }`,
          "  - { name: A, sql: SELECT 1, tables: [ghost] }",
          "  - { name: c, sql: '' }",
          "  - { name: d, sql: SELECT 1, when: always }",
          '  - { name: e, sql: "EXEC dbo.jobs_off\\nGO" }',
        ].join("\n"),
      ),
    ).toEqual([
      "post_refresh_steps[2].sql: must not be empty",
      `post_refresh_steps[3]: Unrecognized key: "when"`,
      "post_refresh_steps[0].sql: has an unterminated string literal starting at character 18",
      "post_refresh_steps[1].name: another step is named A",
      "post_refresh_steps[1].tables[0]: ghost is not a configured table",
      "post_refresh_steps[4].sql: line 2 is GO, a batch separator of sqlcmd and SSMS, not SQL: make each batch a step of its own",
    ]);
  });
});

describe("step parameters", () => {
  it("binds the run's facts as the engine's placeholders, each value once", () => {
    const sql = "INSERT INTO log VALUES (@run_id, @run_started_at, @triggered_by, @run_id)";
    expect(bindStepParameters(sql, "postgres", values)).toEqual({ sql: "INSERT INTO log VALUES ($1, $2, $3, $1)", params: ["run-1", "2026-12-03 10:00:00.000", "ada"] });
    expect(bindStepParameters(sql, "sqlserver", values)).toEqual({ sql: "INSERT INTO log VALUES (@p1, @p2, @p3, @p1)", params: ["run-1", "2026-12-03 10:00:00.000", "ada"] });
  });

  it("leaves names alone inside literals, quoted names, comments and dollar quotes, and T-SQL's own variables", () => {
    const sql = [
      "DECLARE @name sysname; -- @run_id in a comment",
      "SELECT '@run_id', [@run_id], \"@triggered_by\", @@ROWCOUNT /* @run_id */, $$ @run_id $$, $x$ @run_id $x$, @RUN_ID",
    ].join("\n");
    const bound = bindStepParameters(sql, "postgres", values);
    expect(bound.params).toEqual(["run-1"]);
    expect(bound.sql).toBe(sql.replace(", @RUN_ID", ", $1"));
    expect(stepParametersUsed("UPDATE t SET a = @triggered_by WHERE b = @run_id")).toEqual(["triggered_by", "run_id"]);
  });

  it("refuses text whose literal, comment or dollar quote never ends, saying where it starts", () => {
    expect(() => bindStepParameters("UPDATE t SET a = 'x", "postgres", values)).toThrow("the step's SQL has an unterminated string literal starting at character 18");
    expect(() => bindStepParameters("SELECT 1 /* x", "sqlserver", values)).toThrow("has an unterminated comment starting at character 10");
    expect(() => bindStepParameters("DO $body$ BEGIN END", "postgres", values)).toThrow("unterminated dollar quote $body$");
  });

  it("refuses a script's GO line, the batch separator of sqlcmd and SSMS that no server understands, saying which line", () => {
    // GO "is not a Transact-SQL statement; it is a command recognized by the sqlcmd and osql utilities and SQL Server
    // Management Studio Code editor" (Microsoft Learn, SQL Server Utilities Statements - GO).
    const script = ["UPDATE dbo.settings SET value = 'uat'", "GO", "EXEC dbo.reset_jobs", "  go 2  -- twice", "SELECT 1"].join("\r\n");
    expect(stepParameterProblem(script, "sqlserver")).toBe("line 2 is GO, a batch separator of sqlcmd and SSMS, not SQL: make each batch a step of its own");
    expect(() => bindStepParameters("SELECT 1\ngo", "sqlserver", values)).toThrow("line 2 is GO");
    // GO inside a literal, a comment or a name, or as part of a line, is left alone.
    for (const fine of ["SELECT 'x\nGO\n'", "SELECT 1 /*\nGO\n*/", "SELECT [a\nGO\nb]", "GOTO done", "SELECT 1 AS go", "SELECT 1\n-- GO"]) expect(stepParameterProblem(fine, "sqlserver")).toBeNull();
    // PostgreSQL has no such separator: a column named go may stand on its own line.
    expect(stepParameterProblem("SELECT id,\ngo\nFROM t", "postgres")).toBeNull();
  });

  it("refuses a PostgreSQL statement that begins or ends a transaction, naming it; savepoints and blocks are fine", () => {
    const said = (sql: string) => stepParameterProblem(sql, "postgres")?.replace(/:.*/, "") ?? null;
    expect(said("UPDATE t SET a = 1;\n  commit;")).toBe("statement 2 is COMMIT");
    expect(said("-- reset\nBEGIN; UPDATE t SET a = 1; END;")).toBe("statement 1 is BEGIN");
    expect(said("UPDATE t SET a = 1; /* undo */ ROLLBACK")).toBe("statement 2 is ROLLBACK");
    expect(said("ROLLBACK PREPARED 'x'")).toBe("statement 1 is ROLLBACK");
    expect(said("start  transaction isolation level serializable")).toBe("statement 1 is START TRANSACTION");
    expect(said("PREPARE TRANSACTION 'x'")).toBe("statement 1 is PREPARE TRANSACTION");
    expect(said("ABORT")).toBe("statement 1 is ABORT");
    for (const fine of [
      "SAVEPOINT s; UPDATE t SET a = 1; ROLLBACK TO SAVEPOINT s; RELEASE SAVEPOINT s",
      "ROLLBACK WORK TO s; ROLLBACK TRANSACTION TO SAVEPOINT s",
      "DO $$ BEGIN UPDATE t SET a = 1; END $$",
      "SELECT CASE WHEN a THEN 1 END FROM t; UPDATE t SET commit = 1",
      "SELECT 'x; COMMIT'; -- COMMIT\nSELECT 1",
      "PREPARE q AS SELECT 1; EXECUTE q",
      "UPDATE beginnings SET ended = true",
    ])
      expect(said(fine), fine).toBeNull();
    // SQL Server nests transactions: a step's own BEGIN TRANSACTION ... COMMIT is checked by the count at run time.
    expect(stepParameterProblem("BEGIN TRANSACTION; UPDATE t SET a = 1; COMMIT", "sqlserver")).toBeNull();
  });

  it("refuses a SQL Server step with two COMMITs more than its BEGIN TRANSACTIONs, which the level it runs at cannot absorb", () => {
    // "If @@TRANCOUNT is greater than 1, COMMIT TRANSACTION ... only decrements @@TRANCOUNT by 1" (Microsoft Learn,
    // COMMIT TRANSACTION): the step's one level deeper absorbs one stray COMMIT (caught at run time), not two.
    const said = (sql: string) => stepParameterProblem(sql, "sqlserver")?.replace(/:.*/, "") ?? null;
    expect(said("UPDATE t SET a = 1; COMMIT; COMMIT")).toBe("has 2 COMMITs for 0 BEGIN TRANSACTIONs");
    expect(said("BEGIN TRAN\nUPDATE t SET a = 1\ncommit tran\nCOMMIT WORK\nCommit")).toBe("has 3 COMMITs for 1 BEGIN TRANSACTION");
    for (const fine of [
      "COMMIT", // one: absorbed by the step's own level and failed at run time, nothing kept
      "BEGIN TRANSACTION; UPDATE t SET a = 1; COMMIT TRANSACTION; BEGIN DISTRIBUTED TRAN; EXEC p; COMMIT",
      "BEGIN TRAN; IF @ok = 1 COMMIT ELSE BEGIN ROLLBACK; COMMIT END", // branches: one COMMIT over its BEGIN
      "UPDATE t SET [commit] = 1, \"COMMIT\" = 2; SELECT 'COMMIT; COMMIT' -- COMMIT COMMIT\n/* COMMIT COMMIT */",
      "EXEC dbo.sp_commit; EXEC dbo.commit_log; SET @commit = 1; SELECT * INTO #commit FROM commits",
      "BEGIN TRY COMMIT; END TRY BEGIN CATCH END CATCH",
    ])
      expect(said(fine), fine).toBeNull();
    // PostgreSQL refuses the first COMMIT by its own rule (it has no nested transactions).
    expect(stepParameterProblem("COMMIT; COMMIT", "postgres")).toMatch(/^statement 1 is COMMIT: /);
  });

  it("gives the run's start in UTC, in a form both engines convert to a date-time", () => {
    expect(stepValues({ id: "r", startedAt: new Date("2026-12-03T10:11:12.345Z"), triggeredBy: "x" }).run_started_at).toBe("2026-12-03 10:11:12.345");
  });
});

describe("step templates", () => {
  it("every SQL Server template is T-SQL the grammar accepts, with the run's parameters bound (syntax only: see the conformance suite for a run)", () => {
    // The grammar (antlr4ts-sql) predates GRANT ... ON SCHEMA::; that template runs on the TDS server in
    // tests/conformance/sqlserver-rules.test.ts with the others.
    const rejected = templatesFor("sqlserver").filter((t) => t.id !== "sqlserver-grants").flatMap((t) => {
      const bound = bindStepParameters(t.sql, "sqlserver", values);
      const declared = bound.params.map((_, i) => `DECLARE @p${i + 1} nvarchar(4000);\n`).join("");
      const errors = tsqlErrors(declared + bound.sql);
      return errors.length ? [`${t.id}: ${errors[0].slice(0, 80)}`] : [];
    });
    expect(rejected).toEqual([]);
  });

  it("every template loads as a step of its engine's configuration", () => {
    for (const t of STEP_TEMPLATES) {
      const step = postRefreshStepSchema.parse({ name: t.title, sql: t.sql, tables: t.tables });
      expect(stepParameterProblem(step.sql, t.engine), t.id).toBeNull();
    }
    expect(new Set(STEP_TEMPLATES.map((t) => t.id)).size).toBe(STEP_TEMPLATES.length);
  });
});

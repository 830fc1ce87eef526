// What admin-written SQL may be (lib/dialects/expression) and what the SQL Server source session lets through
// (lib/dialects/sqlserver/read-only): each injection the review found, refused; every statement the dialect itself
// sends to a source, accepted.
import { describe, expect, it } from "vitest";
import { checkExpression, parseExpression } from "../../lib/dialects/expression";
import { sourceStatementProblem } from "../../lib/dialects/sqlserver/read-only";
import { sqlServerCompiler } from "../../lib/dialects/sqlserver/compiler";
import { SQL } from "../../lib/dialects/sqlserver/introspector";
import { DRIVER_SQL } from "../../lib/dialects/sqlserver/driver";
import type { ColumnInfo } from "../../lib/dialects/types";

describe("admin-written expressions: one value, nothing else", () => {
  it("accepts the expressions masking rules and keep rules are written with, on both engines", () => {
    expect(parseExpression("'user' || id || '@example.com'", "postgres").columns).toEqual(["id"]);
    expect(parseExpression("CASE WHEN status = 'vip' THEN upper(left(name, 1)) ELSE NULL END", "postgres").columns).toEqual(["status", "name"]);
    expect(parseExpression('md5("E-mail")::text', "postgres").columns).toEqual(["E-mail"]);
    expect(parseExpression("created_at + interval '3 days'", "postgres").columns).toEqual(["created_at"]);
    expect(parseExpression("substring(phone from 1 for 3)", "postgres").columns).toEqual(["phone"]);
    expect(parseExpression("CONCAT(N'user', CAST([Id] AS nvarchar(20)), N'@example.com')", "sqlserver").columns).toEqual(["Id"]);
    expect(parseExpression("CONVERT(varchar(64), HASHBYTES('SHA2_256', email), 2)", "sqlserver").columns).toEqual(["email"]);
    expect(parseExpression("DATEADD(day, 7, born)", "sqlserver").columns).toEqual(["born"]);
    expect(parseExpression("tester_account = 1 OR id >= 2000000000", "sqlserver").columns).toEqual(["tester_account", "id"]);
  });

  it("refuses statement separators, comments, subqueries, variables, unknown functions and unbalanced parentheses, saying what and where", () => {
    const pg = (x: string) => () => parseExpression(x, "postgres");
    const ms = (x: string) => () => parseExpression(x, "sqlserver");
    // the review's PostgreSQL attack: end the COPY's SELECT, lift read-only, write
    expect(pg("'x'); COMMIT; SET TRANSACTION READ WRITE; UPDATE users SET email = 'pwned'; SELECT ('x'")).toThrow(/closing parenthesis without its opening one|statement separator/);
    expect(pg("'x' ; UPDATE users SET email = 'pwned'")).toThrow("a statement separator (;) is not allowed at character 5");
    expect(pg("email -- comment")).toThrow(/comments are not allowed/);
    expect(pg("email /* x */")).toThrow(/comments are not allowed/);
    expect(pg("(SELECT password FROM pg_authid LIMIT 1)")).toThrow(/SELECT is not allowed/);
    expect(pg("pg_sleep(10)")).toThrow(/function pg_sleep is not allowed/);
    expect(pg("set_config('default_transaction_read_only', 'off', false)")).toThrow(/function set_config is not allowed/);
    expect(pg("public.lower(email)")).toThrow(/character "\." is not allowed/);
    expect(pg("E'\\x27'")).toThrow(/literal prefix E/);
    expect(pg("$$x$$")).toThrow(/character "\$" is not allowed/);
    expect(pg("lower(email")).toThrow("unbalanced parentheses");
    expect(pg("'a\\' || email")).toThrow(/backslash inside a string literal/);
    // the review's SQL Server attack, with and without a separator (T-SQL needs none between statements)
    expect(ms("N'x') AS [email] FROM [Users]; UPDATE [Users] SET [email] = N'pwned'; SELECT (N'x'")).toThrow(/statement separator/);
    expect(ms("N'x') AS [email] FROM [Users] UPDATE [Users] SET [email] = N'pwned' SELECT (N'x'")).toThrow(/closing parenthesis without its opening one/);
    expect(ms("N'x') AS [email] FROM [dbo].[Users]")).toThrow(/character "\." is not allowed/);
    expect(ms("email UPDATE [Users] SET email = 'x'")).toThrow(/UPDATE is not allowed/);
    expect(ms("email EXEC xp_cmdshell 'dir'")).toThrow(/EXEC is not allowed/);
    expect(ms("@@version")).toThrow(/character "@" is not allowed/);
    expect(ms("OPENROWSET('SQLNCLI', 'x', 'y')")).toThrow(/function OPENROWSET is not allowed/);
    expect(ms("\"email\"")).toThrow(/character "\\"" is not allowed/);
  });

  it("checks every name against the table's columns", () => {
    expect(() => checkExpression("lower(emial)", "postgres", ["id", "email"], "masking: the sql rule of email")).toThrow(
      "masking: the sql rule of email: emial is not a column of the table (columns: id, email)",
    );
    expect(checkExpression("lower(EMAIL)", "postgres", ["id", "email"], "x")).toBe("lower(EMAIL)");
  });
});

describe("the SQL Server source session: one plain SELECT per request", () => {
  it("refuses a second statement whether or not a separator stands between them", () => {
    expect(sourceStatementProblem("SELECT [a] FROM [dbo].[Users]; UPDATE [dbo].[Users] SET [a] = 1")).toBe("a statement separator (;)");
    expect(sourceStatementProblem("SELECT [a] FROM [dbo].[Users] UPDATE [dbo].[Users] SET [a] = 1")).toBe("the keyword UPDATE");
    expect(sourceStatementProblem("SELECT [a] INTO [dbo].[copy] FROM [dbo].[Users]")).toBe("the keyword INTO");
    expect(sourceStatementProblem("SELECT NEXT VALUE FOR [dbo].[seq]")).toBe("NEXT VALUE FOR (it advances a sequence)");
    expect(sourceStatementProblem("EXEC sp_who")).toBe("a statement that is not a SELECT");
    expect(sourceStatementProblem("SELECT @@VERSION")).toBe("a system variable");
    expect(sourceStatementProblem("SELECT 1 -- x")).toBe("a comment");
    // words inside literals and bracketed names are data, not statements
    expect(sourceStatementProblem("SELECT [update], N'DELETE; it' AS [x] FROM [dbo].[exec] WHERE [a] = @p1")).toBeNull();
  });

  it("accepts every statement the dialect itself sends to a source", () => {
    const id: ColumnInfo = { name: "id", nativeType: "bigint", family: "integer", nullable: false, identity: true, generated: false };
    const day: ColumnInfo = { name: "day", nativeType: "date", family: "date", nullable: false, identity: false, generated: false };
    const money: ColumnInfo = { name: "amount", nativeType: "money", family: "decimal", nullable: true, identity: false, generated: false };
    const t = { schema: "dbo", name: "orders" };
    const c = sqlServerCompiler;
    const statements = [
      ...Object.values(SQL).filter((v): v is string => typeof v === "string"),
      SQL.boundaries("date"),
      DRIVER_SQL.identity,
      DRIVER_SQL.snapshotAllowed,
      c.selectRows(t, [id, day, money], { kind: "greater", column: id, value: "10" }, "id", 1000, { amount: "CAST(0 AS money)" }).sql,
      c.selectRows(t, [id, day], { kind: "slice", column: id, lower: "1", upper: "9", nulls: true, within: { kind: "range", column: day, lower: "2025-01-01", upper: "2025-01-02" } }).sql,
      c.countRows(t, { kind: "atLeast", column: day, value: "2025-01-01" }).sql,
      c.estimateRows(t).sql,
      c.watermark(t, day, 3).sql,
      c.isEmpty(t).sql,
      c.distinctValues(t, day).sql,
      c.keyHistogram(t, id).sql,
      c.keyBounds(t, id).sql,
    ];
    for (const sql of statements) expect(sourceStatementProblem(sql), sql).toBeNull();
  });
});

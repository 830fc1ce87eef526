// The bench's reading of a run's statement log (bench/statement-timeline): where the time before production's
// SELECT went, per session.
import { describe, expect, it } from "vitest";
import { beforeFirstRows, statementLines } from "../../bench/statement-timeline";

/** A statement that started at `start` (ms) and took `ms`, logged as lib/dialects/statement-log logs it (at its end). */
const line = (side: string, start: number, ms: number, sql: string, rows?: number) =>
  JSON.stringify({ level: 20, time: 1_000_000 + start + ms, app: "uat-refresh", side, ms, rows, sql, msg: "statement" });

const log = [
  "-- bench: the measured run starts",
  JSON.stringify({ level: 30, time: 1_000_000, msg: "run started" }),
  line("source", 0, 300, "SELECT CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)) AS [server] FROM sys.databases AS d"),
  line("target", 10, 400, "SELECT CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)) AS [server] FROM sys.databases AS d"),
  // As logged: the first 300 characters, the FROM beyond them.
  line("source", 410, 100, `SELECT c.name AS [name], ${"c.max_length AS [maxLength], ".repeat(10)}`.slice(0, 300)),
  line("source", 520, 50, "SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [n] FROM [dbo].[t]", 1),
  // UAT's emptying runs past the SELECT's start: only its part before counts.
  line("target", 500, 200, "IF EXISTS (SELECT 1 FROM sys.foreign_keys WHERE referenced_object_id = OBJECT_ID(@p1)) DELETE FROM [dbo].[t] ELSE TRUNCATE TABLE [dbo].[t]"),
  line("source", 600, 900, "SELECT [id], [name] FROM [dbo].[t]", 5000),
  line("target", 700, 800, "INSERT BULK [dbo].[t] ([id], [name])", 5000),
].join("\n");

describe("a run's time before its first rows, from its statement log", () => {
  it("splits it by session into statements (catalog questions apart) and the time between them", () => {
    const lines = statementLines(log);
    expect(lines).toHaveLength(7);
    const t = beforeFirstRows(lines, 5000, "[dbo].[t]");
    expect(t.selectStartsMs).toBe(600);
    expect(t.source).toEqual({ statements: 3, ms: 450, catalogMs: 400 });
    expect(t.sourceBetweenMs).toBe(150);
    // The emptying asks the catalog too, but is no catalog question.
    expect(t.target).toEqual({ statements: 2, ms: 500, catalogMs: 400 });
    expect(t.slowest[0]).toMatchObject({ side: "target", ms: 400 });
    // Given when the run started: its first statement came 250 ms after.
    expect(beforeFirstRows(lines, 5000, "[dbo].[t]", 1_000_000 - 250).toFirstStatementMs).toBe(250);
  });

  it("says so when the log has no SELECT of the table's rows", () => {
    expect(() => beforeFirstRows(statementLines(log), 4999, "[dbo].[t]")).toThrow("no SELECT of 4999 rows on the source");
  });
});

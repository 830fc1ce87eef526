// Where a run's time goes before its first rows, read from its statement log (lib/dialects/statement-log: with
// LOG_LEVEL=debug one JSON line per statement, written when it ended: `time` then, `ms` the statement's own time
// from sending to its answer, `side` the session's). The bench prints it beside its figures, so a slow start is
// seen as the server's answers or the client's time between them, statement by statement.

export interface StatementLine {
  time: number;
  ms: number;
  side: "source" | "target";
  sql: string;
  rows?: number;
}

export interface SideBeforeFirstRows {
  statements: number;
  /** The statements' time (sending to answer), as far as it lies before production's SELECT started. */
  ms: number;
  /** Of which catalog questions: SELECTs that read no rows of the table (the server's views, permissions, properties;
   *  told apart by the table's name, as the log keeps only a statement's first 300 characters). */
  catalogMs: number;
}

export interface BeforeFirstRows {
  /** From the run's start (`runStartedAt`, when given) to its first statement: the metadata, the configuration, the
   *  sign-ins. */
  toFirstStatementMs?: number;
  /** From the run's first statement to production's data SELECT. */
  selectStartsMs: number;
  source: SideBeforeFirstRows;
  target: SideBeforeFirstRows;
  /** On production's session, the time between its statements (the client's own work, or waiting for UAT's). */
  sourceBetweenMs: number;
  /** The slowest statements before the SELECT. */
  slowest: { side: string; ms: number; sql: string }[];
}

/** Statement lines of a log (other lines, and log lines of other kinds, are skipped). */
export function statementLines(log: string): StatementLine[] {
  const out: StatementLine[] = [];
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    const j = JSON.parse(line) as Partial<StatementLine> & { msg?: string };
    if (j.msg === "statement" && typeof j.time === "number" && typeof j.ms === "number" && (j.side === "source" || j.side === "target"))
      out.push({ time: j.time, ms: j.ms, side: j.side, sql: j.sql ?? "", rows: j.rows });
  }
  return out;
}

/** The time before production's SELECT of `rows` rows of `table` (as the statements name it, e.g. `[dbo].[t]`; the
 *  data read: the source statement that returned them). */
export function beforeFirstRows(lines: StatementLine[], rows: number, table: string, runStartedAt?: number): BeforeFirstRows {
  const catalog = (sql: string) => /^SELECT /.test(sql) && !sql.includes(`FROM ${table}`);
  const timed = lines.map((l) => ({ ...l, start: l.time - l.ms }));
  const select = timed.find((l) => l.side === "source" && l.rows === rows && /^SELECT /.test(l.sql));
  if (!select) throw new Error(`statement log: no SELECT of ${rows} rows on the source`);
  const first = Math.min(...timed.map((l) => l.start));
  const before = timed.filter((l) => l.start < select.start).map((l) => ({ ...l, part: Math.min(l.time, select.start) - l.start }));
  const side = (s: "source" | "target"): SideBeforeFirstRows => {
    const mine = before.filter((l) => l.side === s);
    const sum = (ls: typeof mine) => Math.round(ls.reduce((a, l) => a + l.part, 0));
    return { statements: mine.length, ms: sum(mine), catalogMs: sum(mine.filter((l) => catalog(l.sql))) };
  };
  const source = side("source");
  const selectStartsMs = Math.round(select.start - first);
  return {
    ...(runStartedAt === undefined ? {} : { toFirstStatementMs: Math.round(first - runStartedAt) }),
    selectStartsMs,
    source,
    target: side("target"),
    sourceBetweenMs: selectStartsMs - source.ms,
    slowest: [...before].sort((a, b) => b.part - a.part).slice(0, 5).map((l) => ({ side: l.side, ms: Math.round(l.part), sql: l.sql.slice(0, 80) })),
  };
}

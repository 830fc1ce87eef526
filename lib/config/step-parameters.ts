// Post-refresh steps take the run's facts as parameters, written the same way on both engines: `@run_id`,
// `@run_started_at` (UTC, `YYYY-MM-DD HH:MM:SS.mmm`), `@triggered_by`. They travel as bind parameters, never as text
// pasted into the SQL. A name is a parameter only outside string literals, quoted names and comments (and dollar
// quotes on PostgreSQL); other `@names` are left alone (T-SQL variables a step declares itself).
import { quotedEnd } from "../dialects/sql-text";
import type { CompiledQuery, Engine } from "../dialects/types";

export const STEP_PARAMETERS = ["run_id", "run_started_at", "triggered_by"] as const;
export type StepParameter = (typeof STEP_PARAMETERS)[number];
export type StepValues = Record<StepParameter, string>;

interface Found {
  name: StepParameter;
  start: number;
  end: number;
}

/** sqlcmd's and SSMS's batch separator: alone on its line, with an optional count and comment. It "is not a
 *  Transact-SQL statement" and the server refuses it (Microsoft Learn, SQL Server Utilities Statements - GO); a script
 *  pasted from SSMS holds it. */
const BATCH_SEPARATOR = /^[ \t]*go(?:[ \t]+\d+)?[ \t]*(?:--[^\n]*)?(?:\r?\n|$)/i;

/** The statement starting `text` begins or ends a transaction (PostgreSQL's BEGIN, START TRANSACTION, COMMIT, END,
 *  ROLLBACK but not ROLLBACK TO a savepoint, ABORT, PREPARE TRANSACTION): its name, or null. Inside a procedure or
 *  a DO block the server itself refuses them in a transaction block ("invalid transaction termination"). */
function transactionControl(text: string): string | null {
  const [first = "", second = "", third = ""] = (/^([A-Za-z_]+)(?:\s+([A-Za-z_]+))?(?:\s+([A-Za-z_]+))?/.exec(text) ?? []).slice(1).map((w) => (w ?? "").toUpperCase());
  const toSavepoint = second === "TO" || ((second === "WORK" || second === "TRANSACTION") && third === "TO");
  if (["BEGIN", "COMMIT", "END", "ABORT"].includes(first) || (first === "ROLLBACK" && !toSavepoint)) return first;
  if ((first === "START" || first === "PREPARE") && second === "TRANSACTION") return `${first} TRANSACTION`;
  return null;
}

/** A T-SQL word, where one starts (not inside a name, a variable or a temporary table's name). */
const WORD = /[A-Za-z_][\w$#@]*/y;
const BEGINS_TRANSACTION = /\s+(?:DISTRIBUTED\s+)?TRAN(?:SACTION)?\b/iy;

/** A SQL Server step runs one transaction level inside the refresh's (see the driver), which absorbs one COMMIT of
 *  its own; a second would commit the refresh's writes. COMMIT is a reserved word, so each bare one is a statement. */
function unmatchedCommits(commits: number, begins: number): string | null {
  if (commits - begins < 2) return null;
  return `has ${commits} COMMITs for ${begins} BEGIN TRANSACTION${begins === 1 ? "" : "s"}: a step runs inside the refresh's transaction, and a COMMIT without a BEGIN TRANSACTION of its own ends it (a second one would make the refresh's writes permanent before their verification); give each COMMIT its BEGIN TRANSACTION, or leave them out`;
}

/** The parameters `sql` uses, or a text problem (an unterminated literal or comment, on SQL Server a GO line or
 *  COMMITs that would end the refresh's transaction). */
function scan(sql: string, engine?: Engine): Found[] | string {
  const found: Found[] = [];
  let i = 0;
  let statement = 0;
  let atStatementStart = true;
  let commits = 0;
  let begins = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (engine === "sqlserver" && (i === 0 || sql[i - 1] === "\n") && BATCH_SEPARATOR.test(sql.slice(i, sql.indexOf("\n", i) + 1 || undefined)))
      return `line ${sql.slice(0, i).split("\n").length} is GO, a batch separator of sqlcmd and SSMS, not SQL: make each batch a step of its own`;
    if (atStatementStart && !/[\s;]/.test(ch) && !sql.startsWith("--", i) && !sql.startsWith("/*", i)) {
      atStatementStart = false;
      statement += 1;
      const control = engine === "postgres" ? transactionControl(sql.slice(i)) : null;
      if (control)
        return `statement ${statement} is ${control}: a step runs inside the refresh's transaction, which commits it with the refresh, and PostgreSQL has no nested transactions (a COMMIT would make the refresh's writes permanent before its verification)`;
    }
    if (ch === ";") atStatementStart = true;
    if (ch === "'" || ch === '"' || ch === "[") {
      const end = quotedEnd(sql, i);
      if (end < 0) return `has an unterminated ${ch === "'" ? "string literal" : "quoted name"} starting at character ${i + 1}`;
      i = end + 1;
    } else if (sql.startsWith("--", i)) {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end + 1;
    } else if (sql.startsWith("/*", i)) {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) return `has an unterminated comment starting at character ${i + 1}`;
      i = end + 2;
    } else if (ch === "$" && /^\$[A-Za-z_]*\$/.test(sql.slice(i)) && (i === 0 || !/[A-Za-z0-9_]/.test(sql[i - 1]))) {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))![0];
      const end = sql.indexOf(tag, i + tag.length);
      if (end < 0) return `has an unterminated dollar quote ${tag} starting at character ${i + 1}`;
      i = end + tag.length;
    } else if (ch === "@" && sql[i + 1] !== "@" && (i === 0 || sql[i - 1] !== "@")) {
      const m = /^@([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      const name = m?.[1].toLowerCase();
      if (m && (STEP_PARAMETERS as readonly string[]).includes(name!)) found.push({ name: name as StepParameter, start: i, end: i + m[0].length });
      i += m ? m[0].length : 1;
    } else if (engine === "sqlserver" && /[A-Za-z_]/.test(ch) && (i === 0 || !/[\w@#$]/.test(sql[i - 1]))) {
      WORD.lastIndex = i;
      const word = WORD.exec(sql)![0].toUpperCase();
      i += word.length;
      BEGINS_TRANSACTION.lastIndex = i;
      if (word === "COMMIT") commits += 1;
      else if (word === "BEGIN" && BEGINS_TRANSACTION.test(sql)) begins += 1;
    } else i++;
  }
  return unmatchedCommits(commits, begins) ?? found;
}

/** Why a step's SQL cannot be sent as written, or null. */
export function stepParameterProblem(sql: string, engine: Engine): string | null {
  const r = scan(sql, engine);
  return typeof r === "string" ? r : null;
}

/** The parameters a step's SQL uses, in order of first use. */
export function stepParametersUsed(sql: string): StepParameter[] {
  const r = scan(sql);
  return typeof r === "string" ? [] : [...new Set(r.map((f) => f.name))];
}

/** The step as a query for `engine`: each parameter replaced by the engine's placeholder, its value bound. */
export function bindStepParameters(sql: string, engine: Engine, values: StepValues): CompiledQuery {
  const found = scan(sql, engine);
  if (typeof found === "string") throw new Error(`the step's SQL ${found}`);
  const order: StepParameter[] = [];
  let out = "";
  let at = 0;
  for (const f of found) {
    let n = order.indexOf(f.name) + 1;
    if (!n) n = order.push(f.name);
    out += sql.slice(at, f.start) + (engine === "postgres" ? `$${n}` : `@p${n}`);
    at = f.end;
  }
  return { sql: out + sql.slice(at), params: order.map((name) => values[name]) };
}

/** A run's parameter values. */
export function stepValues(run: { id: string; startedAt: Date; triggeredBy: string }): StepValues {
  return { run_id: run.id, run_started_at: run.startedAt.toISOString().replace("T", " ").replace("Z", ""), triggered_by: run.triggeredBy };
}

// LOG_LEVEL=debug (or trace): every statement a session sends, with how long the server took and the rows it
// reported, as a log line on stderr (the CLI's report keeps stdout to itself): where a refresh's time goes, statement by
// statement. The SQL's first 300 characters (redacted as every log line is), never the parameters' values. The logger
// loads with the first statement logged: a thread or a run without debug logging never loads it.
import type { Logger } from "pino";

/** Whose statement: the session's side, production (source) or UAT (target), and its name on the server (the run it
 *  belongs to: `uat-refresh run <id> (target)`). */
export interface StatementSession {
  side: "source" | "target";
  session?: string;
}

export interface StatementEntry extends StatementSession {
  sql: string;
  ms: number;
  /** Rows the server said the statement changed, or rows a read or a copy returned. */
  rows?: number;
  /** The server's refusal, when it failed. */
  error?: string;
}

const enabled = ["debug", "trace"].includes((process.env.LOG_LEVEL ?? "").toLowerCase());
let logger: Promise<Logger> | undefined;

function logStatement(e: StatementEntry): void {
  if (!enabled) return;
  logger ??= Promise.all([import("pino"), import("../log")]).then(([{ default: pino }, { createLogger }]) => createLogger(pino.destination({ dest: 2, sync: true })));
  const fields = { side: e.side, session: e.session, ms: Math.round(e.ms * 10) / 10, rows: e.rows, error: e.error, sql: e.sql.replace(/\s+/g, " ").trim().slice(0, 300) };
  void logger.then((log) => log.debug(fields, "statement"));
}

/** Runs `run` (one statement, `sql`, on session `at`) and logs it with its time and `rowsOf` its result; a failure is
 *  logged with the server's words and thrown on. Nothing but the call itself when statements are not logged. */
export async function timedStatement<T>(at: StatementSession, sql: string, run: () => Promise<T>, rowsOf: (result: T) => number | undefined = () => undefined): Promise<T> {
  if (!enabled) return run();
  const started = performance.now();
  try {
    const result = await run();
    logStatement({ ...at, sql, ms: performance.now() - started, rows: rowsOf(result) });
    return result;
  } catch (e) {
    logStatement({ ...at, sql, ms: performance.now() - started, error: (e as Error).message });
    throw e;
  }
}

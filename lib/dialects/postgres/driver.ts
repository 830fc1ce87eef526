// PostgreSQL sessions on node-postgres; rows move as COPY text streams (COPY TO STDOUT -> COPY FROM STDIN).
import { once, type EventEmitter } from "node:events";
import { Transform, type TransformCallback } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import type { CompiledQuery, ConnectOptions, ConnectionTarget, LoadOptions, RowStream, Session, TableRef } from "../types";
import { postgresIntrospector } from "./introspector";
import { qualified, quoteIdent } from "./compiler";
import { timedStatement, type StatementSession } from "../statement-log";
import type { ConnectionOptions } from "node:tls";
import { refusedKind, tlsPlan } from "./tls";

/**
 * What every session prints and reads values with, whatever the server, database or role sets by default: COPY text
 * leaves the source in its session's formats and is parsed in the target's, and watermarks and checksums are text
 * too. A DBA's DateStyle 'SQL, MDY' on production and 'German' on UAT would swap days and months; extra_float_digits
 * 0 rounds floats in COPY; IntervalStyle and lc_monetary change how intervals and money print; xmloption document
 * refuses the XML fragments a column may hold. UTC: timestamptz values and partition bounds print, and days count,
 * the same way on every session (COPY text carries the offset, so values are copied exactly whatever the zone).
 * client_encoding UTF8: node-postgres reads and writes UTF-8 and says nothing at startup, so a session on a LATIN1
 * database would hand over LATIN1 bytes (mangled on the way, the run failing its verification).
 * row_security off: a statement a row-level security policy would filter fails, naming the table, instead of reading
 * (and verifying) a subset of production's rows or emptying only the UAT rows a policy shows.
 */
const SESSION_SETTINGS = ["-c client_encoding=UTF8", "-c TimeZone=UTC", "-c DateStyle=ISO", "-c IntervalStyle=postgres", "-c extra_float_digits=3", "-c lc_monetary=C", "-c xmloption=content", "-c row_security=off"];

/**
 * The database's own timeouts do not apply to the product's sessions (pg_dump turns them off the same way): the source
 * session holds one snapshot from the copy to its checksum and sits idle in it while UAT works or waits for a lock,
 * and a load is one long transaction. A statement is bounded by command_timeout, the product's setting (0: none).
 */
function timeoutSettings(opts: ConnectOptions): string[] {
  return [`-c statement_timeout=${opts.commandTimeoutSec > 0 ? opts.commandTimeoutSec * 1000 : 0}`, "-c idle_in_transaction_session_timeout=0"];
}

export async function connectPostgres(target: ConnectionTarget, opts: ConnectOptions): Promise<Session> {
  // sslmode as libpq defines it (./tls): allow / prefer try a second kind of connection when the server refuses one.
  const { attempts } = tlsPlan(target.options);
  for (const [i, ssl] of attempts.entries()) {
    try {
      return await connectOnce(target, opts, ssl);
    } catch (e) {
      if (i === attempts.length - 1 || !refusedKind(e)) throw e;
    }
  }
  throw new Error("unreachable");
}

async function connectOnce(target: ConnectionTarget, opts: ConnectOptions, ssl: false | ConnectionOptions): Promise<Session> {
  const client = new pg.Client({
    host: target.host,
    port: target.port ?? 5432,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl,
    connectionTimeoutMillis: opts.connectionTimeoutSec * 1000,
    application_name: opts.applicationName ?? "uat-refresh",
    // Read-only at the session level: every transaction on the source refuses writes, whatever SQL reaches it.
    options: [...SESSION_SETTINGS, ...timeoutSettings(opts), opts.readOnly ? "-c default_transaction_read_only=on" : "", opts.lockTimeoutMs ? `-c lock_timeout=${Math.trunc(opts.lockTimeoutMs)}` : ""].join(" ").trim(),
  });
  // A dropped connection surfaces on the running query; this keeps an idle one from crashing the process.
  client.on("error", () => {});
  try {
    await client.connect();
    // transaction_timeout (PostgreSQL 17+) cannot be named at startup on an older server, which refuses it.
    await client.query("SELECT set_config(name, '0', false) FROM pg_settings WHERE name = 'transaction_timeout'");
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
  return new PostgresSession(client, opts.readOnly, opts.applicationName);
}

/** node-postgres' `queryMode: "extended"` (pg 8.11+, brianc/node-postgres#3214; not in @types/pg): Parse / Bind /
 *  Execute even without parameters, and the server refuses a string of more than one statement. */
function extended(text: string, values: readonly unknown[]): pg.QueryConfig {
  return { text, values: values as unknown[], queryMode: "extended" } as pg.QueryConfig;
}

/** Counts rows in COPY text output: each row ends with one newline, embedded newlines are escaped. */
class RowCounter extends Transform {
  rows = 0;
  bytes = 0;
  private last = 0;
  constructor(private onRows?: (rows: number, bytes: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.rows++;
    this.bytes += chunk.length;
    const now = Date.now();
    if (this.onRows && now - this.last > 250) {
      this.last = now;
      this.onRows(this.rows, this.bytes);
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback) {
    this.onRows?.(this.rows, this.bytes);
    cb();
  }
}

class PostgresSession implements Session {
  readonly engine = "postgres" as const;
  readonly introspector;
  /** Why the server ended the connection, when it did so between statements (said on the next one). */
  private ended?: Error & { code?: string };
  /** The server's FATAL message (it ends the session after sending it), or that the connection closed under us. */
  private fatal?: string;
  private closedUnderUs = false;
  /** The connection has ended (whoever ended it). */
  private over = false;
  /** The product closed or cut the connection itself. */
  private closing = false;

  get endedByServer() {
    // Without the server's words (a socket closed before they were read): node-postgres' own.
    return this.fatal ?? (this.closedUnderUs ? (this.ended?.message ?? "the connection was closed") : undefined);
  }

  /** Whose statements these are, in the statement log. */
  private at: StatementSession;

  constructor(
    private client: pg.Client,
    private readOnly = false,
    applicationName?: string,
  ) {
    this.at = { side: readOnly ? "source" : "target", session: applicationName };
    this.introspector = postgresIntrospector((sql, params) => this.query({ sql, params }));
    client.on("error", (e) => (this.ended ??= e));
    client.on("end", () => {
      this.closedUnderUs ||= !this.closing;
      this.over = true;
    });
    // Every error message this session's server sends (answering a statement or not): a FATAL one ends the session.
    // Errors that reach a statement or stream may be another session's (a pipe fails both ends with one error).
    (client as unknown as { connection: EventEmitter }).connection.on("errorMessage", (m: pg.DatabaseError) => {
      if (m.severity === "FATAL") this.fatal ??= m.message;
    });
  }

  /**
   * One statement. A connection the server ended while the session was idle (a DBA's pg_terminate_backend, a restart)
   * fails the next statement with node-postgres' "not queryable", which says nothing of why: the server's own
   * message and SQLSTATE are said instead (57P01 and the like stay transient, so the unit is retried).
   */
  private run<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const sql = typeof config === "string" ? config : config.text;
    // A string of several statements (simple protocol) answers one result per statement.
    const rows = (r: pg.QueryResult<R>) => (Array.isArray(r) ? (r as pg.QueryResult[]) : [r]).reduce((n, x) => n + (x.rowCount ?? 0), 0);
    return timedStatement(this.at, sql, () => this.sent<R>(config, values), rows);
  }

  private async sent<R extends pg.QueryResultRow>(config: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(config as pg.QueryConfig, values);
    } catch (e) {
      if (!this.ended || !/not queryable|Connection terminated/.test((e as Error).message)) throw e;
      throw Object.assign(new Error(`the server ended the connection: ${this.ended.message}`, { cause: e }), { code: this.ended.code });
    }
  }

  async identity() {
    const [r] = await this.query<{ started: string; port: string; db: string; oid: string; version: string; standby: boolean; readOnly: string }>({
      sql: `SELECT pg_postmaster_start_time()::text AS started, current_setting('port') AS port, current_database() AS db,
                   (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid, version() AS version,
                   pg_is_in_recovery() AS standby, current_setting('default_transaction_read_only') AS "readOnly"`,
      params: [],
    });
    const readOnly = r.standby ? "it is a standby server (in recovery)" : !this.readOnly && r.readOnly === "on" ? "default_transaction_read_only is on for its sessions (set on the database, the login or the server)" : undefined;
    return { keys: [`${r.started}|${r.port}|${r.oid}`], version: r.version, database: r.db, ...(readOnly ? { readOnly } : {}) };
  }

  /** Source statements always go out on the extended protocol: one statement per request, whatever the text. */
  private send(q: CompiledQuery) {
    return this.readOnly ? this.run(extended(q.sql, q.params)) : this.run(q.sql, q.params as unknown[]);
  }

  async query<R>(q: CompiledQuery): Promise<R[]> {
    return (await this.send(q)).rows as R[];
  }

  async execute(q: CompiledQuery): Promise<number | undefined> {
    const before = q.ownScope ? { transaction: await this.transactionId(), settings: await this.sessionSettings() } : undefined;
    // A string of several statements (simple protocol, target only) answers one result per statement; a statement
    // that changes no rows (DDL) has no count.
    const r = (await this.send(q)) as unknown as { rowCount: number | null } | { rowCount: number | null }[];
    if (before) {
      await this.restoreSettings(before.settings);
      // The configuration refuses a step's COMMIT or BEGIN (lib/config/step-parameters); should one get past it, the
      // run says what happened instead of succeeding.
      if ((await this.transactionId()) !== before.transaction)
        throw new Error("it ended the refresh's transaction: what the transaction wrote before it is committed, and what followed it ran outside it");
    }
    const counts = (Array.isArray(r) ? r : [r]).map((x) => x.rowCount).filter((n): n is number => n !== null);
    return counts.length ? counts.reduce((a, b) => a + b, 0) : undefined;
  }

  /** The current transaction's id (given one if it had none yet). */
  private async transactionId(): Promise<string> {
    return (await this.run<{ id: string }>("SELECT pg_current_xact_id()::text AS id")).rows[0].id;
  }

  /** The settings a statement may change for the session with SET (the transaction's own end with it). Who the
   *  session acts as comes first: pg_settings hides session_authorization and role, and which rows it shows depends
   *  on them. */
  private async sessionSettings() {
    const r = await this.run(`SELECT 'session_authorization' AS name, current_setting('session_authorization') AS setting
      UNION ALL SELECT 'role', current_setting('role')
      UNION ALL SELECT name, setting FROM pg_settings WHERE context IN ('user', 'superuser') AND name NOT LIKE 'transaction\\_%'`);
    return new Map((r.rows as { name: string; setting: string }[]).map((x) => [x.name, x.setting]));
  }

  /** SQL written by people (a post-refresh step) ran: what it SET goes back to what it was. A SET inside a transaction
   *  lasts for the session once the transaction commits (PostgreSQL's SET), so a step's `SET
   *  default_transaction_read_only = on` or `SET ROLE` would otherwise meet the next table's load. Inside the same
   *  transaction: a rollback undoes both. */
  private async restoreSettings(before: Map<string, string>) {
    let after = await this.sessionSettings();
    const actingAs = ["session_authorization", "role"].filter((name) => after.get(name) !== before.get(name));
    if (actingAs.length) {
      await this.setBack(actingAs.map((name) => [name, before.get(name)!]));
      after = await this.sessionSettings();
    }
    await this.setBack([...before].filter(([name, value]) => after.get(name) !== value));
  }

  private async setBack(settings: [string, string][]) {
    if (settings.length) await this.run("SELECT set_config(n, v, false) FROM unnest($1::text[], $2::text[]) AS x(n, v)", [settings.map(([n]) => n), settings.map(([, v]) => v)]);
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.run("BEGIN");
    try {
      const result = await fn();
      await this.run("COMMIT");
      return result;
    } catch (e) {
      await this.client.query("ROLLBACK").catch(() => {});
      throw e;
    }
  }

  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    // One snapshot for every read of the group (the source is read-only: nothing to commit).
    await this.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      return await fn();
    } finally {
      await this.client.query("ROLLBACK").catch(() => {});
    }
  }

  async exportSnapshot(): Promise<string> {
    return (await this.run<{ id: string }>("SELECT pg_export_snapshot() AS id")).rows[0].id;
  }

  async joinSnapshot(id: string) {
    // SET TRANSACTION SNAPSHOT takes a literal: the id is pg_export_snapshot()'s own output, checked for its form.
    if (!/^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i.test(id)) throw new Error(`not a snapshot id: ${id}`);
    await this.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    await this.run(`SET TRANSACTION SNAPSHOT '${id}'`);
  }

  async exportRows(q: CompiledQuery): Promise<RowStream> {
    for (const [i, value] of q.params.entries()) {
      await this.run("SELECT set_config($1, $2, false)", [`uat_refresh.p${i + 1}`, String(value)]);
    }
    // COPY goes out on the simple protocol, which runs every statement of a string. On the source, the very SELECT
    // the COPY wraps is first parsed by the server on the extended protocol, which refuses a string of more than
    // one statement ("cannot insert multiple commands into a prepared statement"): wrapped the same way, no text
    // can end the COPY's SELECT and start a statement of its own (default_transaction_read_only alone would not
    // hold: `COMMIT; SET TRANSACTION READ WRITE; ...` lifts it).
    if (this.readOnly) await this.run(extended(`SELECT 1 FROM (${q.sql}) AS one_statement LIMIT 0`, []));
    const stream = this.client.query(copyTo(`COPY (${q.sql}) TO STDOUT`));
    // A COPY stopped before its end (the target failed mid-load, a cancel) leaves the connection in COPY mode: no
    // later statement on it would ever be answered. The session is ended instead; the engine reopens it to go on.
    const done = finished(stream).catch((e) => {
      if (!stream.readableEnded) this.destroy();
      throw e;
    });
    return { stream, done: timedStatement(this.at, `COPY (${q.sql}) TO STDOUT`, () => done) };
  }

  async importRows(table: TableRef, columns: string[], rows: RowStream, opts: LoadOptions): Promise<number> {
    const ingest = this.client.query(copyFrom(`COPY ${qualified(table)} (${columns.map(quoteIdent).join(", ")}) FROM STDIN`));
    const counter = new RowCounter(opts.onRows);
    // pipeline propagates backpressure both ways and tears everything down when either side fails.
    const load = () => Promise.all([pipeline(rows.stream, counter, ingest), rows.done]).catch((e) => this.afterSocketError(e));
    await timedStatement(this.at, `COPY ${qualified(table)} (${columns.map(quoteIdent).join(", ")}) FROM STDIN`, load, () => counter.rows);
    return counter.rows;
  }

  /**
   * A write the server's closed socket refused (EPIPE, ECONNRESET) fails before the server's last words are read: its
   * FATAL message and the connection's end follow at once. Waiting for them (a moment at most) lets the session say
   * why it ended instead of "write EPIPE".
   */
  private async afterSocketError(e: unknown): Promise<never> {
    const code = (e as { code?: string })?.code;
    if ((code === "EPIPE" || code === "ECONNRESET") && !this.over && !this.closing) {
      await once(this.client, "end", { signal: AbortSignal.timeout(2000) }).catch(() => {});
    }
    throw e;
  }

  destroy() {
    this.closing = true;
    (this.client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }

  async close() {
    this.closing = true;
    await this.client.end().catch(() => {});
  }
}

// SQL Server sessions on tedious (the driver under `mssql`). Rows stream out of a SELECT with backpressure
// (Request.pause/resume) and into the target through TDS bulk load (INSERT BULK), in batches of batch_size.
// Written against the documented behaviour; exercised by the conformance suite when MSSQL_TEST_URL is set.
import { Readable } from "node:stream";
import { Connection, Request, TYPES, type ConnectionConfiguration } from "tedious";
import { randomBytes } from "node:crypto";
import type { ColumnInfo, CompiledQuery, ConnectOptions, ConnectionTarget, LoadOptions, RowStream, ServerCapabilities, ServerIdentity, Session, TableRef } from "../types";
import { qualified, quoteIdent } from "./compiler";
import { timedStatement, type StatementSession } from "../statement-log";
import { capabilityKey, keepCapabilities, keptCapabilities } from "./capability-cache";
import { sqlServerIntrospector, type IntrospectorOptions } from "./introspector";
import { base, transportOf, unloadableColumns, type BulkTypeName, type Transport } from "./transport";
import { ExactDateTimeOffset, ExactDecimal, ExactMoney } from "./exact-types";
import { sourceStatementProblem } from "./read-only";
import { columnNamed } from "../columns";
import { optionFile } from "../option-file";
import { trustsServerCertificate } from "./tls-options";

type Row = Record<string, unknown>;

function authentication(t: ConnectionTarget): ConnectionConfiguration["authentication"] {
  // options.authentication: "default" (SQL login from the env vars), "ntlm" (+ options.domain), or an Entra ID type
  // such as "azure-active-directory-default" / "azure-active-directory-msi-vm" (credentials from the host).
  const type = String(t.options.authentication ?? "default");
  if (type === "default") return { type: "default", options: { userName: t.user, password: t.password } };
  if (type === "ntlm") return { type: "ntlm", options: { userName: t.user ?? "", password: t.password ?? "", domain: String(t.options.domain ?? "") } };
  return { type, options: {} } as ConnectionConfiguration["authentication"];
}

export async function connectSqlServer(target: ConnectionTarget, opts: ConnectOptions): Promise<Session> {
  const o = target.options;
  const connection = new Connection({
    server: target.host,
    authentication: authentication(target),
    options: {
      port: target.port ?? 1433,
      database: target.database,
      // encrypt as Microsoft's drivers document it: true / mandatory (TLS after prelogin, the default), strict (TDS 8:
      // TLS from the first byte, the certificate always verified), false / optional (no TLS unless the server insists).
      encrypt: encryptOption(o.encrypt),
      // Verification of the server's certificate is skipped only when this says so (never under strict).
      trustServerCertificate: trustsServerCertificate(o),
      ...(o.hostNameInCertificate !== undefined ? { serverName: String(o.hostNameInCertificate) } : {}),
      // caCertificate: the only certificate authority the server's certificate may chain to (Node's own list is not
      // used); for a self-signed server certificate, that certificate. The host name is still checked.
      ...(o.caCertificate !== undefined ? { cryptoCredentialsDetails: { ca: optionFile(o.caCertificate, "caCertificate") } } : {}),
      // ApplicationIntent=ReadOnly on the source: routed to a readable secondary where one exists.
      readOnlyIntent: opts.readOnly,
      connectTimeout: opts.connectionTimeoutSec * 1000,
      requestTimeout: opts.commandTimeoutSec * 1000,
      appName: opts.applicationName ?? "uat-refresh",
      useUTC: true,
      rowCollectionOnRequestCompletion: false,
    },
  });
  await new Promise<void>((resolve, reject) => {
    connection.once("connect", (err) => (err ? reject(err) : resolve()));
    connection.connect();
  });
  connection.on("error", () => {}); // surfaced on the running request
  if (opts.lockTimeoutMs) {
    const sql = DRIVER_SQL.lockTimeout(opts.lockTimeoutMs);
    await new Promise<void>((resolve, reject) => connection.execSqlBatch(new Request(sql, (err) => (err ? reject(err) : resolve()))));
  }
  const introspection = { rowSecurityExempt: o.rowSecurityExempt === true || o.rowSecurityExempt === "true", indexCompression: !opts.readOnly };
  return new SqlServerSession(connection, opts.readOnly, introspection, opts.applicationName);
}

/** The `encrypt` option as tedious takes it. */
export function encryptOption(v: string | number | boolean | undefined): boolean | "strict" {
  if (v === undefined || v === true || v === "true" || v === "mandatory") return true;
  if (v === "strict") return "strict";
  return false;
}

/** What a post-refresh step must leave as it found it, read before and after it with the transaction level. */
const STEP_CONTEXT = "DB_NAME() AS [database], SUSER_SNAME() AS [login], USER_NAME() AS [user]";
type StepContext = { n: number; database: string; login: string; user: string };
const STEP_ENDED = "SET IMPLICIT_TRANSACTIONS OFF";

/** The statements the session itself sends (exported for the grammar test). */
export const DRIVER_SQL = {
  // The server's own name for itself (not the name we dialled) and the database id on it; for a database in an
  // availability group also the AG database id, the same on every replica. service_broker_guid is NOT used: RESTORE
  // and attach keep it, so a UAT restored from a production backup would look like production. Also, from the same
  // row, whether the session's first snapshot can be one, and the login whose capabilities a probe finds.
  identity: "SELECT CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)) AS [server], DB_ID() AS [dbId], DB_NAME() AS [db], CAST(d.group_database_id AS nvarchar(40)) AS [agDatabase], CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(20)) AS [updateability], CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) + N' ' + CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS [version], d.snapshot_isolation_state AS [snapshotState], SUSER_SNAME() AS [login] FROM sys.databases AS d WHERE d.database_id = DB_ID()",
  // XACT_ABORT: any error rolls the whole transaction back, so a failed load never commits half.
  begin: "SET XACT_ABORT ON; BEGIN TRANSACTION",
  // SNAPSHOT isolation is only allowed where the database enables it (ALLOW_SNAPSHOT_ISOLATION ON, error 3952
  // otherwise): asked first, so a source without it is read as before, statement by statement.
  snapshotAllowed: "SELECT snapshot_isolation_state AS [state] FROM sys.databases WHERE database_id = DB_ID()",
  snapshotBegin: "SET TRANSACTION ISOLATION LEVEL SNAPSHOT; BEGIN TRANSACTION",
  snapshotEnd: "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION; SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
  commit: "COMMIT TRANSACTION",
  /** A post-refresh step's own transaction level, and its end when the step left the count as it found it; both
   *  with the session's context (database, login, user), which the step must leave as it found it too. While the step
   *  runs, IMPLICIT_TRANSACTIONS is ON: a statement after a ROLLBACK of its own (which ends every level) opens a
   *  transaction instead of committing by itself, so the refresh's rollback takes it back too. */
  stepLevel: `BEGIN TRANSACTION; SET IMPLICIT_TRANSACTIONS ON; SELECT @@TRANCOUNT AS n, ${STEP_CONTEXT}`,
  stepLevelEnd: (level: number) => `${STEP_ENDED}; DECLARE @n int = @@TRANCOUNT; IF @n = ${Math.trunc(level)} COMMIT TRANSACTION; SELECT @n AS n, ${STEP_CONTEXT}`,
  stepFailed: STEP_ENDED,
  rollback: "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION",
  /** Error 1222 instead of waiting longer than `ms` for a lock. */
  lockTimeout: (ms: number) => `SET LOCK_TIMEOUT ${Math.trunc(ms)}`,
};

/** Error 3998, "Uncommittable transaction is detected at the end of the batch. The transaction is rolled back."
 *  (Babelfish says the same under its generic number.) */
function uncommittable(e: unknown): boolean {
  const { number, message } = (e ?? {}) as { number?: number; message?: string };
  return number === 3998 || /^Uncommittable transaction is detected at the end of the batch/.test(message ?? "");
}

export interface IdentityRow {
  server: string;
  dbId: number;
  db: string;
  agDatabase: string | null;
  /** DATABASEPROPERTYEX(..., 'Updateability'): READ_ONLY or READ_WRITE (absent in rows written before it was read). */
  updateability?: string | null;
  version: string;
  /** sys.databases.snapshot_isolation_state (1: ON): whether the session's first snapshot can be one. */
  snapshotState?: number;
  /** The login as the server knows it (SUSER_SNAME()): its rights decide what the capability probe can do. */
  login?: string;
}

/** One database, however it was reached: the instance's own name + DB_ID(), and the AG database id when in one. */
export function identityOf(r: IdentityRow): ServerIdentity {
  const keys = [`sqlserver:${r.server.toLowerCase()}|${r.dbId}`];
  if (r.agDatabase) keys.push(`sqlserver-ag:${r.agDatabase.toLowerCase()}`);
  // Updateability READ_ONLY: "data can be read but not modified" (Microsoft, DATABASEPROPERTYEX).
  return { keys, version: r.version, database: r.db, ...(r.updateability === "READ_ONLY" ? { readOnly: "the database is READ_ONLY" } : {}) };
}

/**
 * How a request goes to the server: sp_executesql for parameters, for the source's one plain SELECT, and for SQL
 * written by people (a post-refresh step). "If a SET statement is specified in a dynamic SQL string that is run by
 * using either sp_executesql or EXECUTE, the value of the SET option is restored after control is returned from the
 * batch" (Microsoft Learn, SET Statements): a step's SET NOCOUNT ON or SET DATEFORMAT never outlives it, while a
 * plain batch's SET options last for the session.
 */
export function sentAs(q: CompiledQuery, readOnly: boolean): "sp_executesql" | "batch" {
  return q.params.length || readOnly || q.ownScope ? "sp_executesql" : "batch";
}

class SqlServerSession implements Session {
  readonly engine = "sqlserver" as const;
  readonly introspector;

  /** ApplicationIntent=ReadOnly does not stop writes on a primary, so a source session sends nothing but one plain
   *  SELECT, always as one parameterised request (./read-only; a db_datareader login is the real guard). */
  /** Why the connection ended, once it has (a KILL, a failover, the network): said on every later request. tedious
   *  may say "end" before the socket's error, which says more. */
  private ended?: string;
  /** The product closed or cut the connection itself: its end is not the server's doing. */
  private closing = false;
  endedByServer?: string;

  /** Whose statements these are, in the statement log. */
  private at: StatementSession;

  constructor(
    private connection: Connection,
    private readOnly: boolean,
    introspection: IntrospectorOptions = {},
    applicationName?: string,
  ) {
    this.at = { side: readOnly ? "source" : "target", session: applicationName };
    this.introspector = sqlServerIntrospector((sql, params) => this.query({ sql, params }), introspection);
    const ended = (why: string) => {
      if (!this.closing) this.endedByServer = why;
    };
    connection.on("end", () => ended((this.ended ??= "the connection was closed")));
    connection.on("error", (e) => ended((this.ended = e.message)));
  }

  /**
   * A connection the server ended while it was idle (a KILL) fails the next request with tedious' "Requests can only be
   * made in the LoggedIn state, not the Final state" (EINVALIDSTATE) once tedious has seen the socket close, or with
   * "unexpected end of message stream" (no code) when the request went out first; one ended while a request streamed
   * fails it with the socket's error ("socket hang up"). They become "the server ended the connection: <why>",
   * ECONNCLOSED, so the unit is retried on a new session, and the session remembers it (endedByServer).
   */
  private explain(e: unknown): unknown {
    const err = e as { code?: string; message?: string };
    const socket = err?.code === "ESOCKET" || err?.code === "ECONNRESET";
    const ended = (err?.code === "EINVALIDSTATE" && this.ended) || (err?.code === undefined && err?.message === "unexpected end of message stream") || socket;
    if (!ended) return e;
    const why = this.ended ?? (socket ? err.message! : "it closed while a request waited for its answer");
    if (!this.closing) this.endedByServer ??= why;
    return Object.assign(new Error(`the server ended the connection: ${why}`, { cause: e }), { code: "ECONNCLOSED" });
  }

  /** Resolves to the rows the request changed (tedious sums the DONE tokens' counts of a batch), or undefined when
   *  no DONE token carried a count: under SET NOCOUNT ON (a procedure's, or the server's `user options`) or for
   *  statements that change no rows (DDL), the server does not say, and 0 would be a figure it never gave. */
  private request(q: CompiledQuery, onRow?: (row: Row) => void): Promise<number | undefined> {
    const refused = this.refusal(q);
    if (refused) return Promise.reject(refused);
    return timedStatement(this.at, q.sql, () => this.send(q, onRow), (n) => n);
  }

  private send(q: CompiledQuery, onRow?: (row: Row) => void): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      let counted = false;
      const req = new Request(q.sql, (err, rowCount) => (err ? reject(this.explain(err)) : resolve(counted ? (rowCount ?? 0) : undefined)));
      const count = (n: number | undefined) => void (counted ||= n !== undefined);
      req.on("done", count);
      req.on("doneInProc", count);
      req.on("doneProc", count);
      q.params.forEach((v, i) => req.addParameter(`p${i + 1}`, TYPES.NVarChar, v === null || v === undefined ? null : String(v)));
      if (onRow) req.on("row", (cols: { value: unknown; metadata: { colName: string } }[]) => onRow(Object.fromEntries(cols.map((c) => [c.metadata.colName, c.value]))));
      if (sentAs(q, this.readOnly) === "sp_executesql") this.connection.execSql(req);
      else this.connection.execSqlBatch(req);
    });
  }

  /** On the source: anything but one plain SELECT is refused before it is sent. */
  private refusal(q: CompiledQuery): Error | null {
    const why = this.readOnly ? sourceStatementProblem(q.sql) : null;
    return why ? Object.assign(new Error(`the source session is read-only: refusing a statement with ${why}`), { code: "READ_ONLY" }) : null;
  }

  async identity() {
    const [r] = await this.query<IdentityRow>({ sql: DRIVER_SQL.identity, params: [] });
    this.snapshotStateAtOpen = r.snapshotState;
    const identity = identityOf(r);
    this.capabilityKey = capabilityKey(identity.keys[0], r.version, r.login ?? "");
    return identity;
  }

  private probed?: Promise<ServerCapabilities>;
  /** Set by identity(): whose capabilities a probe finds (./capability-cache). */
  private capabilityKey?: string;

  /** What the server can do for this login: kept from this process's earlier probe of the same database, version and
   *  login (./capability-cache), else probed on this session. */
  capabilities(): Promise<ServerCapabilities> {
    this.probed ??= (async () => {
      const key = this.capabilityKey;
      const known = key === undefined ? undefined : keptCapabilities(key);
      if (known) return known;
      const found = await this.probe();
      if (key !== undefined && !this.ended && !this.closing) keepCapabilities(key, found);
      return found;
    })();
    return this.probed;
  }

  /** Tries SWITCH, partition DDL and UPDATE STATISTICS on objects of its own, each in a transaction rolled back
   *  (nothing stays). A server that refuses one of them (or a login that may not create the objects: then neither
   *  would the refresh) reports it missing, with the server's words. */
  private async probe(): Promise<ServerCapabilities> {
    const notes: string[] = [];
    const attempt = async (what: string, statements: string[]) => {
      try {
        await this.batch(DRIVER_SQL.begin);
        for (const sql of statements) await this.batch(sql);
        return true;
      } catch (e) {
        notes.push(`${what}: ${(e as Error).message.split("\n")[0]}`);
        return false;
      } finally {
        await this.batch(DRIVER_SQL.rollback).catch(() => {});
      }
    };
    const id = randomBytes(4).toString("hex");
    const [a, b, pf, ps] = ["a", "b", "pf", "ps"].map((x) => `[uat_refresh_probe_${x}_${id}]`);
    return {
      switch: await attempt("ALTER TABLE ... SWITCH", [`CREATE TABLE ${a} ([i] int NOT NULL)`, `CREATE TABLE ${b} ([i] int NOT NULL)`, `ALTER TABLE ${a} SWITCH TO ${b}`]),
      partitionDdl: await attempt("ALTER PARTITION SCHEME ... NEXT USED / ALTER PARTITION FUNCTION ... SPLIT RANGE", [
        `CREATE PARTITION FUNCTION ${pf} (int) AS RANGE RIGHT FOR VALUES (1)`,
        `CREATE PARTITION SCHEME ${ps} AS PARTITION ${pf} ALL TO ([PRIMARY])`,
        `ALTER PARTITION SCHEME ${ps} NEXT USED [PRIMARY]`,
        `ALTER PARTITION FUNCTION ${pf}() SPLIT RANGE (2)`,
      ]),
      updateStatistics: await attempt("UPDATE STATISTICS", [`CREATE TABLE ${a} ([i] int NOT NULL)`, `UPDATE STATISTICS ${a}`]),
      notes,
    };
  }

  async query<R>(q: CompiledQuery): Promise<R[]> {
    const rows: Row[] = [];
    await this.request(q, (r) => rows.push(r));
    return rows as R[];
  }

  execute(q: CompiledQuery): Promise<number | undefined> {
    return q.ownScope ? this.executeWritten(q) : this.request(q);
  }

  /**
   * SQL written by people (a post-refresh step) runs one transaction level below the refresh's: a COMMIT of its own
   * then ends only that level and keeps nothing ("If @@TRANCOUNT is greater than 1, COMMIT TRANSACTION ... only
   * decrements @@TRANCOUNT by 1", Microsoft Learn, COMMIT TRANSACTION), where at level 1 it would make the refresh's
   * unverified writes permanent. A step that leaves another count than it found ended the refresh's transaction and
   * fails, so the refresh rolls back whole. (SQL Server also raises error 266 for a count changed by a batch run
   * through sp_executesql; the TDS server here does not, so the count is checked either way.)
   */
  private async executeWritten(q: CompiledQuery): Promise<number | undefined> {
    const [before] = await this.query<StepContext>({ sql: DRIVER_SQL.stepLevel, params: [] });
    let rows: number | undefined;
    try {
      rows = await this.request(q);
    } catch (e) {
      if ((e as { number?: number }).number !== 266) {
        await this.batch(DRIVER_SQL.stepFailed).catch(() => {});
        if (uncommittable(e))
          throw new Error(
            `an error it caught in TRY ... CATCH made the refresh's transaction uncommittable, and the server rolled it back: the refresh runs under SET XACT_ABORT ON (so that no failure commits half of it), where a caught error still dooms the transaction (XACT_STATE() -1); let the error end the step, or test for what causes it before it happens (${(e as Error).message})`,
            { cause: e },
          );
        throw e;
      }
    }
    const [after] = await this.query<StepContext>({ sql: DRIVER_SQL.stepLevelEnd(before.n), params: [] });
    if (after.n !== before.n)
      throw new Error(
        `it ended the refresh's transaction (@@TRANCOUNT ${after.n} after it, ${before.n} expected): a step runs inside the refresh's transaction, which commits it with the refresh; give its own COMMIT or ROLLBACK a BEGIN TRANSACTION of its own, or leave them out`,
      );
    // The refresh's next statements run on this session: in another database, or as another principal, they would
    // write elsewhere or with other rights. SQL Server ends a dynamic batch's USE with it ("sp_executesql has the same
    // behavior as EXECUTE with regard to ... database context", Microsoft Learn); an EXECUTE AS lasts "until ...
    // REVERT ... the session is dropped, or the stored procedure or trigger where the command was executed exits",
    // which names no dynamic batch. The session is replaced after the failure (the table's fresh sessions).
    const changed = (["database", "login", "user"] as const).filter((k) => after[k] !== before[k]).map((k) => `${k} ${after[k]} (was ${before[k]})`);
    if (changed.length)
      throw new Error(
        `it left the session in another context: ${changed.join(", ")}; the refresh's later statements run on this session, so a step's USE, EXECUTE AS or SETUSER must end with it (name another database's objects in three parts, run one statement as a user with EXECUTE ('...') AS USER = '...', or REVERT before the step ends)`,
      );
    return rows;
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.batch(DRIVER_SQL.begin);
    try {
      const result = await fn();
      await this.batch(DRIVER_SQL.commit);
      return result;
    } catch (e) {
      await this.batch(DRIVER_SQL.rollback).catch(() => {});
      throw e;
    }
  }

  /** Whether the database allowed SNAPSHOT isolation, as the session's identity read it: its first snapshot takes that
   *  answer (one round trip fewer before a run's first rows), later ones ask again. */
  private snapshotStateAtOpen?: number;

  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    const known = this.snapshotStateAtOpen;
    this.snapshotStateAtOpen = undefined;
    const state = known ?? (await this.query<{ state: number }>({ sql: DRIVER_SQL.snapshotAllowed, params: [] }))[0]?.state;
    if (Number(state) !== 1) return fn();
    await this.batch(DRIVER_SQL.snapshotBegin);
    try {
      return await fn();
    } finally {
      await this.batch(DRIVER_SQL.snapshotEnd).catch(() => {});
    }
  }

  private batch(sql: string) {
    return timedStatement(this.at, sql, () => new Promise<void>((resolve, reject) => this.connection.execSqlBatch(new Request(sql, (err) => (err ? reject(this.explain(err)) : resolve())))));
  }


  async exportRows(q: CompiledQuery): Promise<RowStream> {
    const refused = this.refusal(q);
    if (refused) throw refused;
    let req: Request;
    let exported = 0;
    const stream = new Readable({
      objectMode: true,
      highWaterMark: 1000,
      read: () => req?.resume(),
    });
    const done = new Promise<void>((resolve, reject) => {
      req = new Request(q.sql, (failed) => {
        if (failed) {
          const err = this.explain(failed) as Error;
          stream.destroy(err);
          reject(err);
        } else {
          stream.push(null);
          resolve();
        }
      });
      q.params.forEach((v, i) => req.addParameter(`p${i + 1}`, TYPES.NVarChar, v === null ? null : String(v)));
      req.on("row", (cols: { value: unknown }[]) => {
        exported++;
        if (!stream.push(cols.map((c) => keepSubMillisecond(c.value)))) req.pause();
      });
      this.connection.execSql(req);
    });
    // Awaited by the load, or not at all when the load failed first: never an unhandled rejection.
    const read = timedStatement(this.at, q.sql, () => done, () => exported);
    read.catch(() => {});
    return { stream, done: read };
  }

  async importRows(table: TableRef, columns: string[], rows: RowStream, opts: LoadOptions): Promise<number> {
    const info = opts.columnInfo ?? (await this.introspector.columns(table));
    const cols = columns.map((n) => columnNamed(info, n, table));
    const load = () =>
      bulkLoad(this.connection, table, cols, rows.stream, { ...opts, batchSize: Math.max(opts.batchSize, BULK_BATCH_MIN_ROWS) }).catch((e) => {
        throw this.explain(e);
      });
    const total = await timedStatement(this.at, `INSERT BULK ${qualified(table)} (${cols.map((c) => quoteIdent(c.name)).join(", ")})`, load, (n) => n);
    await rows.done;
    return total;
  }

  destroy() {
    this.closing = true;
    (this.connection as unknown as { socket?: { destroy(): void } }).socket?.destroy();
  }

  async close() {
    this.closing = true;
    this.connection.close();
  }
}

/** What the bulk load needs of a tedious Connection (a narrow seam: tests drive it with tedious' own BulkLoad). */
export type BulkConnection = Pick<Connection, "newBulkLoad" | "execBulkLoad">;

/**
 * Streams rows into `table` with TDS bulk load (INSERT BULK), one bulk load per `batchSize` rows, all inside the
 * caller's transaction. Every column is listed, identity columns included: that is how Microsoft's drivers keep
 * identity values (SqlBulkCopy / SQLServerBulkCopy with KeepIdentity list the column; INSERT BULK has no
 * KEEP_IDENTITY option). A batch is only started once it has a row: no empty INSERT BULK after a batch that ended
 * exactly on batchSize.
 */
/** Rows of one INSERT BULK at least: inside the unit's one transaction a batch only adds a round trip and the
 *  server's bulk set-up (measured on a TDS server: 10,000-row batches cost 0.8 s more per 500,000 rows than 100,000-row
 *  ones); tedious streams a batch's rows, so its size costs no memory. batch_size still sizes committed units. */
export const BULK_BATCH_MIN_ROWS = 100_000;

export async function bulkLoad(connection: BulkConnection, table: TableRef, cols: ColumnInfo[], rows: AsyncIterable<unknown>, opts: LoadOptions): Promise<number> {
  const problems = unloadableColumns(cols);
  if (problems.length) throw new Error(`${qualified(table)}: ${problems.join("; ")}`);
  const pull = rowPuller(rows);
  // A row stream that fails mid-batch (the source's session ended) makes tedious end the batch short, and the server
  // then refuses it ("Trying to read more data than available in BCP request"): the stream's own error is the why.
  let streamFailed: unknown;
  const noteFailure = (e: unknown) => {
    streamFailed ??= e;
    throw e;
  };
  let total = 0;
  const bytesOf = () => 16 * cols.length * total; // rough: TDS bytes are not visible here
  for (let first = await pull(); first !== END; first = await pull()) {
    // One iterator per batch, handing rows to tedious as they arrive: no generator layers, no buffering.
    let pending: unknown = first;
    let n = 0;
    const take = (row: unknown): IteratorResult<unknown[]> => {
      if (row === END) return DONE;
      n++;
      total++;
      if (total % 10_000 === 0) opts.onRows?.(total, bytesOf());
      return { value: row as unknown[], done: false };
    };
    const batch: AsyncIterableIterator<unknown[]> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      next() {
        if (pending !== undefined) {
          const row = pending;
          pending = undefined;
          return Promise.resolve(take(row));
        }
        if (n >= opts.batchSize) return Promise.resolve(DONE);
        const row = pull();
        return row instanceof Promise ? row.then(take, noteFailure) : Promise.resolve(take(row));
      },
    };
    await new Promise<void>((resolve, reject) => {
      const bulk = connection.newBulkLoad(qualified(table), { keepNulls: true, lockTable: true, checkConstraints: true, fireTriggers: !!opts.fireTriggers }, (err) => (err ? reject(streamFailed ?? err) : resolve()));
      // tedious writes `[name]` without doubling a `]` inside the name: give it the name QUOTENAME would write.
      for (const c of cols) {
        const exact = transportOf(c);
        // Types sent as exact text / binary are declared as such: the server converts them into the column's type.
        if (exact) bulk.addColumn(c.name.replace(/]/g, "]]"), SENT[exact.sends].type, { nullable: c.nullable, length: SENT[exact.sends].length, precision: exact.precision, scale: exact.scale });
        else bulk.addColumn(c.name.replace(/]/g, "]]"), tediousType(c), { nullable: c.nullable, ...typeArgs(c) });
      }
      connection.execBulkLoad(bulk, batch);
    });
    // A batch that ended short ended on the source's end.
    if (n < opts.batchSize) break;
  }
  opts.onRows?.(total, bytesOf());
  return total;
}

const END = Symbol("end of rows");
const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

/**
 * The rows of a stream one at a time: from a Readable synchronously while it has rows buffered (a promise per row
 * was most of the engine's cost over tedious alone), waiting only when it is empty; from any other async iterable
 * through its iterator. Returns END after the last row; a source error rejects.
 */
export function rowPuller(rows: AsyncIterable<unknown>): () => unknown {
  if (!(rows instanceof Readable)) {
    const it = rows[Symbol.asyncIterator]();
    return () => it.next().then((r) => (r.done ? END : r.value));
  }
  const s = rows;
  let waiter: { resolve(v: unknown): void; reject(e: unknown): void } | null = null;
  let failed: unknown = null;
  const settle = (fn: (w: { resolve(v: unknown): void; reject(e: unknown): void }) => void) => {
    const w = waiter;
    waiter = null;
    if (w) fn(w);
  };
  s.on("readable", () => {
    if (!waiter) return;
    const row = s.read();
    if (row !== null) settle((w) => w.resolve(row));
  });
  s.on("end", () => settle((w) => w.resolve(END)));
  s.on("error", (e) => {
    failed = e;
    settle((w) => w.reject(e));
  });
  // A stream that failed before these listeners were attached (its source refused the query at once) still says why.
  const why = () => failed ?? s.errored ?? new Error("the row stream closed before its end");
  s.on("close", () => settle((w) => (s.readableEnded ? w.resolve(END) : w.reject(why()))));
  return () => {
    if (failed) return Promise.reject(failed);
    const row = s.read();
    if (row !== null) return row;
    if (s.readableEnded) return END;
    if (s.destroyed) return Promise.reject(why());
    return new Promise((resolve, reject) => (waiter = { resolve, reject }));
  };
}

/** tedious reads datetime2/time fractions below a millisecond into `nanosecondsDelta` but writes them from
 *  `nanosecondDelta`: carry the value across, or a copy would truncate datetime2(7) to milliseconds. */
export function keepSubMillisecond(value: unknown): unknown {
  if (value instanceof Date && "nanosecondsDelta" in value) {
    Object.defineProperty(value, "nanosecondDelta", { value: (value as Date & { nanosecondsDelta: number }).nanosecondsDelta, enumerable: false });
  }
  return value;
}

function tediousType(c: ColumnInfo) {
  const t = tediousTypeOf(c);
  if (!t) throw new Error(`column ${c.name}: type ${c.nativeType} is not supported for bulk load`);
  return t;
}

type TediousType = (typeof TYPES)[keyof typeof TYPES];

/** The tedious type of each route of ./transport. */
const SENT: Record<Transport["sends"], { type: TediousType; length?: number }> = {
  "exact decimal": { type: ExactDecimal },
  "exact money": { type: ExactMoney },
  "exact datetimeoffset": { type: ExactDateTimeOffset },
  "nvarchar(max)": { type: TYPES.NVarChar, length: Infinity },
  "varbinary(max)": { type: TYPES.VarBinary, length: Infinity },
};

function tediousTypeOf(c: ColumnInfo): TediousType | undefined {
  const map: Record<BulkTypeName, TediousType> = {
    tinyint: TYPES.TinyInt, smallint: TYPES.SmallInt, int: TYPES.Int, bigint: TYPES.BigInt, bit: TYPES.Bit,
    decimal: TYPES.Decimal, numeric: TYPES.Numeric, money: TYPES.Money, smallmoney: TYPES.SmallMoney, float: TYPES.Float, real: TYPES.Real,
    date: TYPES.Date, datetime: TYPES.DateTime, datetime2: TYPES.DateTime2, smalldatetime: TYPES.SmallDateTime, datetimeoffset: TYPES.DateTimeOffset, time: TYPES.Time,
    char: TYPES.Char, varchar: TYPES.VarChar, nchar: TYPES.NChar, nvarchar: TYPES.NVarChar, text: TYPES.Text, ntext: TYPES.NText,
    uniqueidentifier: TYPES.UniqueIdentifier, binary: TYPES.Binary, varbinary: TYPES.VarBinary, image: TYPES.Image,
  };
  return map[base(c) as BulkTypeName];
}

function typeArgs(c: ColumnInfo): { length?: number; precision?: number; scale?: number } {
  const m = /\((max|\d+)(?:,\s*(\d+))?\)$/i.exec(c.nativeType);
  if (!m) return {};
  const t = base(c);
  if (t === "decimal" || t === "numeric") return { precision: Number(m[1]), scale: Number(m[2] ?? 0) };
  if (t === "datetime2" || t === "time" || t === "datetimeoffset") return { scale: Number(m[1]) };
  return { length: m[1].toLowerCase() === "max" ? Infinity : Number(m[1]) };
}

// The dialect layer: one small interface per engine, in the spirit of Kysely's Driver / QueryCompiler /
// Introspector split. Strategies in lib/engine speak only these types; nothing above this folder knows SQL dialects.
import type { Readable } from "node:stream";

export type Engine = "postgres" | "sqlserver";

export interface ConnectionTarget {
  engine: Engine;
  host: string;
  port?: number;
  database: string;
  user?: string;
  password?: string;
  /** Engine-specific: encrypt, trustServerCertificate, sslmode, authentication... */
  options: Record<string, string | number | boolean>;
}

export interface ConnectOptions {
  /** Source connections are read-only at the session level, not only by convention. */
  readOnly: boolean;
  connectionTimeoutSec: number;
  /** 0 = no limit. */
  commandTimeoutSec: number;
  /** Shown in the server's session list (application_name / program_name). */
  applicationName?: string;
  /** Give up waiting for a lock after this long (status reads must never queue behind a refresh); unset = wait. */
  lockTimeoutMs?: number;
}

export interface CompiledQuery {
  sql: string;
  params: readonly unknown[];
  /** SQL written by people (a post-refresh step): the settings it changes with SET end with it instead of lasting
   *  for the refresh's session (SQL Server: run in a scope of its own, sp_executesql; PostgreSQL: set back). */
  ownScope?: boolean;
}

export interface TableRef {
  schema: string;
  name: string;
}

/** A table as the catalog found it. */
export interface FoundTable extends TableRef {
  /** Why a refresh cannot read or write this table on its server, said before anything of it is read; absent: it can. */
  unsupported?: string;
  /** Why UAT cannot write this table although production's may be read (SQL Server: the history table of a
   *  system-versioned table, an append-only ledger table); absent: it can. */
  unwritable?: string;
  /** What the server keeps of the rows a refresh deletes or updates (SQL Server: a system-versioned table's history,
   *  an updatable ledger table's), said in the plan; absent: nothing. */
  keepsHistory?: string;
  /** Why UAT's table cannot take a partition SWITCH whatever the server can do (SQL Server: system-versioned, a
   *  ledger table); absent: it can. */
  switchRefused?: string;
}

/** What the engine needs to know about a column's type to pick strategies and build watermarks. */
export type TypeFamily = "integer" | "decimal" | "float" | "date" | "datetime" | "text" | "boolean" | "binary" | "other";

export interface ColumnInfo {
  name: string;
  /** Type as the catalog spells it (e.g. `bigint`, `timestamp without time zone`, `datetime2(7)`). */
  nativeType: string;
  family: TypeFamily;
  nullable: boolean;
  identity: boolean;
  /** Computed / generated columns cannot be loaded into. */
  generated: boolean;
  /** The column's default, as its own catalog gives the expression (a row that does not name the column gets it). */
  default?: string;
  /** SQL Server, for structural twins: the column's collation, its computed definition, its identity seed and step. */
  collation?: string;
  computed?: { definition: string; persisted: boolean };
  identitySeed?: string;
  identityIncrement?: string;
  /** SQL Server, for structural twins: the type as the table declares it where that is not `nativeType` (an alias
   *  type, `[dbo].[Name]`), and the column's ROWGUIDCOL and SPARSE properties (SWITCH needs both tables alike). */
  declaredType?: string;
  rowGuid?: boolean;
  sparse?: boolean;
  /** SQL Server: an Always Encrypted column's encryption type (DETERMINISTIC, RANDOMIZED). */
  encryption?: string;
  /** PostgreSQL: the database's encoding, where it is not UTF8 (checksums hash its text as UTF-8, so that a LATIN1
   *  production and a UTF8 UAT holding the same characters checksum the same). */
  encoding?: string;
}

export interface IndexInfo {
  name: string;
  columns: string[];
  unique: boolean;
  primaryKey: boolean;
  /** SQL Server: the clustered index (a switch needs the same one on both tables). */
  clustered?: boolean;
  /** SQL Server: key columns sorted descending, included (non-key) columns, the filter of a filtered index. */
  descending?: string[];
  include?: string[];
  filter?: string;
  /** PostgreSQL: the index backs a UNIQUE constraint (a partition attached under it needs a constraint too). */
  uniqueConstraint?: boolean;
  /** SQL Server: the filegroup or partition scheme the index is stored on (a switch needs the same). */
  dataSpace?: string;
  /** SQL Server: DATA_COMPRESSION (NONE, ROW, PAGE) of each of the index's partitions, partition n at n - 1: SWITCH
   *  needs the same on both sides (Msg 11406), and each index has its own (a table's is not inherited). */
  compression?: string[];
  /** Enforces nothing now: SQL Server's disabled index (ALTER INDEX ... DISABLE), PostgreSQL's invalid one (a
   *  CREATE INDEX CONCURRENTLY that failed, often on the very duplicates it was to forbid). Never a key to match on. */
  disabled?: boolean;
}

/** A CHECK constraint, as the catalog states it. */
export interface CheckInfo {
  name: string;
  definition: string;
}

/** What a staging table must reproduce of its target (SQL Server's SWITCH needs an identical structure). */
export interface TableShape {
  columns: ColumnInfo[];
  indexes: IndexInfo[];
  checks?: CheckInfo[];
}

/** One partition of a range-partitioned table; bounds are YYYYMMDD day numbers when the partitions are daily. */
export interface PartitionInfo {
  /** PostgreSQL: the partition table; SQL Server: the partition number as text. */
  name: string;
  number?: number;
  /** Inclusive lower / exclusive upper bound as stored by the engine (text), null for open ends / default. */
  lower: string | null;
  upper: string | null;
  isDefault: boolean;
  /** SQL Server: the filegroup the partition lives on. */
  filegroup?: string;
  /** SQL Server: the heap's or clustered index's DATA_COMPRESSION in this partition (a staging table switched in
   *  must have the same, Msg 11406). */
  compression?: string;
}

export interface Partitioning {
  column: string;
  columnType: ColumnInfo;
  partitions: PartitionInfo[];
  /** SQL Server: partition function and scheme names. */
  functionName?: string;
  schemeName?: string;
  /** SQL Server: RANGE RIGHT (true: ranges are [lower, upper)) or RANGE LEFT (false: (lower, upper]).
   *  PostgreSQL ranges are always [lower, upper). */
  rangeRight?: boolean;
}

/** Where a day's rows can be switched in: an existing partition, one `createPartition` makes, or nowhere. `range`:
 *  the whole partition the day is switched in with, when it is wider than the day (its other days are reloaded
 *  from the source with it); absent: exactly the day. */
export type DayPlacement =
  | { kind: "exists"; partition: PartitionInfo; range?: { lower: string; upper: string } }
  | { kind: "create"; range?: { lower: string; upper: string } }
  | { kind: "refused"; reason: string };

/** A foreign key: `table`(`columns`) references `referenced`(`referencedColumns`). */
export interface ForeignKey {
  name: string;
  table: TableRef;
  columns: string[];
  referenced: TableRef;
  referencedColumns: string[];
  /** PostgreSQL: the constraint as pg_get_constraintdef prints it, to create it again after a suspended load. */
  definition?: string;
  /** PostgreSQL: the partition the key is declared on, where that is not `table` (a key declared on a partition
   *  counts as its partitioned table's; it is suspended and restored where it is declared). */
  declaredOn?: TableRef;
}

/** Table privileges, plus CREATE (a table in the table's schema: staging tables) and SEQUENCE (moving every sequence
 *  the table's column defaults draw from: UPDATE on PostgreSQL, ALTER on SQL Server). */
export type Privilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE" | "ALTER" | "CREATE" | "SEQUENCE";

/** A sequence a column's default draws from (PostgreSQL nextval, SQL Server NEXT VALUE FOR), owned or not. */
export interface SequenceUse {
  column: string;
  sequence: TableRef;
}

/** Where a table's rows are stored and whether SWITCH can exchange them (SQL Server): a twin must reproduce it. */
export interface TableStorage {
  /** The filegroup, or the partition scheme (with its key column and partition count) of the heap / clustered index. */
  dataSpace: { filegroup: string } | { scheme: string; column: string; partitions: number };
  /** The filegroup of large-value columns, when the table has any (TEXTIMAGE_ON). */
  lobFilegroup?: string;
  /** DATA_COMPRESSION of the heap / clustered index (NONE, ROW, PAGE), partition n at n - 1. */
  compression?: string[];
  /** Why SWITCH cannot exchange the table's rows, each saying what and why (empty: it can). */
  blockers: string[];
}

export interface Introspector {
  /** Finds a table case-insensitively as the engine would resolve it; null when absent. */
  findTable(name: string, schema?: string): Promise<FoundTable | null>;
  columns(table: TableRef): Promise<ColumnInfo[]>;
  indexes(table: TableRef): Promise<IndexInfo[]>;
  partitioning(table: TableRef): Promise<Partitioning | null>;
  /** Every foreign key whose referencing or referenced table is `table` (self-references once). */
  foreignKeys(table: TableRef): Promise<ForeignKey[]>;
  /** The user triggers on `table` that are enabled now (a refresh disables and re-enables exactly these). */
  triggers(table: TableRef): Promise<string[]>;
  /** Sequences the defaults of `table`'s columns draw from, other than identity columns' own generators. */
  sequences(table: TableRef): Promise<SequenceUse[]>;
  /** SQL Server: the table's enabled CHECK constraints, for a structural twin (PostgreSQL's LIKE copies its own). */
  checks?(table: TableRef): Promise<CheckInfo[]>;
  /** SQL Server: the table's storage and what stands in the way of exchanging its rows by SWITCH. */
  storage?(table: TableRef): Promise<TableStorage>;
  /** Which of `wanted` the session's login lacks on `table` (ALTER: change its triggers and constraints, attach
   *  and detach partitions: PostgreSQL needs the table's owner, SQL Server the ALTER permission). */
  missingPrivileges(table: TableRef, wanted: Privilege[]): Promise<Privilege[]>;
  /** Row-level security that applies to the session's login on `table` (null: none; absent: the dialect cannot
   *  tell). */
  rowSecurity?(table: TableRef): Promise<RowSecurity | null>;
  /** Columns of `table` the session's login reads through a dynamic data mask (SQL Server; absent: the dialect has
   *  no such masks). */
  maskedColumns?(table: TableRef): Promise<MaskedColumn[]>;
  /** Sessions on this database whose name starts with `sessionPrefix` and that wait for a lock, each with the
   *  sessions holding it (absent: the dialect cannot tell). */
  lockWaits?(sessionPrefix: string): Promise<LockWait[]>;
}

/** Row-level security on a table, as it applies to one login. */
export interface RowSecurity {
  /** What applies, as the catalog names it (policies, or their predicates). */
  policies: string[];
  /** Reads see only the rows it allows, and so do a DELETE's and an UPDATE's (otherwise it only refuses writes). */
  filtersReads: boolean;
}

/** A column a dynamic data mask hides from a login: its name and the masking function, as the catalog says it. */
export interface MaskedColumn {
  column: string;
  mask: string;
}

/** A session waiting for a lock: its name (as it named itself to the server), since when, and who holds the lock. */
export interface LockWait {
  session: string;
  since: string;
  /** The sessions in its way, as the server lists them (fields the login may not see are null). */
  blockers: { user: string | null; application: string | null; client: string | null; state: string | null }[];
}

export interface ServerIdentity {
  /** Names of this database that hold however the server was reached (alias, IP, listener): two sessions share
   *  one of them exactly when they are on the same database. */
  keys: string[];
  version: string;
  database: string;
  /** Why this database takes no writes (a standby, a read-only database), where it takes none; said of a target
   *  before anything is planned. A source session's own read-only setting is not reported. */
  readOnly?: string;
}

export function sameDatabase(a: ServerIdentity, b: ServerIdentity): boolean {
  return a.keys.some((k) => b.keys.includes(k));
}

/** Rows in the engine's own bulk format (PostgreSQL: COPY text bytes; SQL Server: row arrays). */
export interface RowStream {
  stream: Readable;
  /** Resolves when the source side finished cleanly; rejects on a source error. */
  done: Promise<void>;
}

export interface LoadOptions {
  batchSize: number;
  /** SQL Server: send the bulk load with FIRE_TRIGGERS (PostgreSQL's COPY fires whatever triggers are enabled). */
  fireTriggers?: boolean;
  /** Called with the running row count as rows arrive. */
  onRows?: (rows: number, bytes: number) => void;
  /** The loaded columns as the caller already read them from the catalog, in `columns`' order (a stream into a
   *  staging table built as the target's twin): SQL Server then declares the bulk load without reading them again. */
  columnInfo?: ColumnInfo[];
}

/** What a server can do of what the engine uses, found by trying it (where a server may lack it). */
export interface ServerCapabilities {
  /** ALTER TABLE ... SWITCH (the twin of a full replace, a partition switch). */
  switch: boolean;
  /** ALTER PARTITION SCHEME ... NEXT USED and ALTER PARTITION FUNCTION ... SPLIT RANGE (new partitions). */
  partitionDdl: boolean;
  /** UPDATE STATISTICS after a load. */
  updateStatistics: boolean;
  /** Why each missing one is missing, as the server said it. */
  notes: string[];
}

export interface Session {
  readonly engine: Engine;
  readonly introspector: Introspector;
  /** Target side, where a server may lack features: what it can do, probed in transactions that are rolled back,
   *  once per session or less (SQL Server keeps a probe's answer a while: sqlserver/capability-cache); absent:
   *  everything the dialect uses. Never called inside a transaction. */
  capabilities?(): Promise<ServerCapabilities>;
  identity(): Promise<ServerIdentity>;
  query<R = Record<string, unknown>>(q: CompiledQuery): Promise<R[]>;
  /** Runs a statement (or a target-side batch); resolves to the rows it changed, summed over a batch's statements,
   *  or to nothing where the server gave no count (statements that change no rows; SQL Server under NOCOUNT). */
  execute(q: CompiledQuery): Promise<number | void>;
  /** Runs `fn` in a transaction on this session; rolls back when it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Source side: runs `fn` with every read on one consistent snapshot where the engine offers one (a group's
   *  parents and children must come from the same moment, or new children arrive without their parents). */
  snapshot<T>(fn: () => Promise<T>): Promise<T>;
  /** Inside `snapshot`: an id with which other sessions read the very same snapshot (PostgreSQL's exported
   *  snapshots); absent where the engine has no such thing. */
  exportSnapshot?(): Promise<string>;
  /** Starts a read-only transaction on a snapshot another session exported. */
  joinSnapshot?(id: string): Promise<void>;
  /** Streams the rows of a SELECT built by the compiler, with backpressure. */
  exportRows(q: CompiledQuery): Promise<RowStream>;
  /** Bulk-loads a RowStream from the same engine; resolves to the number of rows written. */
  importRows(table: TableRef, columns: string[], rows: RowStream, opts: LoadOptions): Promise<number>;
  /** Why the server ended this session, once it did (a KILL or pg_terminate_backend, a restart, the network);
   *  unset while it is open and when the product itself closed or cut it. */
  readonly endedByServer?: string;
  /** Forcefully ends the session (a killed refresh). */
  destroy(): void;
  close(): Promise<void>;
}

/** Filters a source SELECT may carry; values always travel as parameters. */
export type RowFilter =
  | { kind: "greater"; column: ColumnInfo; value: string }
  /** `column` >= `value`, and NULL too when `nulls` (a date window over a column production leaves NULL in). */
  | { kind: "atLeast"; column: ColumnInfo; value: string; nulls?: boolean }
  /** `column` IS NULL. */
  | { kind: "isNull"; column: ColumnInfo }
  | { kind: "range"; column: ColumnInfo; lower: string; upper: string }
  /** `column` in (after, upTo]: one committed page of an identity copy (after null: from the start). */
  | { kind: "upTo"; column: ColumnInfo; after: string | null; upTo: string }
  /** One parallel stream's share of a table: key in [lower, upper) (null: open), NULL keys when `nulls`, and inside
   *  `within` (a partition's day range) when given. */
  | { kind: "slice"; column: ColumnInfo; lower: string | null; upper: string | null; nulls: boolean; within?: RowFilter }
  /** `column` equal to `value` (a key value looked up). */
  | { kind: "equals"; column: ColumnInfo; value: string }
  /** `column` below `value`, or NULL (rows outside UAT's own id range). */
  | { kind: "below"; column: ColumnInfo; value: string }
  /** Rows an admin-written predicate (checked by lib/dialects/expression) holds for / does not hold for (NULL: not). */
  | { kind: "matching"; sql: string }
  | { kind: "notMatching"; sql: string }
  /** Rows of `table` (the statement's own, unaliased) whose `key` the table `staging` has no row of. */
  | { kind: "unstaged"; table: TableRef; staging: TableRef; key: string[] }
  /** Every filter holds. */
  | { kind: "all"; filters: RowFilter[] }
  /** At least one holds. */
  | { kind: "any"; filters: RowFilter[] };

/** A filter on one column's values (a watermark window, a day range, a stream's slice). */
export type ColumnFilter = Extract<RowFilter, { column: ColumnInfo }>;

/** SQL text for every statement a strategy runs. Pure: testable without a server. */
export interface QueryCompiler {
  quoteIdent(name: string): string;
  qualified(table: TableRef): string;
  /** `expressions`: by column name, an SQL expression the source evaluates in that column's place (masking `sql`
   *  rules: admin-written, run on the read-only source session). */
  selectRows(table: TableRef, columns: ColumnInfo[], filter?: RowFilter, orderBy?: string, limit?: number, expressions?: Record<string, string>): CompiledQuery;
  countRows(table: TableRef, filter?: RowFilter): CompiledQuery;
  /** Over the rows of `filter`, per band (bounds[i], bounds[i + 1]] of `column`: its rows (`n<i>`) and the sum of
   *  `summed`'s values (`s<i>`: one number as itself, other columns as the checksum's hash of their values; by
   *  default `column`'s own where it is numeric, none for another), as text, 0 in an empty band. One statement
   *  however many bands. */
  bandCounts(table: TableRef, column: ColumnInfo, bounds: string[], filter?: RowFilter, summed?: ColumnInfo[]): CompiledQuery;
  /** The runs of values missing from an integer `column` in (after, upTo] among the rows of `filter`: rows of
   *  `after` and `before` (text), each a gap of the values strictly between them; the highest `limit`, highest
   *  first. One index range read. */
  idGaps(table: TableRef, column: ColumnInfo, after: string, upTo: string, limit: number, filter?: RowFilter): CompiledQuery;
  /** `n` rows and `sum`, an order-independent checksum of `columns` (both as text): equal on both sides when the
   *  rows are, for columns of the same type. */
  checksum(table: TableRef, columns: ColumnInfo[], filter?: RowFilter): CompiledQuery;
  /** The planner's row estimate (`n`, -1 when unknown) and the table's size on disk (`bytes`, null where the
   *  estimate is always known): the dashboard must not scan big production tables. */
  estimateRows(table: TableRef): CompiledQuery;
  /** `max` (and `cutoff` = max - bufferDays for date kinds) as text, or nulls on an empty table; over the rows of
   *  `filter` only when given (production's rows of a lived-in target). */
  watermark(table: TableRef, column: ColumnInfo, bufferDays: number, filter?: RowFilter): CompiledQuery;
  isEmpty(table: TableRef): CompiledQuery;
  emptyTable(table: TableRef, truncate: boolean): CompiledQuery;
  deleteRows(table: TableRef, filter: RowFilter): CompiledQuery;
  /** Moves the column's identity generator forward past every value in the table, and at least to `floor` (UAT's own
   *  id range) when given; never backwards. Fails when afterwards the generator is still behind the table's rows. */
  resyncIdentity(table: TableRef, column: ColumnInfo, floor: string | null): CompiledQuery | null;
  distinctValues(table: TableRef, column: ColumnInfo, filter?: RowFilter): CompiledQuery;
  /** The key's distribution from the catalog's statistics, no scan: rows of `bound` (text, in key order; null: the
   *  NULL keys) and `rows`, the relative number of rows up to that bound since the previous one. */
  keyHistogram(table: TableRef, column: ColumnInfo): CompiledQuery;
  /** `lo` and `hi` of the key (as text) inside `filter`. */
  keyBounds(table: TableRef, column: ColumnInfo, filter?: RowFilter): CompiledQuery;
  /** The `key` of each row inside `filter`, one text column per key column (`k0`, `k1`...), in the form an `equals`
   *  filter takes back. */
  keyValues(table: TableRef, key: ColumnInfo[], filter?: RowFilter): CompiledQuery;
}

/** How a staged table is merged into its target (RelationsCompiler.mergeFromStaging). */
export interface MergeSpec {
  key: string[];
  columns: string[];
  update?: string[];
  keepers: ForeignKey[];
  identity: boolean;
  scope?: RowFilter;
  /** An admin-written keep rule (checked by lib/dialects/expression): rows it names are never deleted. */
  keep?: string;
  /** The target's native type of each column by name: types the engine cannot compare as they are (SQL Server's
   *  xml, text, ntext, image, CLR types) are compared through a conversion. */
  types?: Record<string, string>;
}

/** Statements of a refresh group: tables related by foreign keys, refreshed in one target transaction. */
export interface RelationsCompiler {
  /** Empties `tables` (given children first) in the one transaction. `keys`: every foreign key referencing any of
   *  them (TRUNCATE is only possible where the engine allows it with those keys). */
  emptyTables(tables: TableRef[], truncate: boolean, keys: ForeignKey[]): CompiledQuery[];
  /** Stops the key from being checked while the group loads (cycles, self-references). */
  suspendForeignKey(fk: ForeignKey): CompiledQuery;
  /** The number of referencing rows (`n`) whose key has no referenced row: never their values. */
  foreignKeyViolations(fk: ForeignKey): CompiledQuery;
  /** Enforces the key again, validated and trusted. */
  restoreForeignKey(fk: ForeignKey): CompiledQuery;
  setTriggersEnabled(table: TableRef, triggers: string[], enabled: boolean): CompiledQuery[];
  /** Moves a sequence past the largest value of `column`, and at least to `floor` when given and the sequence can
   *  hold it (never backwards). */
  resyncSequence(table: TableRef, column: string, sequence: TableRef, floor: string | null): CompiledQuery;
  /** Refreshes the planner's statistics of a table just reloaded. */
  analyze(table: TableRef): CompiledQuery;
  /** Where a merge stages `table`'s source rows (PostgreSQL: a temporary table; SQL Server: a table beside it). */
  mergeStaging(table: TableRef): TableRef;
  /** The staging table of a merge: `table`'s `columns` (the loaded ones) with their types, no constraints, dropped at
   *  commit. Only those: a NOT NULL column the load does not fill (UAT's own generated or computed one) would refuse
   *  every staged row. */
  createMergeStaging(table: TableRef, staging: TableRef, columns: string[]): CompiledQuery[];
  /** From the staging table: update rows that differ, insert new ones, delete rows gone from the source unless a row
   *  of `keepers` still references them or the `keep` rule names them; `gone` counts the rows gone from the source
   *  that no keep rule names (deleted, or kept because still referenced). Each returns a row count as `n`. Set-based: each keeper is one anti-join. `identity`: the columns include an identity column whose values are copied. `scope`: only target rows
   *  inside it can be gone (a re-synced window). `update`: the columns written on matching rows (default: all but
   *  the key). */
  mergeFromStaging(table: TableRef, staging: TableRef, m: MergeSpec): { update: CompiledQuery; insert: CompiledQuery; delete: CompiledQuery; gone: CompiledQuery };
  /** Every staged row inserted into `table` as it is (identity values kept when `identity`). */
  insertFromStaging(table: TableRef, staging: TableRef, columns: string[], identity: boolean): CompiledQuery;
  /** `n`: how many staged rows have a row of the same key in `table` (every one, after a correct load). */
  stagedRowsPresent(table: TableRef, staging: TableRef, key: string[]): CompiledQuery;
  /** Where the keys a window asks production about wait, numbered (dropped like a merge's staging table). */
  askedKeysTable(table: TableRef): TableRef;
  /** Into `asked`, a new table: the key (k0, k1... as the compiler's keyValues gives it) of each row of `table` inside
   *  `scope` whose key `staging` has no row of (none with a NULL part: such a key matches nothing), numbered 1..n
   *  (rn; `collect` counts them, `index` then indexes rn). One anti-join however many keys; read a page at a time
   *  with keysPage. */
  collectUnstagedKeys(table: TableRef, staging: TableRef, asked: TableRef, key: ColumnInfo[], scope?: RowFilter): { collect: CompiledQuery; index: CompiledQuery };
  /** The keys numbered (after, upTo] of `asked` (k0..k<columns - 1>). */
  keysPage(asked: TableRef, columns: number, after: number, upTo: number): CompiledQuery;
  dropMergeStaging(staging: TableRef): CompiledQuery;
  /** Where a re-synced window holds production's rows that UAT changed since the last refresh (dropped like a
   *  merge's staging table). */
  heldRowsTable(table: TableRef): TableRef;
  /** Copies `columns` of the rows of `table` in `filter` into `held`, a new table, in the caller's transaction. */
  holdRows(table: TableRef, held: TableRef, columns: string[], filter: RowFilter): CompiledQuery[];
  /** Deletes the rows of `from` whose `key` has a row in `other`; `n`: rows deleted. */
  deleteMatched(from: TableRef, other: TableRef, key: string[]): CompiledQuery;
  /** Where keep_columns' UAT values wait while a table is replaced (dropped like a merge's staging table). */
  keptColumnsTable(table: TableRef): TableRef;
  /** Saves `key` and `columns` of every row of `table` into `saved`, in the caller's transaction. */
  saveColumns(table: TableRef, saved: TableRef, key: string[], columns: string[]): CompiledQuery[];
  /** Writes the saved values back onto the rows of the same key; `n`: rows written. */
  restoreColumns(table: TableRef, saved: TableRef, key: string[], columns: string[]): CompiledQuery;
}

/** Statements of the staging / partition switch strategy. */
export interface PartitionCompiler {
  /** Whether `day` has its own partition, can get one, or cannot (said why). Pure: decided from the catalog state. */
  placeDay(p: Partitioning, day: number): DayPlacement;
  /** Where the rows whose key is NULL (no day) live: the partition's name, or null where no partition can hold them. */
  nullKeyPartition(p: Partitioning): string | null;
  /** Statements that give `day` an empty partition of its own (placeDay said "create"). */
  createPartition(table: TableRef, p: Partitioning, day: number): CompiledQuery[];
  /** An empty staging table shaped like `table`, placed where partition `day` lives (and, where the engine needs
   *  one to switch the old partition out into, the empty `retired` twin). */
  createStaging(table: TableRef, staging: TableRef, retired: TableRef, p: Partitioning, day: number, shape: TableShape): CompiledQuery[];
  /** Indexes and the range CHECK the switch requires, built after the load. */
  prepareStaging(table: TableRef, staging: TableRef, indexes: IndexInfo[], p: Partitioning, day: number): CompiledQuery[];
  /** The short transaction: old partition out to `retired`, staging in. */
  switchIn(table: TableRef, staging: TableRef, retired: TableRef, p: Partitioning, day: number, shape: TableShape): CompiledQuery[];
  /** A query whose rows (`sql`) are statements to run once the day is switched in and the old data dropped, e.g.
   *  giving the new partition's indexes (those built on `staging`) the names the engine would have given them;
   *  null when nothing is needed. */
  tidyAfterSwitch(table: TableRef, p: Partitioning, day: number, staging: TableRef): CompiledQuery | null;
  /** What the partition `day` is switched into has of its own (not from its parent): indexes UAT added, its own keys
   *  and foreign keys, CHECKs, triggers, grants, owner, storage parameters, row-level security and policies, comment.
   *  A query whose rows are `{ phase, sql }`: "before" statements give them to the loaded `staging` table before the
   *  switch, "after" statements (run once the old partition is dropped) give them their names back. Absent where the
   *  switch keeps them by construction (SQL Server exchanges rows into the table object, which keeps its own). */
  ownObjects?(table: TableRef, p: Partitioning, day: number, staging: TableRef): CompiledQuery | null;
  /** The own indexes of these partitions that ownObjects does not carry, being invalid (a CREATE INDEX CONCURRENTLY
   *  that failed): a query whose rows are `{ partition, index }`. Absent where a switch keeps indexes by construction. */
  invalidOwnIndexes?(table: TableRef, partitions: string[]): CompiledQuery;
  dropTable(table: TableRef): CompiledQuery;
  /** Tables left behind by an interrupted run, recognisable by our marker. */
  findLeftovers(table: TableRef): CompiledQuery;
}

/** A full replace that loads a structural twin of the table and exchanges it for the table's rows in one short
 *  transaction (SQL Server: SWITCH), so readers keep the old rows until that moment. */
export interface SwapCompiler {
  /** The empty twin to load (columns only: indexes and CHECKs are built after the load) and the empty `retired`
   *  twin, complete, that the old rows are switched out into; both where the table is stored. */
  createTwin(table: TableRef, twin: TableRef, retired: TableRef, storage: TableStorage, shape: TableShape): CompiledQuery[];
  /** The twin's indexes and CHECK constraints (trusted), built once it is loaded. */
  prepareTwin(twin: TableRef, storage: TableStorage, shape: TableShape): CompiledQuery[];
  /** The short transaction: the old rows out to `retired`, the twin's in. */
  switchIn(table: TableRef, twin: TableRef, retired: TableRef, storage: TableStorage): CompiledQuery[];
}

export interface Dialect {
  readonly engine: Engine;
  readonly compiler: QueryCompiler;
  readonly partitions: PartitionCompiler;
  readonly relations: RelationsCompiler;
  /** Where the engine can exchange a loaded twin for a table's rows (absent: full replaces load in place). */
  readonly swap?: SwapCompiler;
  connect(target: ConnectionTarget, opts: ConnectOptions): Promise<Session>;
  /** Loads what its sessions need (a driver loaded with the first session), ahead of it: a stream thread warming up
   *  does it while the plan reads the catalog, instead of when its load starts. */
  prepare?(): Promise<void>;
  /** The same rows with the values at `columns` (indexes into the row) replaced by what `map` returns for them;
   *  values reach `map` as the engine carries them (PostgreSQL: text or null; SQL Server: the driver's values).
   *  Streamed, with backpressure: the engine's masking stage runs here. */
  mapRows(rows: RowStream, columns: number[], map: (values: unknown[]) => unknown[]): RowStream;
  /** Reads a small RowStream into one array of values per row (the masking preview shows them). */
  rowValues(rows: RowStream): Promise<unknown[][]>;
  /** Columns this engine's bulk path cannot copy exactly, each naming the column, its type and why (empty: all fine). */
  unloadableColumns(columns: ColumnInfo[]): string[];
  /** Whether a bulk load gives a column it does not name that column's default (else a regular INSERT must). */
  readonly bulkLoadAppliesDefaults: boolean;
  /** The catalog's row figure of a table is kept by the storage engine as rows are written, not taken from statistics
   *  gathered now and then: a full replace, which reads every row anyway, takes it instead of counting production's. */
  readonly catalogKeepsRowCounts: boolean;
  /** The server brings a table's statistics up to date itself before planning a query on rows that changed (so a
   *  table's first load needs no statistics of its own). */
  readonly updatesStatisticsOnQuery: boolean;
  /** Errors worth retrying: dropped connections, deadlocks, serialization failures. */
  isTransient(error: unknown): boolean;
  /** A hint for errors a database team meets often (permissions, missing objects, timeouts). */
  hintFor(error: unknown): string | undefined;
}

// A server-less model of the SQL Server state that staging_partition_switch depends on, written from Microsoft's
// documentation, so the dialect's statements can be executed here and their effect checked:
// - CREATE PARTITION FUNCTION: RANGE RIGHT ranges are [b(k-1), b(k)), RANGE LEFT ranges (b(k-1), b(k)]; the first and
//   last are open-ended; $PARTITION numbers them 1..n+1 from the lowest.
// - ALTER PARTITION FUNCTION ... SPLIT RANGE (v): fails without a NEXT USED filegroup (error 7707) or on an existing
//   boundary (7721); "the one where the new boundary_value resides is considered the new partition": it goes to the
//   NEXT USED filegroup, which is then cleared, and the rows of that range move (the model counts them).
// - ALTER TABLE s SWITCH TO t PARTITION n: the target partition must be empty (4904), s must be on partition n's
//   filegroup (4939), and a trusted CHECK on s must keep every row inside partition n's range (4972).
// - SWITCH also needs the same DATA_COMPRESSION on both sides, for the heap / clustered index and each nonclustered
//   index, partition by partition (Msg 11406; "Data compression": each partition and each index has its own).
// - TRUNCATE TABLE is refused for a table a FOREIGN KEY of another table references, enabled or not (Msg 4712).
// - A ledger table takes no SWITCH IN / OUT ("Ledger considerations and limitations"), nor a system-versioned one
//   while SYSTEM_VERSIONING is ON ("Partition switching with temporal tables"); the numbers are not modelled.
// - sys.partition_range_values is what the introspector reads; its text is rendered as the query asks for it.
// It answers the catalog queries the dialect sends and the engine's own row queries on a one-table database.
import { CHECKSUM_QUERY, modelChecksum } from "./model-checksum";
import { Readable } from "node:stream";
import { sqlServerCompiler, truncateOrDelete } from "../../lib/dialects/sqlserver/compiler";
import { SQL, sqlServerIntrospector } from "../../lib/dialects/sqlserver/introspector";
import { comparePoints, toPoint, type Point } from "../../lib/dialects/partition-days";
import type { ColumnInfo, CompiledQuery, Privilege, RowStream, ServerCapabilities, Session, TableRef, TypeFamily } from "../../lib/dialects/types";
import { OneRequestAtATime } from "./one-request";

export type KeyType = "int" | "date" | "datetime2";
const FAMILY: Record<KeyType, TypeFamily> = { int: "integer", date: "date", datetime2: "datetime" };

/** What tedious raises for a request on a connection that dropped (ConnectionError, code ECONNRESET). */
function connectionLost(sql: string): Error {
  return Object.assign(new Error(`model: connection lost at ${sql.slice(0, 60)}: read ECONNRESET`), { name: "ConnectionError", code: "ECONNRESET" });
}

export class SqlError extends Error {
  constructor(
    readonly number: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ModelTable {
  table: TableRef;
  key: string;
  keyType: KeyType;
  /** Key values of the rows, as text (20250101, 2025-01-01, 2025-01-01 10:00:00). */
  rows: string[];
  /** The table's declared structure and storage, when a test needs more than (id bigint, key): the catalog rows
   *  are rendered from it, and SWITCH compares twins against it. */
  structure?: Structure;
  /** Enabled security policies' predicates on the table, as SQL.rowSecurity reads them (sys.security_predicates). */
  securityPredicates?: { policy: string; kind: "FILTER" | "BLOCK"; predicate: string }[];
  /** The columns this session's login reads through a dynamic data mask, as SQL.maskedColumns answers (masked, and
   *  no UNMASK that covers them). */
  maskedColumns?: { column: string; mask: string }[];
  /** A table that takes no SWITCH whatever the server can do: an updatable ledger table (LEDGER = ON; its END
   *  columns make SQL.findTable read ledger kind 2), or a system-versioned one (temporal_type 2). */
  noSwitch?: "updatable ledger" | "system-versioned";
}

/** A column as its DDL states it. */
export interface ColumnFact {
  name: string;
  /** `decimal(18,2)`, `nvarchar(50)`, `nvarchar(max)`, `datetime2(3)`, `int`. */
  type: string;
  nullable: boolean;
  collation?: string;
  identity?: { seed: string; increment: string };
  computed?: { definition: string; persisted: boolean };
  /** The DEFAULT constraint's definition as sys.default_constraints gives it, e.g. `(N'new')`. */
  default?: string;
  /** An alias type the column is declared with, `[dbo].[Name]` (its base type in `type`): the column's data type as
   *  sys.columns.user_type_id records it. */
  alias?: string;
  rowGuid?: boolean;
  sparse?: boolean;
  /** Always Encrypted: sys.columns.encryption_type_desc (DETERMINISTIC, RANDOMIZED). */
  encryption?: string;
}

export interface IndexFact {
  name: string;
  clustered: boolean;
  unique: boolean;
  primaryKey: boolean;
  keys: { column: string; desc?: boolean }[];
  include?: string[];
  filter?: string;
  /** The filegroup the index is on (default: the table's). */
  dataSpace?: string;
  compression?: Compression;
  /** ALTER INDEX ... DISABLE: sys.indexes.is_disabled. */
  disabled?: boolean;
}

/** DATA_COMPRESSION: one value for every partition, or partition n's at n - 1 (NONE where absent). */
export type Compression = string | string[];
const compressionAt = (c: Compression | undefined, n: number) => (c === undefined ? "NONE" : typeof c === "string" ? c : (c[n - 1] ?? "NONE"));

/** `WITH (DATA_COMPRESSION = PAGE ON PARTITIONS (1, 3), DATA_COMPRESSION = ROW ON PARTITIONS (2))` as the server
 *  reads it for an object of `partitions` partitions; values other than NONE / ROW / PAGE refused. */
function parseCompression(clause: string | undefined, partitions: number): Compression | undefined {
  if (!clause) return undefined;
  const parts: string[] = Array.from({ length: partitions }, () => "NONE");
  for (const m of clause.matchAll(/DATA_COMPRESSION = (\w+)(?: ON PARTITIONS \(([\d, ]+)\))?/g)) {
    if (!["NONE", "ROW", "PAGE"].includes(m[1])) throw new SqlError(155, `'${m[1]}' is not a recognized DATA_COMPRESSION option.`);
    if (!m[2]) return m[1];
    for (const n of m[2].split(", ").map(Number)) {
      if (n < 1 || n > partitions) throw new SqlError(7722, `Invalid partition number ${n} specified.`);
      parts[n - 1] = m[1];
    }
  }
  return parts;
}

export interface Structure {
  columns: ColumnFact[];
  indexes: IndexFact[];
  checks: { name: string; definition: string }[];
  filegroup: string;
  lobFilegroup?: string;
  /** The heap's / clustered index's compression (the clustered index's own, when it states one, wins). */
  compression?: Compression;
  /** Catalog facts that stand in the way of SWITCH (sys.foreign_keys, sys.indexes types, ...), as SQL.storage names them. */
  storage?: Record<string, unknown>;
}

/** A table the dialect created (staging, twins), as the model parsed its DDL. */
interface CreatedTable {
  filegroup: string;
  /** The heap's compression (a clustered index carries its own). */
  compression?: Compression;
  columns?: ColumnFact[];
  indexes: IndexFact[];
  checks: string[];
  /** The partition-range CHECK of a staging table. */
  check?: Cond[];
  rows: string[];
  marker?: string;
}

export interface PartitionedTable extends ModelTable {
  functionName: string;
  schemeName: string;
  rangeRight: boolean;
  boundaries: string[];
  /** One per partition (boundaries + 1); default all PRIMARY. */
  filegroups?: string[];
}

type Cond = { op: ">" | ">=" | "<" | "<="; value: Point };

export class SqlServerModel {
  readonly statements: string[] = [];
  movedRows = 0;
  nextUsed: string | null = null;
  tables = new Map<string, CreatedTable>();
  /** A statement that fails as the server would fail it (a lost connection, a lock timeout): tests of atomicity. */
  failOn?: RegExp;
  /** A statement whose connection is lost the first time it is sent: tedious then fails the request with a
   *  ConnectionError of code ECONNRESET (or ESOCKET), which the engine retries on fresh sessions. */
  lostOnce?: RegExp;
  /** The same, for the statement at this index of `statements` (a sweep over every statement of a run). */
  lostAt?: number;

  constructor(readonly t: PartitionedTable) {
    t.boundaries = [...t.boundaries].sort((a, b) => comparePoints(this.point(a), this.point(b)));
    t.filegroups ??= t.boundaries.map(() => "PRIMARY").concat("PRIMARY");
  }

  private get shape() {
    return { columnType: { family: FAMILY[this.t.keyType] } as ColumnInfo };
  }

  point(text: string): Point {
    const p = toPoint(this.shape, text);
    if (p === null) throw new Error(`model: cannot read ${text} as ${this.t.keyType}`);
    return p;
  }

  /** $PARTITION.pf(value). */
  partitionNumber(value: string): number {
    const v = this.point(value);
    const below = this.t.boundaries.filter((b) => (this.t.rangeRight ? comparePoints(this.point(b), v) <= 0 : comparePoints(this.point(b), v) < 0));
    return below.length + 1;
  }

  /** Partition n's range as conditions on the key. */
  private range(n: number): Cond[] {
    const b = this.t.boundaries;
    const conds: Cond[] = [];
    if (n > 1) conds.push({ op: this.t.rangeRight ? ">=" : ">", value: this.point(b[n - 2]) });
    if (n <= b.length) conds.push({ op: this.t.rangeRight ? "<" : "<=", value: this.point(b[n - 1]) });
    return conds;
  }

  get targetName() {
    return sqlServerCompiler.qualified(this.t.table);
  }

  /** Rows bulk-loaded into a staging table, or into the table itself. */
  stage(table: string, keys: string[]) {
    if (table === this.targetName) this.t.rows.push(...keys);
    else this.tables.get(table)!.rows.push(...keys);
  }

  rowsIn(n: number): string[] {
    return this.t.rows.filter((r) => this.partitionNumber(r) === n);
  }

  // ---- T-SQL the dialect sends -------------------------------------------------------------------------------
  execute(sql: string, params: readonly unknown[] = []) {
    this.statements.push(sql);
    if (this.failOn?.test(sql)) throw new SqlError(-2, `model: injected failure at ${sql.slice(0, 60)}`);
    if (this.lostOnce?.test(sql) || this.lostAt === this.statements.length - 1) {
      this.lostOnce = undefined;
      throw connectionLost(sql);
    }
    let m: RegExpExecArray | null;
    if ((m = /^IF EXISTS \(SELECT 1 FROM (\S+) WHERE (.+)\) THROW (\d+), N'((?:[^']|'')*)', 1$/.exec(sql))) {
      if (this.t.rows.some((r) => this.matches(r, this.conds(m![2], params)))) throw new SqlError(Number(m[3]), m[4].replace(/''/g, "'"));
      return;
    }
    if ((m = /^ALTER PARTITION SCHEME \[(.+)\] NEXT USED \[(.+)\]$/.exec(sql))) {
      if (m[1] !== this.t.schemeName) throw new SqlError(7718, `partition scheme ${m[1]} does not exist`);
      this.nextUsed = m[2];
      return;
    }
    if ((m = /^ALTER PARTITION FUNCTION \[(.+)\]\(\) SPLIT RANGE \((.+)\)$/.exec(sql))) return this.split(m[1], this.literal(m[2]));
    // ON [filegroup], or ON [scheme]([column]): the data space is the filegroup's or the scheme's name.
    if ((m = /^CREATE TABLE (\S+) \((.*)\) ON \[([^\]]+)\](\(\[[^\]]+\]\))?( TEXTIMAGE_ON \[[^\]]+\])?(?: WITH \((.+)\))?$/.exec(sql))) {
      if (this.tables.has(m[1]) || m[1] === this.targetName) throw new SqlError(2714, `there is already an object named ${m[1]} in the database`);
      this.tables.set(m[1], { filegroup: m[3], columns: parseColumns(m[2]), indexes: [], checks: [], rows: [], compression: parseCompression(m[6], this.partitionsOn(m[4])) });
      return;
    }
    if ((m = /^EXEC sys\.sp_addextendedproperty @name = N'[^']*', @value = N'([^']*)', @level0type = N'SCHEMA', @level0name = N'([^']*)', @level1type = N'TABLE', @level1name = N'([^']*)'$/.exec(sql))) {
      this.created(`[${m[2]}].[${m[3]}]`).marker = m[1];
      return;
    }
    if ((m = /^DROP TABLE IF EXISTS (\S+)$/.exec(sql))) {
      this.tables.delete(m[1]);
      return;
    }
    // The modelled table is one no key references, in no indexed view, neither published nor versioned: TRUNCATE is
    // allowed (the refusals are modelled in ./sqlserver-db-model).
    if ((m = /^IF EXISTS \(.+\) DELETE FROM (\S+) ELSE TRUNCATE TABLE \1$/.exec(sql)) && m[1] === this.targetName && params[0] === m[1] && sql === truncateOrDelete(this.t.table).sql) {
      this.t.rows = [];
      return;
    }
    if ((m = /^(?:TRUNCATE TABLE|DELETE FROM) (\S+)$/.exec(sql)) && m[1] === this.targetName) {
      this.t.rows = [];
      return;
    }
    if ((m = /^ALTER TABLE (\S+) ADD CONSTRAINT \S+ CHECK \((.+) AND \[[^\]]+\] IS NOT NULL\)$/.exec(sql))) {
      this.created(m[1]).check = this.conds(m[2], params);
      return;
    }
    if ((m = /^ALTER TABLE (\S+) ADD CONSTRAINT \S+ CHECK (.+)$/.exec(sql))) {
      this.created(m[1]).checks.push(m[2]);
      return;
    }
    // An index is on its table's data space unless it names one; `(col)` after a scheme: partitioned.
    if ((m = /^ALTER TABLE (\S+) ADD CONSTRAINT \[([^\]]+)\] PRIMARY KEY (CLUSTERED|NONCLUSTERED) \((.+?)\)(?: WITH \((DATA_COMPRESSION.+?)\))?(?: ON \[([^\]]+)\](\(\[[^\]]+\]\))?)?$/.exec(sql))) {
      const t = this.created(m[1]);
      t.indexes.push({ name: m[2], clustered: m[3] === "CLUSTERED", unique: true, primaryKey: true, keys: parseKeys(m[4]), dataSpace: m[6], compression: parseCompression(m[5], this.indexPartitions(t, m[6], m[7])) });
      return;
    }
    if ((m = /^CREATE (UNIQUE )?(CLUSTERED|NONCLUSTERED) INDEX \[([^\]]+)\] ON (\S+) \((.+?)\)(?: INCLUDE \((.+?)\))?(?: WHERE (.+?))?(?: WITH \((DATA_COMPRESSION.+?)\))?(?: ON \[([^\]]+)\](\(\[[^\]]+\]\))?)?$/.exec(sql))) {
      if (m[4] === this.targetName) return;
      const t = this.created(m[4]);
      t.indexes.push({ name: m[3], clustered: m[2] === "CLUSTERED", unique: !!m[1], primaryKey: false, keys: parseKeys(m[5]), include: m[6] ? m[6].split(", ").map(unquote) : undefined, filter: m[7], dataSpace: m[9], compression: parseCompression(m[8], this.indexPartitions(t, m[9], m[10])) });
      return;
    }
    if (/^ALTER TABLE \S+ SWITCH /.test(sql) && sql.includes(this.targetName)) this.refuseSwitchOfTarget();
    if ((m = /^ALTER TABLE (\S+) SWITCH PARTITION (\d+) TO (\S+) PARTITION (\d+)/.exec(sql))) return this.switchPartition(m[1], m[3], Number(m[2]), Number(m[4]));
    if ((m = /^ALTER TABLE (\S+) SWITCH PARTITION (\d+) TO (\S+)/.exec(sql))) {
      const n = Number(m[2]);
      if (this.t.structure) this.sameCompression(this.targetAsCreated(), n, this.created(m[3]), 1);
      const out = this.rowsIn(n);
      this.t.rows = this.t.rows.filter((r) => this.partitionNumber(r) !== n);
      this.created(m[3]).rows = out;
      return;
    }
    if ((m = /^ALTER TABLE (\S+) SWITCH TO (\S+) PARTITION (\d+)/.exec(sql))) return this.switchIn(m[1], Number(m[3]));
    if ((m = /^ALTER TABLE (\S+) SWITCH TO (\S+) WITH \(WAIT_AT_LOW_PRIORITY/.exec(sql))) return this.switchTable(m[1], m[2]);
    // No effect on what this model checks (identities are modelled in ./sqlserver-db-model).
    if (/^(ALTER TABLE|CREATE|DBCC|UPDATE STATISTICS|ALTER PARTITION|DECLARE @v decimal\(38, 0\) = \(SELECT MAX\(x\.v\) FROM \(VALUES \(CAST\(IDENT_CURRENT)/.test(sql) && !/ SWITCH /.test(sql)) return;
    throw new Error(`model: unexpected statement ${sql}`);
  }

  /** What SQL Server refuses any SWITCH in or out of the target for, whatever the other table is, where that other
   *  table is one the dialect builds (never with a foreign key or a non-rowstore index): a ledger or system-versioned
   *  table (above); a FOREIGN KEY of the target's, which the other table must have too, trusted; a key of another
   *  table referencing it; an index the other table cannot have the identical one of (Microsoft Learn,
   *  "Transferring Data Efficiently by Using Partition Switching": table and index structure requirements, constraint
   *  requirements: "the same ANSI_NULLS and QUOTED IDENTIFIER settings" too, the dialect's tables being created with
   *  both ON); of a partitioned table, an index not partitioned as the table is (Msg 7733). The numbers of the
   *  foreign-key and settings rules are not modelled. */
  private refuseSwitchOfTarget() {
    const facts = this.t.structure?.storage ?? {};
    const { unalignedIndex } = this.unalignedIndex();
    if (unalignedIndex) throw new SqlError(7733, `'ALTER TABLE SWITCH' statement failed. The table '${this.targetName}' is partitioned while index '${unalignedIndex}' is not partitioned.`);
    if (this.t.noSwitch) throw new SqlError(-1, `SWITCH IN / OUT is not supported for the ${this.t.noSwitch} table ${this.targetName}.`);
    if (facts.foreignKey) throw new SqlError(-1, `ALTER TABLE SWITCH statement failed: ${this.targetName} has the foreign key ${String(facts.foreignKey)}, which the other table lacks.`);
    if (facts.referencedBy) throw new SqlError(-1, `ALTER TABLE SWITCH statement failed: a foreign key of ${String(facts.referencedBy)} references ${this.targetName}.`);
    for (const setting of ["ansiNulls", "quotedIdentifier"] as const)
      if (facts[setting] !== undefined && facts[setting] !== null && !Number(facts[setting])) throw new SqlError(-1, `ALTER TABLE SWITCH statement failed: ${this.targetName} and the other table differ in ${setting === "ansiNulls" ? "ANSI_NULLS" : "QUOTED_IDENTIFIER"}.`);
    if (facts.otherIndex) throw new SqlError(4947, `ALTER TABLE SWITCH statement failed. There is no identical index in the other table for the index ${String(facts.otherIndex)} in ${this.targetName}.`);
  }

  /** The first index of a partitioned target that is not on its scheme, as SQL.storage reads it (OUTER APPLY ua). */
  private unalignedIndex() {
    const ix = this.t.functionName ? this.t.structure?.indexes.find((x) => x.dataSpace && x.dataSpace !== this.t.schemeName) : undefined;
    return { unalignedIndex: ix?.name ?? null, unalignedSpace: ix?.dataSpace ?? null };
  }

  /** Partitions of an object placed `ON [x]` (`column` given: x is a scheme): the scheme's count, else one. */
  private partitionsOn(column: string | undefined) {
    return column ? this.t.boundaries.length + 1 : 1;
  }

  private indexPartitions(t: CreatedTable, dataSpace: string | undefined, column: string | undefined) {
    if (dataSpace === undefined) return t.filegroup === this.t.schemeName && this.t.schemeName ? this.t.boundaries.length + 1 : 1;
    return this.partitionsOn(column);
  }

  private created(name: string): CreatedTable {
    const t = this.tables.get(name);
    if (!t) throw new SqlError(4902, `cannot find the object ${name}`);
    return t;
  }

  /** The target as its declared structure states it, in the form a created table is parsed into. */
  private targetAsCreated(): CreatedTable {
    const st = this.t.structure!;
    return { filegroup: st.filegroup, columns: st.columns, indexes: st.indexes, checks: st.checks.map((c) => c.definition), rows: this.t.rows, compression: st.compression };
  }

  private view(name: string): CreatedTable {
    return name === this.targetName ? this.targetAsCreated() : this.created(name);
  }

  /** ALTER TABLE from SWITCH TO to (non-partitioned tables): SQL Server's structural requirements, then the rows move. */
  private switchTable(fromName: string, toName: string) {
    const [from, to] = [this.view(fromName), this.view(toName)];
    if (to.rows.length) throw new SqlError(4905, `ALTER TABLE SWITCH statement failed. The target table ${toName} must be empty.`);
    this.requireIdentical(from, to, fromName, toName);
    this.sameCompression(from, 1, to, 1);
    const rows = from.rows;
    if (fromName === this.targetName) this.t.rows = [];
    else from.rows = [];
    if (toName === this.targetName) this.t.rows = rows;
    else to.rows = rows;
  }

  /** ALTER TABLE from SWITCH PARTITION n TO to PARTITION k, both tables on the target's scheme. */
  private switchPartition(fromName: string, toName: string, n: number, k: number) {
    const [from, to] = [this.view(fromName), this.view(toName)];
    if (from.filegroup !== this.t.schemeName || to.filegroup !== this.t.schemeName) throw new SqlError(4939, `${fromName} and ${toName} must both be on partition scheme ${this.t.schemeName}`);
    if (n !== k) throw new SqlError(4972, `partition ${n} of ${fromName} holds values partition ${k} of ${toName} does not allow`);
    if (to.rows.some((r) => this.partitionNumber(r) === k)) throw new SqlError(4904, `ALTER TABLE SWITCH statement failed. The specified partition ${k} of target table ${toName} must be empty.`);
    this.requireIdentical(from, to, fromName, toName);
    this.sameCompression(from, n, to, k);
    const moving = from.rows.filter((r) => this.partitionNumber(r) === n);
    const staying = from.rows.filter((r) => this.partitionNumber(r) !== n);
    if (fromName === this.targetName) this.t.rows = staying;
    else from.rows = staying;
    if (toName === this.targetName) this.t.rows = [...this.t.rows, ...moving];
    else to.rows = [...to.rows, ...moving];
  }

  /** What SWITCH compares: data space, columns, indexes both ways, and the receiving table's CHECKs. */
  private requireIdentical(from: CreatedTable, to: CreatedTable, fromName: string, toName: string) {
    if (from.filegroup !== to.filegroup) throw new SqlError(4939, `${fromName} is on filegroup ${from.filegroup}, ${toName} on ${to.filegroup}`);
    // Name, type, nullability, collation, computed definition, in order; IDENTITY is not compared (documented).
    // The data type as declared (an alias type is one), ROWGUIDCOL ("must correspond to a column in the other table also
    // defined with ROWGUIDCOL") and SPARSE (stored otherwise) too.
    const columns = (t: CreatedTable) => JSON.stringify(t.columns!.map((c) => [c.name, c.computed ? null : (c.alias ?? c.type).toLowerCase(), c.nullable, c.collation ?? null, c.computed ?? null, !!c.rowGuid, !!c.sparse]));
    if (columns(from) !== columns(to)) throw new SqlError(4944, `ALTER TABLE SWITCH statement failed: the columns of ${fromName} and ${toName} differ\n${columns(from)}\n${columns(to)}`);
    const fg = (t: CreatedTable, ix: IndexFact) => ix.dataSpace ?? t.filegroup;
    const shape = (t: CreatedTable) => t.indexes.map((ix) => JSON.stringify({ c: ix.clustered, u: ix.unique || ix.primaryKey, k: ix.keys.map((k) => `${k.column}${k.desc ? " DESC" : ""}`), i: [...(ix.include ?? [])].sort(), f: ix.filter ?? null, fg: fg(t, ix) })).sort();
    for (const [a, b, an, bn] of [[from, to, fromName, toName], [to, from, toName, fromName]] as const) {
      const missing = shape(a).filter((x) => !shape(b).includes(x));
      if (missing.length) throw new SqlError(4947, `ALTER TABLE SWITCH statement failed. There is no identical index in ${bn} for ${missing[0]} in ${an}.`);
    }
    // A CHECK of the receiving table must be one the switched rows are known (trusted) to satisfy.
    const unproven = to.checks.filter((c) => !from.checks.includes(c));
    if (unproven.length) throw new SqlError(4972, `ALTER TABLE SWITCH statement failed. Check constraint ${unproven[0]} of ${toName} is not satisfied by a trusted constraint of ${fromName}.`);
  }

  /** Msg 11406: the heap / clustered index and every nonclustered index compressed alike in the switched partitions. */
  private sameCompression(from: CreatedTable, fp: number, to: CreatedTable, tp: number) {
    const base = (t: CreatedTable, p: number) => {
      const clustered = t.indexes.find((ix) => ix.clustered);
      return compressionAt(clustered?.compression ?? t.compression, p);
    };
    const key = (ix: IndexFact) => JSON.stringify([ix.keys, [...(ix.include ?? [])].sort(), ix.filter ?? null]);
    const pairs = from.indexes.filter((ix) => !ix.clustered).map((ix) => [ix, to.indexes.find((x) => !x.clustered && key(x) === key(ix))] as const);
    if (base(from, fp) !== base(to, tp) || pairs.some(([a, b]) => b && compressionAt(a.compression, fp) !== compressionAt(b.compression, tp)))
      throw new SqlError(11406, "ALTER TABLE SWITCH statement failed. Source and target partitions have different values for the DATA_COMPRESSION option.");
  }

  private split(fn: string, value: string) {
    if (fn !== this.t.functionName) throw new SqlError(7707, `partition function ${fn} does not exist`);
    if (!this.nextUsed) throw new SqlError(7707, `the partition scheme ${this.t.schemeName} has no next used filegroup`);
    const v = this.point(value);
    if (this.t.boundaries.some((b) => comparePoints(this.point(b), v) === 0)) throw new SqlError(7721, `duplicate range boundary ${value}`);
    const n = this.partitionNumber(value); // the partition being split
    // The new partition is the side of the split range where the new boundary resides.
    const newSide = this.rowsIn(n).filter((r) => (this.t.rangeRight ? comparePoints(this.point(r), v) >= 0 : comparePoints(this.point(r), v) <= 0));
    this.movedRows += newSide.length;
    const fgs = this.t.filegroups!;
    const i = n - 1;
    this.t.boundaries.splice(i, 0, this.render(v));
    // RANGE RIGHT: the new partition is the upper half (number n+1); RANGE LEFT: the lower half (number n).
    if (this.t.rangeRight) fgs.splice(i + 1, 0, this.nextUsed);
    else fgs.splice(i, 0, this.nextUsed);
    this.nextUsed = null;
  }

  private switchIn(from: string, n: number) {
    const s = this.created(from);
    if (this.rowsIn(n).length) throw new SqlError(4904, `target partition ${n} is not empty`);
    if (s.filegroup !== this.t.filegroups![n - 1]) throw new SqlError(4939, `${from} is on filegroup ${s.filegroup}, partition ${n} on ${this.t.filegroups![n - 1]}`);
    if (!s.check || !this.within(s.check, this.range(n))) throw new SqlError(4972, `the CHECK constraint of ${from} does not keep its rows inside partition ${n}`);
    if (this.t.structure) this.sameCompression(s, 1, this.targetAsCreated(), n);
    this.t.rows.push(...s.rows);
  }

  /** Whether every value the constraint allows lies inside `range`. */
  private within(check: Cond[], range: Cond[]) {
    return range.every((r) =>
      check.some((c) => {
        const cmp = comparePoints(c.value, r.value);
        if (r.op === ">=") return (c.op === ">=" || c.op === ">") && cmp >= 0;
        if (r.op === ">") return (c.op === ">" && cmp >= 0) || (c.op === ">=" && cmp > 0);
        if (r.op === "<") return (c.op === "<" && cmp <= 0) || (c.op === "<=" && cmp < 0);
        return (c.op === "<=" || c.op === "<") && cmp <= 0;
      }),
    );
  }

  /** `[k] >= 20250101 AND [k] < CAST(@p1 AS int)` -> conditions. */
  conds(where: string, params: readonly unknown[]): Cond[] {
    return where.split(" AND ").map((part) => {
      // `([k] < x OR [k] IS NULL)`: the model's keys are never NULL, so the range alone decides.
      const nullable = /^(.+) OR \[[^\]]+\] IS NULL$/.exec(unwrap(part.trim()));
      const m = /^\[[^\]]+\] (>=|>|<=|<) (.+)$/.exec((nullable?.[1] ?? part).trim());
      if (!m) throw new Error(`model: cannot read condition ${part}`);
      const p = /@p(\d+)/.exec(m[2]);
      return { op: m[1] as Cond["op"], value: this.point(p ? this.paramText(String(params[Number(p[1]) - 1])) : this.literal(m[2])) };
    });
  }

  private matches(row: string, conds: Cond[]) {
    const v = this.point(row);
    return conds.every((c) => {
      const cmp = comparePoints(v, c.value);
      return c.op === ">" ? cmp > 0 : c.op === ">=" ? cmp >= 0 : c.op === "<" ? cmp < 0 : cmp <= 0;
    });
  }

  /** A T-SQL constant as the server reads it; refuses forms whose meaning depends on SET DATEFORMAT. */
  literal(text: string): string {
    if (/^-?\d+$/.test(text)) return text;
    const m = /^'(.*)'$/.exec(text);
    if (!m) throw new Error(`model: unexpected constant ${text}`);
    const s = m[1];
    if (/^\d{8}$/.test(s)) return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}`;
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(s)) return s.replace("T", " ");
    if (/^\d{4}-\d{2}-\d{2}$/.test(s) && this.t.keyType !== "datetime2") return s; // date: ISO is unambiguous
    throw new Error(`model: ${text} depends on SET DATEFORMAT for ${this.t.keyType}`);
  }

  private paramText(v: string) {
    return v.replace("T", " ");
  }

  /** A value as sys.partition_range_values / MAX() text of this key type. */
  render(p: Point): string {
    if (this.t.keyType === "int") return String(p);
    if (this.t.keyType === "date") return String(p).replace(/^(\d{4})(\d{2})(\d{2})$/, "$1-$2-$3");
    return String(p);
  }

  // ---- catalog queries --------------------------------------------------------------------------------------
  columns(): Record<string, unknown>[] {
    if (this.t.structure) return this.t.structure.columns.map(columnRow);
    const key = this.t.keyType === "datetime2" ? { type: "datetime2", scale: 7 } : { type: this.t.keyType, scale: 0 };
    return [
      { name: "id", type: "bigint", declaredType: "bigint", clr: false, maxLength: 8, precision: 19, scale: 0, nullable: false, identity: false, computed: false },
      { name: this.t.key, declaredType: key.type, clr: false, maxLength: 8, precision: 0, nullable: false, identity: false, computed: false, ...key },
    ];
  }

  catalog(sql: string): Record<string, unknown>[] | undefined {
    if (sql === SQL.partitioning) return [{ function: this.t.functionName, scheme: this.t.schemeName, rangeRight: this.t.rangeRight, column: this.t.key, functionId: 1 }];
    if (sql === SQL.columns) return this.columns();
    const st = this.t.structure;
    if (sql === SQL.indexes) return st ? st.indexes.flatMap(indexRows) : [];
    // Without a declared structure the modelled table has no CHECK constraints of its own.
    if (sql === SQL.checks) return st ? st.checks : [];
    if (sql === SQL.storage && st?.storage?.fail) throw new SqlError(208, String(st.storage.fail));
    if (sql === SQL.storage)
      return [{
        ...(this.t.functionName
          ? { dataSpace: this.t.schemeName, dataSpaceType: "PS", partitionColumn: this.t.key, partitions: this.t.boundaries.length + 1 }
          : { dataSpace: st?.filegroup ?? "PRIMARY", dataSpaceType: "FG", partitionColumn: null, partitions: 1 }), lobFilegroup: st?.lobFilegroup ?? null,
        referencedBy: null, foreignKey: null, otherIndex: null, indexedView: null, fullText: 0, changeTracking: 0, temporal: 0, memoryOptimized: false, cdc: false, replicated: false,
        ...this.unalignedIndex(), disabledIndex: st?.indexes.find((ix) => ix.disabled)?.name ?? null,
        canCreateTable: 1, canAlterSchema: 1, canAlterTable: 1, ...st?.storage,
      }];
    if (sql === SQL.compression) {
      // sys.partitions x sys.indexes: the heap (index 0) or the clustered index (1), then each nonclustered one.
      const count = this.t.functionName ? this.t.boundaries.length + 1 : 1;
      const each = (indexId: number, index: string | null, c: Compression | undefined) =>
        Array.from({ length: count }, (_, i) => ({ indexId, index, partition: i + 1, compression: compressionAt(c, i + 1) }));
      const indexes = st?.indexes ?? [];
      const clustered = indexes.find((ix) => ix.clustered);
      return [
        ...each(clustered ? 1 : 0, clustered?.name ?? null, clustered?.compression ?? st?.compression),
        ...indexes.filter((ix) => !ix.clustered).flatMap((ix, i) => each(i + 2, ix.name, ix.compression)),
      ];
    }
    if (sql === SQL.filegroups) return this.t.filegroups!.map((filegroup, i) => ({ number: i + 1, filegroup }));
    for (const family of ["integer", "date", "datetime"] as const) {
      if (sql !== SQL.boundaries(family)) continue;
      // What CONVERT/CAST of the sql_variant value gives: style 23 drops a time of day, style 121 keeps it.
      return this.t.boundaries.map((b, i) => ({ id: i + 1, value: family === "date" ? b.slice(0, 10) : family === "datetime" && b.length === 10 ? `${b} 00:00:00.0000000` : b }));
    }
    return undefined;
  }
}

// ---- DDL the model reads, and catalog rows it renders ------------------------------------------------------------

const unquote = (s: string) => s.trim().replace(/^\[(.*)\]$/, "$1").replace(/\]\]/g, "]");

/** Splits on commas outside parentheses and brackets (computed definitions have their own). */
function topLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of list) {
    if (ch === "(" || ch === "[") depth++;
    if (ch === ")" || ch === "]") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  return [...out, cur.trim()];
}

/** A CREATE TABLE column list, as the server reads each definition. */
export function parseColumns(list: string): ColumnFact[] {
  return topLevel(list).map((def) => {
    let m = /^\[((?:[^\]]|\]\])+)\] AS (.+?)( PERSISTED)?( NOT NULL)?$/.exec(def);
    if (m) return { name: unquote(`[${m[1]}]`), type: "computed", nullable: !m[4], computed: { definition: m[2], persisted: !!m[3] } };
    // CREATE TABLE's <column_definition> in its order: type, COLLATE, SPARSE, DEFAULT, IDENTITY, NULL, ROWGUIDCOL (a
    // DEFAULT may also come last, as a <column_constraint>).
    m = /^\[((?:[^\]]|\]\])+)\] ([a-z0-9_]+(?:\([a-z0-9,]+\))?|\[[^\]]+\]\.\[[^\]]+\])( COLLATE (\w+))?( SPARSE)?( DEFAULT .+?)?( IDENTITY\((-?\d+), (-?\d+)\))? (NULL|NOT NULL)( ROWGUIDCOL)?( DEFAULT .+)?$/i.exec(def);
    if (!m) throw new Error(`model: cannot read column definition ${def}`);
    const alias = m[2].startsWith("[") ? m[2] : undefined;
    return {
      name: unquote(`[${m[1]}]`), type: m[2], nullable: m[10] === "NULL",
      ...(alias ? { alias } : {}), ...(m[5] ? { sparse: true } : {}), ...(m[11] ? { rowGuid: true } : {}),
      ...(m[4] ? { collation: m[4] } : {}), ...(m[7] ? { identity: { seed: m[8], increment: m[9] } } : {}),
    };
  });
}

function parseKeys(list: string) {
  return topLevel(list).map((k) => {
    const m = /^(\[.+\]) (ASC|DESC)$/.exec(k);
    return m ? { column: unquote(m[1]), ...(m[2] === "DESC" ? { desc: true } : {}) } : { column: unquote(k) };
  });
}

/** sys.columns / sys.types / sys.computed_columns / sys.identity_columns as SQL.columns selects them. */
export function columnRow(c: ColumnFact): Record<string, unknown> {
  const m = /^(\w+)(?:\((\w+)(?:,(\d+))?\))?$/.exec(c.type)!;
  const type = c.computed ? "int" : m[1].toLowerCase();
  const n = m[2] === "max" ? -1 : Number(m[2] ?? 0);
  const maxLength = ["nvarchar", "nchar"].includes(type) ? (n === -1 ? -1 : n * 2) : ["varchar", "char", "varbinary", "binary"].includes(type) ? n : 8;
  const [precision, scale] = ["decimal", "numeric"].includes(type) ? [n, Number(m[3] ?? 0)] : ["datetime2", "time", "datetimeoffset"].includes(type) ? [0, n] : [0, 0];
  const alias = c.alias ? /^\[([^\]]+)\]\.\[([^\]]+)\]$/.exec(c.alias)! : undefined;
  return {
    name: c.name, type, declaredType: alias ? alias[2] : type, aliasSchema: alias ? alias[1] : null, clr: false, maxLength, precision, scale, nullable: c.nullable, identity: !!c.identity, computed: !!c.computed,
    collation: c.collation ?? null, computedDefinition: c.computed?.definition ?? null, persisted: c.computed?.persisted ?? null, defaultDefinition: c.default ?? null,
    identitySeed: c.identity?.seed ?? null, identityIncrement: c.identity?.increment ?? null,
    rowGuid: !!c.rowGuid, sparse: !!c.sparse, encryption: c.encryption ?? null,
  };
}

/** sys.indexes x sys.index_columns as SQL.indexes selects them: key columns in order, then included ones. */
export function indexRows(ix: IndexFact): Record<string, unknown>[] {
  const base = { index: ix.name, unique: ix.unique || ix.primaryKey, primaryKey: ix.primaryKey, type: ix.clustered ? 1 : 2, disabled: !!ix.disabled, filter: ix.filter ?? null, dataSpace: ix.dataSpace ?? null };
  return [...ix.keys.map((k) => ({ ...base, column: k.column, descending: !!k.desc, included: false })), ...(ix.include ?? []).map((column) => ({ ...base, column, descending: false, included: true }))];
}

/** The privileges a `SQL.privileges(...)` query asks for, or null for any other statement. */
export function privilegesAsked(sql: string): Privilege[] | null {
  const asked = [...sql.matchAll(/ AS \[(SELECT|INSERT|UPDATE|DELETE|TRUNCATE|ALTER|CREATE|SEQUENCE)\]/g)].map((m) => m[1] as Privilege);
  return asked.length && sql === SQL.privileges(asked) ? asked : null;
}

/** What the modelled server can do: everything unless a test says otherwise. */
const FULL_SERVER: ServerCapabilities = { switch: true, partitionDdl: true, updateStatistics: true, notes: [] };

/** A Session over a model table: the dialect's SQL Server compiler and introspector, the model underneath. */
export function modelSession(model: SqlServerModel | ModelTable, role: "source" | "target", can: ServerCapabilities = FULL_SERVER): Session & { model: typeof model } {
  const t = model instanceof SqlServerModel ? model.t : model;
  const helper = model instanceof SqlServerModel ? model : new SqlServerModel({ ...t, functionName: "", schemeName: "", rangeRight: true, boundaries: [] });
  const holding = (rows: string[], conds: ReturnType<typeof helper.conds>) =>
    rows.filter((r) => conds.every((c) => {
      const cmp = comparePoints(helper.point(r), c.value);
      return c.op === ">" ? cmp > 0 : c.op === ">=" ? cmp >= 0 : c.op === "<" ? cmp < 0 : cmp <= 0;
    }));
  const rowsWhere = (sql: string, params: readonly unknown[]) => {
    const w = / WHERE (.+?)( ORDER BY .*)?$/.exec(sql);
    return holding(t.rows, w ? helper.conds(w[1], params) : []);
  };
  const text = (p: Point) => (t.keyType === "datetime2" ? String(p) : helper.render(p));
  // One request at a time, as on a tedious connection (./one-request).
  const wire = new OneRequestAtATime();
  const session: Session & { model: typeof model } = {
    model,
    engine: "sqlserver",
    introspector: sqlServerIntrospector(<R>(sql: string) => wire.run(sql, () => catalogRows<R>(sql))),
    async identity() {
      return { keys: [`model|${role}`], version: "model", database: role };
    },
    // The driver probes with statements of its own on the session (lib/dialects/sqlserver/driver.ts capabilities).
    capabilities: () => wire.run("BEGIN TRANSACTION; CREATE TABLE [uat_refresh_probe_a] ...; ROLLBACK", () => can),
    query: <R>(q: CompiledQuery) => wire.send(q, () => queryRows<R>(q)),
    execute: (q) => wire.send(q, () => {
      if (!(model instanceof SqlServerModel)) throw new Error(`model: the ${role} is read-only here: ${q.sql}`);
      model.execute(q.sql, q.params);
    }),
    async transaction(fn) {
      if (!(model instanceof SqlServerModel)) return fn();
      // XACT_ABORT + ROLLBACK: a failure leaves the catalog and the rows as they were.
      await wire.run("SET XACT_ABORT ON; BEGIN TRANSACTION", () => {});
      const before = structuredClone({ rows: model.t.rows, boundaries: model.t.boundaries, filegroups: model.t.filegroups, nextUsed: model.nextUsed, tables: model.tables });
      try {
        const result = await fn();
        await wire.run("COMMIT TRANSACTION", () => {});
        return result;
      } catch (e) {
        Object.assign(model.t, { rows: before.rows, boundaries: before.boundaries, filegroups: before.filegroups });
        model.nextUsed = before.nextUsed;
        model.tables = before.tables;
        throw e;
      }
    },
    snapshot: (fn) => fn(),
    async exportRows(q) {
      // The model carries a row as its key: every column of it holds the key value.
      const width = q.sql.slice(0, q.sql.indexOf(" FROM ")).split("], [").length;
      const rows = rowsWhere(q.sql, q.params).map((key) => Array.from({ length: width }, () => key));
      return { stream: wire.hold(q.sql, Readable.from(rows)), done: Promise.resolve() } satisfies RowStream;
    },
    importRows: (table, columns, rows) =>
      wire.run(`INSERT BULK ${sqlServerCompiler.qualified(table)}`, async () => {
        if (!(model instanceof SqlServerModel)) throw new Error("model: the source is never written");
        let n = 0;
        const keys: string[] = [];
        const at = columns.findIndex((c) => c.toLowerCase() === t.key.toLowerCase());
        for await (const row of rows.stream) {
          keys.push(String((row as unknown[])[at]));
          n++;
        }
        model.stage(sqlServerCompiler.qualified(table), keys);
        return n;
      }),
    destroy() {},
    async close() {},
  };
  return session;

  function catalogRows<R>(sql: string): R[] {
    if (sql === SQL.findTable) return [{ ...t.table, ledger: t.noSwitch === "updatable ledger" ? 2 : 0, temporal: t.noSwitch === "system-versioned" ? 2 : 0 }] as R[];
    if (sql === SQL.temporalPair) return [{ pair: null }] as R[];
    // The modelled tables have no foreign keys, triggers or sequences.
    if (sql === SQL.foreignKeys || sql === SQL.triggers || sql === SQL.sequences) return [];
    // A SQL Server 2016+ (the views exist, with system objects' negative ids).
    if (sql === SQL.securityViews) return [{ policies: -411, masks: -431 }] as R[];
    if (sql === SQL.rowSecurity) return (t.securityPredicates ?? []) as R[];
    if (sql === SQL.maskedColumns) return (t.maskedColumns ?? []) as R[];
    // The modelled login holds every permission.
    const asked = privilegesAsked(sql);
    if (asked) return [Object.fromEntries(asked.map((p) => [p, 1]))] as R[];
    const rows = helper.catalog(sql);
    if (!rows) throw new Error(`model: unexpected catalog query ${sql}`);
    return rows as R[];
  }

  function queryRows<R>(q: CompiledQuery): R[] {
    const catalog = helper.catalog(q.sql);
    if (catalog) return catalog as R[];
    if (q.sql.includes("sys.extended_properties")) {
      if (!(model instanceof SqlServerModel)) return [];
      const left = [...model.tables].filter(([, x]) => x.marker && q.params.slice(1).includes(x.marker));
      return left.map(([name]) => {
        const [, schema, table] = /^\[(.+)\]\.\[(.+)\]$/.exec(name)!;
        return { schema, name: table };
      }) as R[];
    }
    if (q.sql.includes("FROM sys.partitions")) return [{ n: String(t.rows.length), bytes: null }] as R[];
    if (/ AS \[max\]/.test(q.sql)) {
      const max = t.rows.map((r) => helper.point(r)).sort(comparePoints).at(-1);
      return [{ max: max === undefined ? null : text(max), cutoff: max === undefined ? null : text(max) }] as R[];
    }
    if (q.sql.startsWith("SELECT DISTINCT")) {
      const days = [...new Set(rowsWhere(q.sql, q.params).map((r) => r.slice(0, r.length === 8 ? 8 : 10)))].sort();
      return days.map((value) => ({ value })) as R[];
    }
    if (CHECKSUM_QUERY.test(q.sql)) return [modelChecksum(rowsWhere(q.sql, q.params).map((r) => [r]))] as R[];
    // The bands below a window (compiler bandCounts): per band (lower, upper] of the key, its rows and, for a day
    // number, the sum of their values.
    if (q.sql.startsWith("SELECT CAST(ISNULL(SUM(CASE WHEN ")) {
      const inScope = rowsWhere(q.sql.slice(q.sql.lastIndexOf(" FROM ")), q.params);
      const band = /SUM\(CASE WHEN (.+?) THEN (CAST\(1 AS bigint\)|CAST\(\[[^\]]+\] AS decimal\(38, 0\)\)) ELSE 0 END\), 0\) AS nvarchar\(\d+\)\) AS \[([ns]\d+)\]/g;
      const out: Record<string, string> = {};
      for (const b of q.sql.matchAll(band)) {
        const inside = holding(inScope, helper.conds(b[1], q.params));
        out[b[3]] = String(b[2].startsWith("CAST(1") ? inside.length : inside.reduce((a, r) => a + Number(r), 0));
      }
      return [out] as R[];
    }
    if (q.sql.startsWith("SELECT CAST(COUNT_BIG(*)")) return [{ n: String(rowsWhere(q.sql, q.params).length) }] as R[];
    throw new Error(`model: unexpected query ${q.sql}`);
  }
}

/** `((x))` -> `x`: parentheses around the whole condition. */
function unwrap(text: string): string {
  while (text.startsWith("(") && text.endsWith(")")) {
    let depth = 0;
    const inner = text.slice(1, -1);
    for (const ch of inner) if ((depth += ch === "(" ? 1 : ch === ")" ? -1 : 0) < 0) return text;
    text = inner.trim();
  }
  return text;
}

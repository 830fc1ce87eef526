// A server-less model of a SQL Server database of related tables, written from Microsoft's documentation, so a
// refresh group's T-SQL (lib/dialects/sqlserver/relations.ts) is executed here and its effect checked, not only
// parsed. What it enforces, as SQL Server does:
// - TRUNCATE TABLE is refused for a table referenced by a FOREIGN KEY of another table, enabled or not (4712), one
//   in an indexed view (3729), one published for replication or tracked by change data capture (4711), and a
//   system-versioned one (13545) (Microsoft Learn, TRUNCATE TABLE, Restrictions).
// - The history table of a system-versioned table is written by no one: rows inserted (13559), deleted (13560),
//   updated (13561) or truncated are refused "regardless of their actual permissions" (Microsoft Learn, Temporal table security).
// - A ledger table is never truncated ("TRUNCATE TABLE isn't supported", Microsoft Learn, "Ledger considerations and
//   limitations"), and an append-only one takes INSERTs only: UPDATE and DELETE fail (37359); the history table of
//   an updatable one is not emptied either ("Deleting older data in append-only ledger tables or the history table
//   of updatable ledger tables isn't supported", the same page).
// - A statement that leaves a row referencing a missing row under a checked key fails (547), checked when the
//   statement ends (a self-referencing table may be emptied or loaded whole); under XACT_ABORT the transaction
//   rolls back. NOCHECK CONSTRAINT stops checking a key and marks it not trusted; WITH CHECK CHECK CONSTRAINT
//   validates every row (547 when one breaks it) and marks it trusted again.
// - An INSERT naming an IDENTITY column needs SET IDENTITY_INSERT ON for that table (544); a bulk load that lists the
//   identity column keeps its values (KEEPIDENTITY, the way Microsoft's drivers do it).
// - SELECT ... INTO creates a table with the selected columns and no constraints.
// - An UPDATE that sets an IDENTITY column fails (8102); EXCEPT, like DISTINCT, cannot compare xml, text, ntext or
//   image (421).
// It answers the catalog queries the dialect sends (SQL.*) and the engine's row queries, for the statement shapes
// the dialect emits; anything else is an error, so a new shape cannot pass unnoticed.
import { CHECKSUM_QUERY, checksumColumns, modelChecksum } from "./model-checksum";
import { Readable } from "node:stream";
import { sqlServerCompiler } from "../../lib/dialects/sqlserver/compiler";
import { SQL, sqlServerIntrospector } from "../../lib/dialects/sqlserver/introspector";
import type { CompiledQuery, RowStream, Session, TableRef } from "../../lib/dialects/types";
import { OneRequestAtATime } from "./one-request";
import { columnRow, indexRows, privilegesAsked, SqlError } from "./sqlserver-model";

type Value = string | number | null;
type Row = Record<string, Value>;

export interface ColumnDef {
  name: string;
  /** int, bigint, nvarchar(100), decimal(12,2) */
  type: string;
  nullable?: boolean;
  identity?: boolean;
}

export interface TableDef {
  schema?: string;
  name: string;
  columns: ColumnDef[];
  primaryKey: string[];
  triggers?: string[];
  /** What else makes SQL Server refuse TRUNCATE TABLE: an indexed view built on it (its name), replication or change
   *  data capture, SYSTEM_VERSIONING = ON. */
  indexedView?: string;
  published?: "transactional replication" | "merge replication" | "change data capture";
  systemVersioned?: boolean;
  /** MEMORY_OPTIMIZED = ON (sys.tables.is_memory_optimized). */
  memoryOptimized?: boolean;
  /** The history table of this system-versioned table, SYSTEM_VERSIONING = ON (sys.tables.temporal_type 1). */
  historyOf?: string;
  /** LEDGER = ON: updatable, or APPEND_ONLY = ON (sys.tables.ledger_type 2 / 3; its GENERATED ALWAYS columns are
   *  AS TRANSACTION_ID / SEQUENCE_NUMBER START and, updatable, END: sys.columns.generated_always_type 7-10). */
  ledger?: "updatable" | "append-only";
  /** The history table of this updatable ledger table (sys.tables.ledger_type 1: the ledger table's history_table_id;
   *  its own temporal_type is 0). */
  ledgerHistoryOf?: string;
}

export interface KeyDef {
  name: string;
  table: string;
  columns: string[];
  references: string;
  referencedColumns: string[];
}

interface Table extends Pick<TableDef, "indexedView" | "published" | "systemVersioned" | "memoryOptimized" | "historyOf" | "ledger" | "ledgerHistoryOf"> {
  ref: TableRef;
  columns: ColumnDef[];
  primaryKey: string[];
  rows: Row[];
  triggers: Map<string, boolean>;
  identityInsert: boolean;
  /** IDENT_CURRENT: the last identity value generated or reseeded. */
  identityCurrent: number;
  /** No row inserted since the table was created or truncated: the next identity is identityCurrent itself
   *  (DBCC CHECKIDENT: "the first row inserted ... uses new_reseed_value as the identity"), else current + 1. */
  identityFresh: boolean;
}

interface Key extends KeyDef {
  checked: boolean;
  trusted: boolean;
}

const q = (t: TableRef) => sqlServerCompiler.qualified(t);
const unquote = (s: string) => s.trim().replace(/^\[(.*)\]$/, "$1").replace(/\]\]/g, "]");
const colsOf = (list: string) => list.split(", ").map((c) => unquote(c.replace(/^[ts]\./, "")));
const appendOnly = (t: Table) => new SqlError(37359, `Updates are not allowed for the append only Ledger table '${t.ref.schema}.${t.ref.name}'.`);
// "Deleting older data in ... the history table of updatable ledger tables isn't supported" (Microsoft Learn, "Ledger
// considerations and limitations"): the server's message and number for it are not documented; 0 says so.
const ledgerHistory = (t: Table) => new SqlError(0, `Deleting rows of '${t.ref.schema}.${t.ref.name}', the history table of the updatable ledger table '${t.ledgerHistoryOf}', is not supported.`);
const same = (a: Value, b: Value) => (a === null ? b === null : b !== null && String(a) === String(b));

export class SqlServerDatabase {
  tables = new Map<string, Table>();
  keys: Key[] = [];
  readonly statements: string[] = [];
  /** The statement at this index of `statements` loses its connection before the server runs it (tedious: a
   *  ConnectionError, ECONNRESET); under XACT_ABORT the open transaction rolls back. */
  lostAt?: number;

  constructor(defs: TableDef[], keys: KeyDef[] = []) {
    for (const d of defs) {
      const ref = { schema: d.schema ?? "dbo", name: d.name };
      const { indexedView, published, systemVersioned, memoryOptimized, historyOf, ledger, ledgerHistoryOf } = d;
      this.tables.set(q(ref), { ref, columns: d.columns, primaryKey: d.primaryKey, rows: [], triggers: new Map((d.triggers ?? []).map((t) => [t, true])), identityInsert: false, identityCurrent: 1, identityFresh: true, indexedView, published, systemVersioned, memoryOptimized, historyOf, ledger, ledgerHistoryOf });
    }
    this.keys = keys.map((k) => ({ ...k, checked: true, trusted: true }));
  }

  /** The catalog tests the dialect asks before a TRUNCATE, answered from what the model holds; any other is an error. */
  private catalogTest(test: string, t: Table): boolean {
    const referencedByAnother = "SELECT 1 FROM sys.foreign_keys WHERE referenced_object_id = OBJECT_ID(@p1) AND parent_object_id <> referenced_object_id";
    const inIndexedView = "SELECT 1 FROM sys.sql_expression_dependencies AS d JOIN sys.indexes AS i ON i.object_id = d.referencing_id WHERE d.referenced_id = OBJECT_ID(@p1) AND OBJECTPROPERTY(d.referencing_id, 'IsView') = 1";
    const flagged = "SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(@p1) AND (is_replicated = 1 OR is_merge_published = 1 OR is_tracked_by_cdc = 1 OR temporal_type = 2)";
    const ledgerColumns = "SELECT 1 FROM sys.columns WHERE object_id = OBJECT_ID(@p1) AND generated_always_type BETWEEN 7 AND 10";
    if (test === referencedByAnother) return this.keys.some((k) => this.table(k.references) === t && this.table(k.table) !== t);
    if (test === inIndexedView) return !!t.indexedView;
    if (test === flagged) return !!t.published || !!t.systemVersioned;
    if (test === ledgerColumns) return !!t.ledger;
    throw new Error(`model: unknown catalog test ${test}`);
  }

  /** Why SQL Server would refuse to TRUNCATE `t` (Microsoft Learn, TRUNCATE TABLE, Restrictions), or null. */
  private truncateRefusal(t: Table): SqlError | null {
    const name = q(t.ref);
    if (this.keys.some((k) => this.table(k.references) === t && this.table(k.table) !== t))
      return new SqlError(4712, `Cannot truncate table '${name}' because it is being referenced by a FOREIGN KEY constraint.`);
    if (t.indexedView) return new SqlError(3729, `Cannot TRUNCATE TABLE '${name}' because it is being referenced by object '${t.indexedView}'.`);
    if (t.published) return new SqlError(4711, `Cannot truncate table '${name}' because it is published for replication or enabled for Change Data Capture.`);
    // Ledger tables: "TRUNCATE TABLE isn't supported" (Microsoft Learn, "Ledger considerations and limitations"); an
    // updatable one answers as a system-versioned table does (13545, seen in a public script's output); an
    // append-only one's number is not documented: its UPDATE / DELETE refusal's (37359) is taken.
    if (t.systemVersioned || t.historyOf || t.ledger === "updatable") return new SqlError(13545, `Truncate failed on table '${name}' because it is not a supported operation on system-versioned tables.`);
    if (t.ledger === "append-only") return appendOnly(t);
    if (t.ledgerHistoryOf) return ledgerHistory(t);
    return null;
  }

  /** A write SQL Server refuses for the table whatever the permissions: any into a system-versioned table's history
   *  (13559-13561), an UPDATE or DELETE of an append-only ledger table (37359; Microsoft Learn, "Append-only ledger
   *  tables": "allow only INSERT operations"). */
  private refuseWrite(t: Table, verb: "insert" | "update" | "delete") {
    const [msg, preposition] = ({ insert: [13559, "in"], delete: [13560, "from"], update: [13561, "in"] } as const)[verb];
    if (t.historyOf) throw new SqlError(msg, `Cannot ${verb} rows ${preposition} a temporal history table '${q(t.ref)}'.`);
    if (t.ledger === "append-only" && verb !== "insert") throw appendOnly(t);
    if (t.ledgerHistoryOf && verb !== "insert") throw ledgerHistory(t);
  }

  table(name: string): Table {
    const t = this.tables.get(name) ?? [...this.tables.values()].find((x) => x.ref.name === name);
    if (!t) throw new SqlError(208, `Invalid object name '${name}'.`);
    return t;
  }

  insert(name: string, rows: Row[]) {
    const t = this.table(name);
    t.rows.push(...rows.map((r) => ({ ...r })));
    if (rows.length) this.explicitIdentity(t);
  }

  /** A row inserted the way a tester does, the identity column left to its default: it takes the next identity. */
  insertDefault(name: string, row: Row): number {
    const t = this.table(name);
    const id = t.columns.find((c) => c.identity)!;
    const next = t.identityFresh ? t.identityCurrent : t.identityCurrent + 1;
    if (t.rows.some((r) => same(r[id.name], next))) throw new SqlError(2627, `Violation of PRIMARY KEY constraint. Cannot insert duplicate key in object '${q(t.ref)}'. The duplicate key value is (${next}).`);
    t.rows.push({ ...row, [id.name]: next });
    t.identityCurrent = next;
    t.identityFresh = false;
    return next;
  }

  /** Explicit identity values inserted (IDENTITY_INSERT; the test helper's rows, as an application inserted them):
   *  "If the value inserted is larger than the current identity value for the table, SQL Server automatically uses
   *  the new inserted value as the current identity value" (SET IDENTITY_INSERT documentation). */
  private explicitIdentity(t: Table) {
    const id = t.columns.find((c) => c.identity);
    if (!id) return;
    const max = Math.max(...t.rows.map((r) => Number(r[id.name])));
    if (t.identityFresh || max > t.identityCurrent) t.identityCurrent = Math.max(t.identityFresh ? -Infinity : t.identityCurrent, max);
    t.identityFresh = false;
  }

  rows(name: string): Row[] {
    return this.table(name).rows;
  }

  key(name: string): Key {
    const k = this.keys.find((x) => x.name === name);
    if (!k) throw new SqlError(4917, `Constraint '${name}' does not exist.`);
    return k;
  }

  // ---- integrity -----------------------------------------------------------------------------------------------
  violations(k: KeyDef): Row[] {
    const parent = this.table(k.references).rows;
    return this.table(k.table).rows.filter((r) => k.columns.every((c) => r[c] !== null) && !parent.some((p) => k.referencedColumns.every((c, i) => same(p[c], r[k.columns[i]]))));
  }

  /** End of a statement that changed `touched`: every checked key from or to them must hold (547 otherwise). */
  private checkKeys(touched: Table) {
    for (const k of this.keys) {
      if (!k.checked || (this.table(k.table) !== touched && this.table(k.references) !== touched)) continue;
      if (this.violations(k).length) throw new SqlError(547, `The statement conflicted with the FOREIGN KEY constraint "${k.name}".`);
    }
  }

  private snapshot() {
    return structuredClone({ tables: this.tables, keys: this.keys });
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    // XACT_ABORT ON: any error rolls the whole transaction back.
    const before = this.snapshot();
    try {
      return await fn();
    } catch (e) {
      Object.assign(this, before);
      throw e;
    }
  }

  /** Logs a statement as sent; the one at `lostAt` never reaches the server. */
  record(sql: string) {
    this.statements.push(sql);
    if (this.lostAt === this.statements.length - 1)
      throw Object.assign(new Error(`model: connection lost at ${sql.slice(0, 60)}: read ECONNRESET`), { name: "ConnectionError", code: "ECONNRESET" });
  }

  /** Rows bulk-loaded (INSERT BULK with CHECK_CONSTRAINTS; the identity column listed keeps its values). */
  bulkLoad(name: string, columns: string[], rows: Value[][]) {
    const t = this.table(name);
    this.refuseWrite(t, "insert");
    t.rows.push(...rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))));
    // Strictest reading: a bulk load keeping identity values does not move the identity (seen so on a TDS server;
    // Microsoft documents the move for IDENTITY_INSERT, not for bulk loads), so only a reseed does.
    this.checkKeys(t);
  }

  // ---- statements --------------------------------------------------------------------------------------------
  /** Runs one batch; returns the rows of its last SELECT. */
  run(sql: string, params: readonly unknown[] = []): Row[] {
    this.record(sql);
    let m: RegExpExecArray | null;
    if ((m = /^(DISABLE|ENABLE) TRIGGER \[[^\]]+\]\.\[([^\]]+)\] ON (\S+)$/.exec(sql))) {
      const t = this.table(m[3]);
      if (!t.triggers.has(m[2])) throw new SqlError(3701, `Cannot find the object "${m[2]}".`);
      t.triggers.set(m[2], m[1] === "ENABLE");
      return [];
    }
    if ((m = /^ALTER TABLE (\S+) NOCHECK CONSTRAINT \[([^\]]+)\]$/.exec(sql))) {
      Object.assign(this.key(m[2]), { checked: false, trusted: false });
      return [];
    }
    if ((m = /^ALTER TABLE (\S+) WITH CHECK CHECK CONSTRAINT \[([^\]]+)\]$/.exec(sql))) {
      const k = this.key(m[2]);
      if (this.violations(k).length) throw new SqlError(547, `The ALTER TABLE statement conflicted with the FOREIGN KEY constraint "${k.name}".`);
      Object.assign(k, { checked: true, trusted: true });
      return [];
    }
    // The dialect's TRUNCATE where allowed, else DELETE, as the catalog views it reads say: sys.foreign_keys lists
    // every key, disabled ones too; an indexed view depends on the table; sys.tables flags replication, change data
    // capture and system versioning.
    if ((m = /^IF (EXISTS \(.+\)) DELETE FROM (\S+) ELSE TRUNCATE TABLE \2$/.exec(sql))) {
      const t = this.table(String(params[0]));
      if (q(t.ref) !== m[2]) throw new Error(`model: OBJECT_ID(${String(params[0])}) is not ${m[2]}`);
      const tests = m[1].slice("EXISTS (".length, -1).split(") OR EXISTS (");
      return this.run(tests.some((test) => this.catalogTest(test, t)) ? `DELETE FROM ${m[2]}` : `TRUNCATE TABLE ${m[2]}`);
    }
    if ((m = /^TRUNCATE TABLE (\S+)$/.exec(sql))) {
      const t = this.table(m[1]);
      const refused = this.truncateRefusal(t);
      if (refused) throw refused;
      t.rows = [];
      // TRUNCATE TABLE: "the counter used by an identity for new rows is reset to the seed for the column".
      t.identityCurrent = 1;
      t.identityFresh = true;
      return [];
    }
    if ((m = /^DELETE FROM (\S+)$/.exec(sql))) {
      const t = this.table(m[1]);
      this.refuseWrite(t, "delete");
      t.rows = [];
      this.checkKeys(t);
      return [];
    }
    if ((m = /^SELECT TOP \(0\) (.+) INTO (\S+) FROM (\S+) UNION ALL SELECT TOP \(0\) \1 FROM \3$/.exec(sql))) {
      const from = this.table(m[3]);
      const [, schema, name] = /^\[(.+)\]\.\[(.+)\]$/.exec(m[2])!;
      if (this.tables.has(m[2])) throw new SqlError(2714, `There is already an object named '${name}' in the database.`);
      const selected = m[1].split(", ").map((c) => from.columns.find((x) => `[${x.name.replace(/]/g, "]]")}]` === c) ?? fail(`model: ${c} is not a column of ${m![3]}`));
      // UNION ALL: no IDENTITY property, no constraints.
      this.tables.set(m[2], { ref: { schema, name }, columns: selected.map((c) => ({ ...c, identity: false })), primaryKey: [], rows: [], triggers: new Map(), identityInsert: false, identityCurrent: 1, identityFresh: true });
      return [];
    }
    if ((m = /^DROP TABLE IF EXISTS (\S+)$/.exec(sql))) {
      this.tables.delete(m[1]);
      return [];
    }
    if ((m = /^DECLARE @v decimal\(38, 0\) = \(SELECT MAX\(x\.v\) FROM \(VALUES \(CAST\(IDENT_CURRENT\(@p1\) AS decimal\(38, 0\)\)\),\s+\(\(SELECT MAX\(CAST\(ic\.last_value AS decimal\(38, 0\)\)\) FROM sys\.identity_columns AS ic WHERE ic\.object_id = OBJECT_ID\(@p1\) AND ic\.name = @p3\)\),\s+\(\(SELECT CAST\(MAX\(\[([^\]]+)\]\) AS decimal\(38, 0\)\) FROM (\S+)\)\),/.exec(sql)))
      return this.reseed(String(params[0]), m[1], params[1] === null || params[1] === undefined ? null : Number(params[1]));
    if (/^UPDATE STATISTICS \S+$/.test(sql)) return [];
    if ((m = /^UPDATE t SET (.+) FROM (\S+) AS t JOIN (\S+) AS s ON (.+) WHERE EXISTS \(SELECT (.+) EXCEPT SELECT (.+)\);\nSELECT CAST\(@@ROWCOUNT AS nvarchar\(20\)\) AS \[n\];$/s.exec(sql)))
      return this.mergeUpdate(m[2], m[3], m[1], m[4], m[5]);
    if ((m = /^(SET IDENTITY_INSERT (\S+) ON;\n)?INSERT INTO (\S+) \((.+?)\) SELECT (.+?) FROM (\S+) AS s WHERE NOT EXISTS \(SELECT 1 FROM \S+ AS t WHERE (.+?)\)(;\nDECLARE @n int = @@ROWCOUNT;\nSET IDENTITY_INSERT \S+ OFF;\nSELECT CAST\(@n AS nvarchar\(20\)\) AS \[n\];|;\nSELECT CAST\(@@ROWCOUNT AS nvarchar\(20\)\) AS \[n\];)$/s.exec(sql)))
      return this.mergeInsert(m[3], m[6], colsOf(m[4]), m[7], !!m[1]);
    if ((m = /^DELETE t FROM (\S+) AS t WHERE NOT EXISTS \(SELECT 1 FROM (\S+) AS s WHERE (.+?)\)((?: AND NOT EXISTS \(SELECT 1 FROM \S+ AS c WHERE [^)]+\))*)( AND CASE WHEN \((.+)\) THEN 1 ELSE 0 END = 0)?;\nSELECT CAST\(@@ROWCOUNT AS nvarchar\(20\)\) AS \[n\];$/s.exec(sql)))
      return this.mergeDelete(m[1], m[2], m[3], m[4], m[6], true);
    // The rows gone from the staging table, all of them or (after the delete) those inside a scope: production's
    // rows, below UAT's id range.
    if ((m = /^SELECT CAST\(COUNT_BIG\(\*\) AS nvarchar\(20\)\) AS \[n\] FROM (\S+) AS t WHERE NOT EXISTS \(SELECT 1 FROM (\S+) AS s WHERE ([^)]+)\)(?: AND (.+))?$/s.exec(sql))) {
      const gone = this.mergeDelete(m[1], m[2], m[3], undefined, undefined, false);
      const scope = m[4];
      return scope === undefined ? [{ n: String(gone.length) }] : [{ n: String(gone.filter((r) => holds(scope, r, params)).length) }];
    }
    if ((m = /^SELECT CAST\(COUNT_BIG\(\*\) AS nvarchar\(20\)\) AS \[n\] FROM (\S+) AS s WHERE EXISTS \(SELECT 1 FROM (\S+) AS t WHERE (.+)\)$/s.exec(sql))) {
      const staged = this.table(m[1]);
      const t = this.table(m[2]);
      const key = this.matchColumns(m[3]);
      return [{ n: String(staged.rows.filter((r) => t.rows.some((x) => key.every((k) => same(x[k], r[k])))).length) }];
    }
    if ((m = /^SELECT CAST\(COUNT_BIG\(\*\) AS nvarchar\(20\)\) AS \[n\] FROM (\S+) AS c WHERE (.+?)\s+AND NOT EXISTS \(SELECT 1 FROM (\S+) AS p WHERE (.+)\)$/s.exec(sql))) {
      const k = this.keys.find((x) => q(this.table(x.table).ref) === m![1] && q(this.table(x.references).ref) === m![3] && m![4] === x.referencedColumns.map((c, i) => `p.[${c}] = c.[${x.columns[i]}]`).join(" AND "));
      if (!k) throw new Error(`model: no key matches ${sql}`);
      return [{ n: String(this.violations(k).length) }];
    }
    if (/^SELECT N'0' AS \[n\]$/.test(sql)) return [{ n: "0" }];
    return this.read(sql, params);
  }

  /** The dialect's identity reseed (lib/dialects/sqlserver/compiler.ts resyncIdentity): DBCC CHECKIDENT (t, RESEED, v)
   *  with v the largest of the current identity, the column's max, and UAT's floor (minus one on a table with rows);
   *  "Current identity value is set to the new_reseed_value" (DBCC CHECKIDENT documentation). */
  private reseed(name: string, column: string, floor: number | null): Row[] {
    const t = this.table(name);
    const values = t.rows.map((r) => r[column]).filter((v) => v !== null).map(Number);
    const candidates = [t.identityCurrent, ...(values.length ? [Math.max(...values)] : []), ...(floor !== null ? [floor - (t.rows.length ? 1 : 0)] : [])];
    const v = Math.max(...candidates);
    this.statements.push(`DBCC CHECKIDENT ('${name.replace(/'/g, "''")}', RESEED, ${v}) WITH NO_INFOMSGS`);
    t.identityCurrent = v;
    return [];
  }

  /** `t.[a] = s.[a] AND t.[b] = s.[b]` -> the key columns (same names on both sides). */
  private matchColumns(on: string): string[] {
    return on.split(" AND ").map((p) => {
      const m = /^t\.\[([^\]]+)\] = s\.\[([^\]]+)\]$/.exec(p.trim());
      if (!m || m[1] !== m[2]) throw new Error(`model: cannot read match ${p}`);
      return m[1];
    });
  }

  private mergeUpdate(tName: string, sName: string, set: string, on: string, compared: string): Row[] {
    const t = this.table(tName);
    const s = this.table(sName);
    const key = this.matchColumns(on);
    const columns = set.split(", ").map((a) => unquote(a.split(" = ")[0]));
    this.refuseWrite(t, "update");
    const identity = columns.find((c) => t.columns.find((x) => x.name === c)?.identity);
    if (identity) throw new SqlError(8102, `Cannot update identity column '${identity}'.`);
    // EXCEPT compares like DISTINCT: xml, text, ntext and image are not comparable unless converted.
    const raw = compared.replace(/CONVERT\((?:n?varchar|varbinary)\(max\), t\.\[[^\]]+\]\)/g, "");
    for (const [, c] of raw.matchAll(/t\.\[([^\]]+)\]/g)) {
      const type = t.columns.find((x) => x.name === c)?.type.toLowerCase();
      if (type && ["xml", "text", "ntext", "image"].includes(type)) throw new SqlError(421, `The ${type} data type cannot be selected as DISTINCT because it is not comparable.`);
    }
    let n = 0;
    for (const row of t.rows) {
      const src = s.rows.find((r) => key.every((k) => same(r[k], row[k])));
      // EXCEPT: NULLs compare equal.
      if (!src || columns.every((c) => same(src[c], row[c]))) continue;
      for (const c of columns) row[c] = src[c];
      n++;
    }
    this.checkKeys(t);
    return [{ n: String(n) }];
  }

  private mergeInsert(tName: string, sName: string, columns: string[], on: string, identityInsert: boolean): Row[] {
    const t = this.table(tName);
    const s = this.table(sName);
    this.refuseWrite(t, "insert");
    const id = t.columns.find((c) => c.identity);
    if (id && columns.includes(id.name) && !identityInsert)
      throw new SqlError(544, `Cannot insert explicit value for identity column in table '${t.ref.name}' when IDENTITY_INSERT is set to OFF.`);
    const key = this.matchColumns(on);
    const fresh = s.rows.filter((r) => !t.rows.some((x) => key.every((k) => same(x[k], r[k]))));
    t.rows.push(...fresh.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]]))));
    if (fresh.length && identityInsert) this.explicitIdentity(t);
    this.checkKeys(t);
    return [{ n: String(fresh.length) }];
  }

  /** DELETE of rows gone from the staging table unless a keeper still references them or the keep rule names them
   *  (its count), or (`remove` false) the rows gone themselves. */
  private mergeDelete(tName: string, sName: string, on: string, keepersText: string | undefined, keep: string | undefined, remove: boolean): Row[] {
    const t = this.table(tName);
    const s = this.table(sName);
    const key = this.matchColumns(on);
    const keepers = [...(keepersText ?? "").matchAll(/ AND NOT EXISTS \(SELECT 1 FROM (\S+) AS c WHERE ([^)]+)\)/g)].map((m) => {
      const pairs = m[2].split(" AND ").map((p) => /^c\.\[([^\]]+)\] = t\.\[([^\]]+)\]$/.exec(p)!);
      return { table: this.table(m[1]), child: pairs.map((p) => p[1]), parent: pairs.map((p) => p[2]) };
    });
    const referenced = (row: Row) => keepers.some((k) => k.table.rows.some((c) => k.child.every((col, i) => c[col] !== null && same(c[col], row[k.parent[i]]))));
    const gone = t.rows.filter((r) => !s.rows.some((x) => key.every((k) => same(x[k], r[k]))));
    if (!remove) return gone;
    this.refuseWrite(t, "delete");
    const kept = (row: Row) => keep !== undefined && holds(keep, row, []);
    const deleted = gone.filter((r) => !referenced(r) && !kept(r));
    t.rows = t.rows.filter((r) => !deleted.includes(r));
    this.checkKeys(t);
    return [{ n: String(deleted.length) }];
  }

  // ---- reads ---------------------------------------------------------------------------------------------------
  private read(sql: string, params: readonly unknown[]): Row[] {
    let m: RegExpExecArray | null;
    if ((m = /^SELECT CASE WHEN EXISTS \(SELECT 1 FROM (\S+)\) THEN 0 ELSE 1 END AS \[empty\]$/.exec(sql))) return [{ empty: this.table(m[1]).rows.length ? 0 : 1 }];
    if ((m = CHECKSUM_QUERY.exec(sql))) {
      const columns = checksumColumns(sql);
      return [modelChecksum(this.select(m[1], m[2], params).map((r) => columns.map((c) => r[c])))];
    }
    if ((m = /^SELECT CAST\(COUNT_BIG\(\*\) AS nvarchar\(20\)\) AS \[n\] FROM (\S+)( WHERE .+)?$/.exec(sql))) return [{ n: String(this.select(m[1], m[2], params).length) }];
    // The bands (compiler bandCounts): per band (lower, upper] of a whole-number column, its rows and the sum of a
    // number column (the banded one itself in identity mode). Each value is CAST to decimal(38, s) first, which
    // rounds it to s digits after the point (Microsoft Learn, CAST and CONVERT: decimal to decimal of a smaller scale
    // rounds): summed at scale 0, a key 19.25 and a key 19.00 are both 19.
    if ((m = /^SELECT (CAST\(ISNULL\(SUM\(CASE WHEN .+ AS \[s\d+\]) FROM (\S+)( WHERE .+)?$/s.exec(sql))) {
      const rows = this.select(m[2], m[3], params);
      const band = /SUM\(CASE WHEN \[([^\]]+)\] > CAST\(@p(\d+) AS \w+\) AND \[\1\] <= CAST\(@p(\d+) AS \w+\) THEN (CAST\(1 AS bigint\)|CAST\(\[([^\]]+)\] AS decimal\(38, (\d+)\)\)) ELSE 0 END\), 0\) AS nvarchar\(\d+\)\) AS \[([ns]\d+)\]/g;
      const out: Row = {};
      for (const b of m[1].matchAll(band)) {
        const [lower, upper] = [Number(params[Number(b[2]) - 1]), Number(params[Number(b[3]) - 1])];
        const inside = rows.filter((r) => Number(r[b[1]]) > lower && Number(r[b[1]]) <= upper);
        const scale = Number(b[6] ?? 0);
        const rounded = (v: unknown) => Math.sign(Number(v)) * Math.round(Math.abs(Number(v)) * 10 ** scale); // away from zero, as SQL Server rounds
        out[b[7]] = b[4].startsWith("CAST(1") ? String(inside.length) : (inside.reduce((a, r) => a + rounded(r[b[5]]), 0) / 10 ** scale).toFixed(scale);
      }
      if (!Object.keys(out).length) throw new Error(`model: unreadable bands ${sql}`);
      return [out];
    }
    // Identity mode's watched gaps (compiler idGaps): the column's values in the range with its two ends as
    // sentinels, each value paired with the next (LEAD ... ORDER BY), the pairs further apart than 1, highest first.
    if ((m = /^SELECT TOP \((\d+)\) CAST\(g\.a AS nvarchar\(40\)\) AS \[after\], CAST\(g\.b AS nvarchar\(40\)\) AS \[before\] FROM \(SELECT v AS a, LEAD\(v\) OVER \(ORDER BY v\) AS b FROM \(SELECT CAST\(\[([^\]]+)\] AS decimal\(38, 0\)\) AS v FROM (\S+)( WHERE .+?) UNION ALL SELECT CAST\(@p(\d+) AS decimal\(38, 0\)\) UNION ALL SELECT CAST\(@p(\d+) AS decimal\(38, 0\)\) \+ 1\) AS ids\) AS g WHERE g\.b > g\.a \+ 1 ORDER BY g\.a DESC$/s.exec(sql))) {
      const values = [...this.select(m[3], m[4], params).map((r) => Number(r[m![2]])), Number(params[Number(m[5]) - 1]), Number(params[Number(m[6]) - 1]) + 1].sort((a, b) => a - b);
      const gaps = values.slice(0, -1).map((a, i) => ({ after: String(a), before: String(values[i + 1]) })).filter((g) => Number(g.before) > Number(g.after) + 1);
      return gaps.reverse().slice(0, Number(m[1]));
    }
    if ((m = /^SELECT DISTINCT CAST\(\[([^\]]+)\] AS nvarchar\(60\)\) AS \[value\] FROM (\S+)( WHERE .+?)? ORDER BY \[value\]$/s.exec(sql))) {
      const values = [...new Set(this.select(m[2], m[3], params).map((r) => r[m![1]]).filter((v) => v !== null).map(String))];
      return values.sort().map((value) => ({ value }));
    }
    if ((m = /^SELECT CAST\(MAX\(\[([^\]]+)\]\) AS nvarchar\(60\)\) AS \[max\], CAST\(MAX\(\[\1\]\) AS nvarchar\(60\)\) AS \[cutoff\] FROM (\S+)( WHERE .+)?$/s.exec(sql))) {
      const values = this.select(m[2], m[3], params).map((r) => r[m![1]]).filter((v) => v !== null).map(Number);
      const max = values.length ? String(Math.max(...values)) : null;
      return [{ max, cutoff: max }];
    }
    if ((m = /^SELECT CAST\(MIN\(\[([^\]]+)\]\) AS nvarchar\(60\)\) AS \[lo\], CAST\(MAX\(\[\1\]\) AS nvarchar\(60\)\) AS \[hi\] FROM (\S+)$/.exec(sql))) {
      const values = this.table(m[2]).rows.map((r) => r[m![1]]).filter((v) => v !== null).map(Number);
      return [{ lo: values.length ? String(Math.min(...values)) : null, hi: values.length ? String(Math.max(...values)) : null }];
    }
    if (/FROM sys\.partitions AS p WHERE p\.\[object_id\] = OBJECT_ID\(@p1\)/.test(sql)) return [{ n: String(this.table(String(params[0])).rows.length), bytes: null }];
    throw new Error(`model: unexpected statement ${sql}`);
  }

  /** The rows the compiler's WHERE selects (see `holds`). */
  private select(name: string, where: string | undefined, params: readonly unknown[]): Row[] {
    let rows = this.table(name).rows;
    if (!where) return rows;
    let text = where.replace(/^ WHERE /, "");
    // The `unstaged` filter (lib/dialects/filters): rows whose key the staging table has no row of.
    const unstaged = /(?: AND )?\(?NOT EXISTS \(SELECT 1 FROM (\S+) AS uat_refresh_stage WHERE ([^)]+)\)\)?/.exec(text);
    if (unstaged) {
      text = text.replace(unstaged[0], "");
      const key = [...unstaged[2].matchAll(/uat_refresh_stage\.\[([^\]]+)\]/g)].map((k) => k[1]);
      const staged = this.table(unstaged[1]).rows;
      rows = rows.filter((r) => !staged.some((x) => key.every((k) => same(x[k], r[k]))));
    }
    return text ? rows.filter((r) => holds(text, r, params)) : rows;
  }

  exportRows(sql: string, params: readonly unknown[]): Value[][] {
    const m = /^SELECT (TOP \((\d+)\) )?(.+?) FROM (\S+)( WHERE .+?)?( ORDER BY \[([^\]]+)\])?$/.exec(sql);
    if (!m) throw new Error(`model: unexpected SELECT ${sql}`);
    // A column is `[c]`, or an exact-transport read of it, `CONVERT(nvarchar(max), [c]) AS [c]`: its value as text.
    const columns = selectList(m[3]);
    let rows = [...this.select(m[4], m[5], params)];
    if (m[7]) rows.sort((a, b) => Number(a[m[7]]) - Number(b[m[7]]));
    if (m[2]) rows = rows.slice(0, Number(m[2]));
    return rows.map((r) => columns.map((c) => r[c]));
  }

  // ---- catalog -------------------------------------------------------------------------------------------------
  catalog(sql: string, params: unknown[]): Record<string, unknown>[] {
    const t = () => this.table(String(params[0]));
    if (sql === SQL.findTable) {
      const found = [...this.tables.values()].find((x) => x.ref.name.toLowerCase() === String(params[0]).toLowerCase() && x.ref.schema === (params[1] ?? "dbo"));
      return found ? [{ ...found.ref, memoryOptimized: !!found.memoryOptimized, temporal: found.historyOf ? 1 : found.systemVersioned ? 2 : 0, ledger: found.ledgerHistoryOf ? 1 : found.ledger === "updatable" ? 2 : found.ledger === "append-only" ? 3 : 0 }] : [];
    }
    // Rendered as the single-table model renders its catalog rows.
    if (sql === SQL.columns) return t().columns.map((c) => columnRow({ name: c.name, type: c.type, nullable: !!c.nullable, ...(c.identity ? { identity: { seed: "1", increment: "1" } } : {}) }));
    if (sql === SQL.indexes) return indexRows({ name: `pk_${t().ref.name}`, clustered: true, unique: true, primaryKey: true, keys: t().primaryKey.map((column) => ({ column })), dataSpace: "PRIMARY" });
    // Nothing compressed: no rows read as NONE everywhere.
    // SQL Server 2016+ (the views exist), with no security policies and no masks.
    if (sql === SQL.securityViews) return [{ policies: -411, masks: -431 }];
    // sys.tables.history_table_id: a system-versioned table's history table; a history table's own table (temporal or
    // ledger).
    if (sql === SQL.temporalPair) {
      const me = t();
      const history = [...this.tables.values()].find((x) => x.historyOf === `${me.ref.schema}.${me.ref.name}`);
      return [{ pair: me.historyOf ?? me.ledgerHistoryOf ?? (history ? `${history.ref.schema}.${history.ref.name}` : null) }];
    }
    if (sql === SQL.checks || sql === SQL.sequences || sql === SQL.compression || sql === SQL.rowSecurity || sql === SQL.maskedColumns) return [];
    if (sql === SQL.triggers) return [...t().triggers].filter(([, on]) => on).map(([name]) => ({ name }));
    if (sql === SQL.foreignKeys) {
      const me = t();
      // WHERE fk.is_disabled = 0: a key under NOCHECK is disabled, and the catalog query leaves it out.
      return this.keys
        .filter((k) => k.checked && (this.table(k.table) === me || this.table(k.references) === me))
        .flatMap((k) => {
          const [c, r] = [this.table(k.table).ref, this.table(k.references).ref];
          return k.columns.map((column, i) => ({ name: k.name, cs: c.schema, ct: c.name, rs: r.schema, rt: r.name, column, refColumn: k.referencedColumns[i] }));
        });
    }
    const asked = privilegesAsked(sql);
    if (asked) return [Object.fromEntries(asked.map((p) => [p, 1]))];
    if (sql === SQL.storage) {
      const me = t();
      const from = this.keys.find((k) => this.table(k.references) === me);
      const own = this.keys.find((k) => this.table(k.table) === me);
      return [{
        dataSpace: "PRIMARY", dataSpaceType: "FG", partitionColumn: null, partitions: 1, compression: "NONE", lobFilegroup: null,
        referencedBy: from ? q(this.table(from.table).ref) : null, foreignKey: own?.name ?? null, otherIndex: null, indexedView: null, fullText: 0, changeTracking: 0,
        temporal: 0, memoryOptimized: !!me.memoryOptimized, cdc: false, replicated: false, ledger: me.ledger === "updatable" ? 2 : me.ledger === "append-only" ? 3 : 0, canCreateTable: 1, canAlterSchema: 1, canAlterTable: 1,
      }];
    }
    if (sql === SQL.partitioning) return [];
    throw new Error(`model: unexpected catalog query ${sql}`);
  }
}

/** A Session over a modelled database: the dialect's introspector and compiler, the model underneath; one request
 *  at a time, as on a tedious connection (./one-request). */
export function databaseSession(db: SqlServerDatabase, role: "source" | "target"): Session {
  const readOnly = role === "source";
  const wire = new OneRequestAtATime();
  const write = (sql: string) => {
    if (readOnly && !/^SELECT /.test(sql)) throw new Error(`model: the source is never written: ${sql}`);
  };
  return {
    engine: "sqlserver",
    introspector: sqlServerIntrospector(<R>(sql: string, params: unknown[]) => wire.run(sql, () => db.catalog(sql, params) as R[])),
    async identity() {
      return { keys: [`model|${role}`], version: "model", database: role };
    },
    query: <R>(c: CompiledQuery) =>
      wire.send(c, () => {
        write(c.sql);
        return db.run(c.sql, c.params) as R[];
      }),
    execute: (c: CompiledQuery) =>
      wire.send(c, () => {
        write(c.sql);
        db.run(c.sql, c.params);
      }),
    async transaction(fn) {
      if (readOnly) return fn();
      return db.transaction(async () => {
        await wire.run("SET XACT_ABORT ON; BEGIN TRANSACTION", () => {});
        const result = await fn();
        await wire.run("COMMIT TRANSACTION", () => {});
        return result;
      });
    },
    snapshot: (fn) => fn(),
    async exportRows(c: CompiledQuery) {
      return { stream: wire.hold(c.sql, Readable.from(db.exportRows(c.sql, c.params))), done: Promise.resolve() } satisfies RowStream;
    },
    importRows: (table, columns, rows) =>
      wire.run(`INSERT BULK ${q(table)}`, async () => {
        write("INSERT BULK");
        db.record(`INSERT BULK ${q(table)}`);
        const values: Value[][] = [];
        for await (const r of rows.stream) values.push(r as Value[]);
        db.bulkLoad(q(table), columns, values);
        return values.length;
      }),
    destroy() {},
    async close() {},
  };
}

/** The source column of each item of a SELECT list (top-level commas; `expr AS [alias]` read as its column). */
function selectList(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of list) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      items.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  items.push(cur.trim());
  return items.map((item) => {
    const m = /^CONVERT\(nvarchar\(max\), \[([^\]]+)\]\) AS \[\1\]$/.exec(item);
    if (m) return m[1];
    if (!/^\[[^\]]+\]$/.test(item)) throw new Error(`model: cannot read select item ${item}`);
    return unquote(item);
  });
}

/** Splits on ` AND ` / ` OR ` outside parentheses and quotes. */
function splitTop(text: string, op: "AND" | "OR"): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") quoted = !quoted;
    if (quoted) continue;
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (depth === 0 && text.startsWith(` ${op} `, i)) {
      parts.push(text.slice(start, i));
      start = i + op.length + 2;
    }
  }
  return [...parts, text.slice(start)];
}

/** A whole-text parenthesised group `( ... )`. */
function unwrap(text: string): string {
  let t = text.trim();
  for (;;) {
    if (!t.startsWith("(") || !t.endsWith(")")) return t;
    let depth = 0;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === "(") depth++;
      if (t[i] === ")") depth--;
      if (depth === 0 && i < t.length - 1) return t;
    }
    t = t.slice(1, -1).trim();
  }
}

function valueOf(text: string, params: readonly unknown[]): Value {
  let m: RegExpExecArray | null;
  if ((m = /^CAST\(@p(\d+) AS \w+\)$/.exec(text))) return Number(params[Number(m[1]) - 1]);
  if ((m = /^N?'((?:[^']|'')*)'$/.exec(text))) return m[1].replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  throw new Error(`model: cannot read value ${text}`);
}

/** Whether a row satisfies a WHERE the dialect emits: AND / OR of comparisons of a [column] with a parameter or a
 *  constant, IS NULL, and `CASE WHEN (p) THEN 1 ELSE 0 END = 0` (p unknown counts as not holding, as in T-SQL). */
export function holds(where: string, row: Row, params: readonly unknown[]): boolean {
  const text = unwrap(where);
  const ands = splitTop(text, "AND");
  if (ands.length > 1) return ands.every((a) => holds(a, row, params));
  const ors = splitTop(text, "OR");
  if (ors.length > 1) return ors.some((o) => holds(o, row, params));
  let m: RegExpExecArray | null;
  if ((m = /^CASE WHEN (.+) THEN 1 ELSE 0 END = 0$/s.exec(text))) return !holds(m[1], row, params);
  if ((m = /^(?:t\.)?\[([^\]]+)\] IS NULL$/.exec(text))) return row[m[1]] === null || row[m[1]] === undefined;
  if ((m = /^(?:t\.)?\[([^\]]+)\] (>=|>|<=|<|=|<>) (.+)$/.exec(text))) {
    const left = row[m[1]];
    const right = valueOf(m[3].trim(), params);
    if (left === null || left === undefined || right === null) return false;
    const [a, b] = typeof right === "number" ? [Number(left), right] : [String(left), String(right)];
    return m[2] === ">" ? a > b : m[2] === ">=" ? a >= b : m[2] === "<" ? a < b : m[2] === "<=" ? a <= b : m[2] === "=" ? a === b : a !== b;
  }
  throw new Error(`model: cannot read condition ${text}`);
}

function fail(message: string): never {
  throw new Error(message);
}

// A server-less model of the SQL Server state that staging_partition_switch depends on, written from Microsoft's
// documentation, so the dialect's statements can be executed here and their effect checked:
// - CREATE PARTITION FUNCTION: RANGE RIGHT ranges are [b(k-1), b(k)), RANGE LEFT ranges (b(k-1), b(k)]; the first and
//   last are open-ended; $PARTITION numbers them 1..n+1 from the lowest.
// - ALTER PARTITION FUNCTION ... SPLIT RANGE (v): fails without a NEXT USED filegroup (error 7707) or on an existing
//   boundary (7721); "the one where the new boundary_value resides is considered the new partition": it goes to the
//   NEXT USED filegroup, which is then cleared, and the rows of that range move (the model counts them).
// - ALTER TABLE s SWITCH TO t PARTITION n: the target partition must be empty (4904), s must be on partition n's
//   filegroup (4939), and a trusted CHECK on s must keep every row inside partition n's range (4972).
// - sys.partition_range_values is what the introspector reads; its text is rendered as the query asks for it.
// It answers the catalog queries the dialect sends and the engine's own row queries on a one-table database.
import { Readable } from "node:stream";
import { sqlServerCompiler } from "../../lib/dialects/sqlserver/compiler";
import { SQL, sqlServerIntrospector } from "../../lib/dialects/sqlserver/introspector";
import { comparePoints, toPoint, type Point } from "../../lib/dialects/partition-days";
import type { ColumnInfo, CompiledQuery, RowStream, Session, TableRef, TypeFamily } from "../../lib/dialects/types";

export type KeyType = "int" | "date" | "datetime2";
const FAMILY: Record<KeyType, TypeFamily> = { int: "integer", date: "date", datetime2: "datetime" };

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
  private staging = new Map<string, { filegroup: string; check?: Cond[]; rows: string[] }>();

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

  /** Rows bulk-loaded into a staging table. */
  stage(table: string, keys: string[]) {
    this.staging.get(table)!.rows.push(...keys);
  }

  rowsIn(n: number): string[] {
    return this.t.rows.filter((r) => this.partitionNumber(r) === n);
  }

  // ---- T-SQL the dialect sends -------------------------------------------------------------------------------
  execute(sql: string, params: readonly unknown[] = []) {
    this.statements.push(sql);
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
    if ((m = /^CREATE TABLE (\S+) \(.*\) ON \[(.+)\]$/.exec(sql))) {
      this.staging.set(m[1], { filegroup: m[2], rows: [] });
      return;
    }
    if ((m = /^ALTER TABLE (\S+) ADD CONSTRAINT \S+ CHECK \((.+) AND \[[^\]]+\] IS NOT NULL\)$/.exec(sql))) {
      this.staging.get(m[1])!.check = this.conds(m[2], params);
      return;
    }
    if ((m = /^ALTER TABLE (\S+) SWITCH PARTITION (\d+) TO (\S+)/.exec(sql))) {
      const n = Number(m[2]);
      const out = this.rowsIn(n);
      this.t.rows = this.t.rows.filter((r) => this.partitionNumber(r) !== n);
      this.staging.get(m[3])!.rows = out;
      return;
    }
    if ((m = /^ALTER TABLE (\S+) SWITCH TO (\S+) PARTITION (\d+)/.exec(sql))) return this.switchIn(m[1], Number(m[3]));
    // CREATE INDEX, constraints, extended properties, DROP TABLE, DBCC: no effect on what the model checks.
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
    const s = this.staging.get(from)!;
    if (this.rowsIn(n).length) throw new SqlError(4904, `target partition ${n} is not empty`);
    if (s.filegroup !== this.t.filegroups![n - 1]) throw new SqlError(4939, `${from} is on filegroup ${s.filegroup}, partition ${n} on ${this.t.filegroups![n - 1]}`);
    if (!s.check || !this.within(s.check, this.range(n))) throw new SqlError(4972, `the CHECK constraint of ${from} does not keep its rows inside partition ${n}`);
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
      const m = /^\[[^\]]+\] (>=|>|<=|<) (.+)$/.exec(part.trim());
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
    const key = this.t.keyType === "datetime2" ? { type: "datetime2", scale: 7 } : { type: this.t.keyType, scale: 0 };
    return [
      { name: "id", type: "bigint", declaredType: "bigint", clr: false, maxLength: 8, precision: 19, scale: 0, nullable: false, identity: false, computed: false },
      { name: this.t.key, declaredType: key.type, clr: false, maxLength: 8, precision: 0, nullable: false, identity: false, computed: false, ...key },
    ];
  }

  catalog(sql: string): Record<string, unknown>[] | undefined {
    if (sql === SQL.partitioning) return [{ function: this.t.functionName, scheme: this.t.schemeName, rangeRight: this.t.rangeRight, column: this.t.key, functionId: 1 }];
    if (sql === SQL.columns) return this.columns();
    if (sql === SQL.indexes) return [];
    // The modelled table has no CHECK constraints of its own.
    if (sql === SQL.checks) return [];
    if (sql === SQL.filegroups) return this.t.filegroups!.map((filegroup, i) => ({ number: i + 1, filegroup }));
    for (const family of ["integer", "date", "datetime"] as const) {
      if (sql !== SQL.boundaries(family)) continue;
      // What CONVERT/CAST of the sql_variant value gives: style 23 drops a time of day, style 121 keeps it.
      return this.t.boundaries.map((b, i) => ({ id: i + 1, value: family === "date" ? b.slice(0, 10) : family === "datetime" && b.length === 10 ? `${b} 00:00:00.0000000` : b }));
    }
    return undefined;
  }
}

/** A Session over a model table: the dialect's SQL Server compiler and introspector, the model underneath. */
export function modelSession(model: SqlServerModel | ModelTable, role: "source" | "target"): Session & { model: typeof model } {
  const t = model instanceof SqlServerModel ? model.t : model;
  const helper = model instanceof SqlServerModel ? model : new SqlServerModel({ ...t, functionName: "", schemeName: "", rangeRight: true, boundaries: [] });
  const rowsWhere = (sql: string, params: readonly unknown[]) => {
    const w = / WHERE (.+?)( ORDER BY .*)?$/.exec(sql);
    const conds = w ? helper.conds(w[1], params) : [];
    return t.rows.filter((r) => conds.every((c) => {
      const cmp = comparePoints(helper.point(r), c.value);
      return c.op === ">" ? cmp > 0 : c.op === ">=" ? cmp >= 0 : c.op === "<" ? cmp < 0 : cmp <= 0;
    }));
  };
  const text = (p: Point) => (t.keyType === "datetime2" ? String(p) : helper.render(p));
  const session: Session & { model: typeof model } = {
    model,
    engine: "sqlserver",
    introspector: sqlServerIntrospector(async <R>(sql: string) => {
      if (sql === SQL.findTable) return [t.table] as R[];
      // The modelled tables have no foreign keys, triggers or sequences.
      if (sql === SQL.foreignKeys || sql === SQL.triggers || sql === SQL.sequences) return [];
      // The modelled login holds every permission.
      if (sql === SQL.privileges) return [{ SELECT: 1, INSERT: 1, UPDATE: 1, DELETE: 1, TRUNCATE: 1, ALTER: 1 }] as R[];
      const rows = helper.catalog(sql);
      if (!rows) throw new Error(`model: unexpected catalog query ${sql}`);
      return rows as R[];
    }),
    async identity() {
      return { keys: [`model|${role}`], version: "model", database: role };
    },
    async query<R>(q: CompiledQuery): Promise<R[]> {
      const catalog = helper.catalog(q.sql);
      if (catalog) return catalog as R[];
      if (q.sql.includes("sys.extended_properties")) return [];
      if (/ AS \[max\]/.test(q.sql)) {
        const max = t.rows.map((r) => helper.point(r)).sort(comparePoints).at(-1);
        return [{ max: max === undefined ? null : text(max), cutoff: max === undefined ? null : text(max) }] as R[];
      }
      if (q.sql.startsWith("SELECT DISTINCT")) {
        const days = [...new Set(rowsWhere(q.sql, q.params).map((r) => r.slice(0, r.length === 8 ? 8 : 10)))].sort();
        return days.map((value) => ({ value })) as R[];
      }
      if (q.sql.startsWith("SELECT CAST(COUNT_BIG(*)")) return [{ n: String(rowsWhere(q.sql, q.params).length) }] as R[];
      throw new Error(`model: unexpected query ${q.sql}`);
    },
    async execute(q) {
      if (!(model instanceof SqlServerModel)) throw new Error(`model: the ${role} is read-only here: ${q.sql}`);
      model.execute(q.sql, q.params);
    },
    async transaction(fn) {
      if (!(model instanceof SqlServerModel)) return fn();
      // XACT_ABORT + ROLLBACK: a failure leaves the catalog and the rows as they were.
      const before = structuredClone({ rows: model.t.rows, boundaries: model.t.boundaries, filegroups: model.t.filegroups, nextUsed: model.nextUsed });
      try {
        return await fn();
      } catch (e) {
        Object.assign(model.t, { rows: before.rows, boundaries: before.boundaries, filegroups: before.filegroups });
        model.nextUsed = before.nextUsed;
        throw e;
      }
    },
    snapshot: (fn) => fn(),
    async exportRows(q) {
      const rows = rowsWhere(q.sql, q.params).map((key, i) => [i + 1, key]);
      return { stream: Readable.from(rows), done: Promise.resolve() } satisfies RowStream;
    },
    async importRows(table, _columns, rows) {
      if (!(model instanceof SqlServerModel)) throw new Error("model: the source is never written");
      let n = 0;
      const keys: string[] = [];
      for await (const row of rows.stream) {
        keys.push(String((row as unknown[])[1]));
        n++;
      }
      model.stage(sqlServerCompiler.qualified(table), keys);
      return n;
    },
    destroy() {},
    async close() {},
  };
  return session;
}

// T-SQL for staging_partition_switch on a partition function with daily boundaries (YYYYMMDD integers, dates or
// date-times): give a day its own partition by guarded splits, build a staging table on the day's filegroup with
// the target's columns and indexes and a trusted CHECK, then SWITCH the old partition out and the staging table in,
// in one transaction.
//
// How SQL Server lays out a function with boundaries b1 < ... < bn (ALTER/CREATE PARTITION FUNCTION docs):
//   RANGE RIGHT: (-inf, b1) [b1, b2) ... [bn, +inf)      RANGE LEFT: (-inf, b1] (b1, b2] ... (bn, +inf)
// Every new day after bn falls in the open-ended last range: that is the range SPLIT RANGE cuts. A split creates
// "the new partition" on the side where the new boundary resides, on the scheme's NEXT USED filegroup, and moves
// the rows of that side: so a split is allowed only when that side holds no rows (checked in the same transaction).
import { addDays } from "../days";
import { boundDay, comparePoints, dailyPartition, dayBound, dayStart, isRangeLeft, monthStart, nextMonthStart, rangeHolds, toPoint } from "../partition-days";
import type { CheckInfo, ColumnInfo, CompiledQuery, DayPlacement, IndexInfo, PartitionCompiler, PartitionInfo, Partitioning, TableRef, TableShape } from "../types";
import { qualified, quoteIdent } from "./compiler";

export const MARKER = "uat_refresh";

/** N'...' literal; used only for names we generate and markers, values otherwise travel as parameters. */
function nstring(s: string): string {
  return `N'${s.replace(/'/g, "''")}'`;
}

/** A literal for a bound read from the catalog or computed from a validated day (ALTER PARTITION FUNCTION and
 *  CHECK constraints take no bind parameters). Dates and date-times are written in the ISO 8601 forms SQL Server
 *  reads the same under every SET DATEFORMAT / language ('YYYY-MM-DD' is ambiguous for datetime columns). */
export function literal(p: Partitioning, bound: string): string {
  const point = toPoint(p, bound);
  if (point === null) throw new Error(`unexpected ${p.columnType.nativeType} partition bound ${bound}`);
  // Dates as unseparated YYYYMMDD, the one form every date type reads the same way.
  if (typeof point === "number") return p.columnType.family === "date" ? `'${point}'` : String(point);
  return `'${isoDateTime(point)}'`;
}

/** `YYYY-MM-DD HH:MM:SS.fffffff` -> `YYYY-MM-DDTHH:MM:SS[.fff...]`, fraction trimmed to what is not zero. */
export function isoDateTime(point: string): string {
  const [date, time] = point.split(" ");
  const [hms, frac] = time.split(".");
  const f = frac.replace(/0+$/, "");
  return `${date}T${hms}${f ? `.${f}` : ""}`;
}

/** The partition that holds every value of `day` and is bounded on both sides: the day's own, a month's, or any
 *  range's. It is the unit switched in with the day (its other days reloaded from the source with it). */
export function holderOf(p: Partitioning, day: number): PartitionInfo | undefined {
  const daily = dailyPartition(p, day);
  if (daily) return daily;
  const part = p.partitions.find((x) => rangeHolds(p, x, dayStart(p, day)));
  if (!part || part.lower === null || part.upper === null) return undefined;
  // A date-time range must reach the next midnight (RANGE RIGHT: [lower, upper)); discrete keys hold whole days.
  if (p.columnType.family === "datetime" && comparePoints(toPoint(p, part.upper)!, dayStart(p, addDays(day, 1))) < 0) return undefined;
  return part;
}

function partitionOf(p: Partitioning, day: number) {
  const part = holderOf(p, day);
  if (!part?.number) throw new Error(`no partition for ${day} in ${p.functionName}`);
  return part;
}

/** The holder's range as [lower, upper) in the key's own text, for the rows to load: RANGE LEFT (lower, upper] of
 *  a discrete key is [lower + 1, upper + 1) (a YYYYMMDD integer plus one, a date plus a day). */
function loadRange(p: Partitioning, part: PartitionInfo): { lower: string; upper: string } {
  if (!isRangeLeft(p)) return { lower: part.lower!, upper: part.upper! };
  const next = (b: string) => (p.columnType.family === "integer" ? String(Number(b) + 1) : dayBound(p, addDays(Number(String(toPoint(p, b))), 1)));
  return { lower: next(part.lower!), upper: next(part.upper!) };
}

/** Calendar months when every bounded partition of a RANGE RIGHT function is one; else days (the original design). */
function monthly(p: Partitioning): boolean {
  if (isRangeLeft(p)) return false;
  const bounded = p.partitions.filter((x) => x.lower !== null && x.upper !== null);
  return bounded.length > 0 && bounded.every((x) => {
    const lo = boundDay(p, x.lower);
    return lo !== null && lo === monthStart(lo) && boundDay(p, x.upper) === nextMonthStart(lo);
  });
}

/** One SPLIT RANGE: the new boundary, the range it cuts off (must be empty) and where that range's data lives. */
export interface PlannedSplit {
  boundary: string;
  /** The new partition's range, which must hold no rows: [boundary, upper) for RANGE RIGHT, (lower, boundary] for RANGE LEFT. */
  newRange: { lower: string | null; upper: string | null };
  filegroup: string;
}

/** Boundaries a day needs to lie in a partition of the layout's width: RANGE RIGHT [d, d+1) needs d and d+1 (a
 *  monthly function: the month's first day and the next month's); RANGE LEFT (d-1, d] needs d-1 and d (discrete keys
 *  only: a date-time day is never a (lower, upper] range). */
function boundariesFor(p: Partitioning, day: number): string[] {
  if (monthly(p)) return [dayBound(p, monthStart(day)), dayBound(p, nextMonthStart(day))];
  return isRangeLeft(p) ? [dayBound(p, addDays(day, -1)), dayBound(p, day)] : [dayBound(p, day), dayBound(p, addDays(day, 1))];
}

/** The splits that give `day` its own partition, in order, each against the layout the previous ones leave. */
export function planSplits(p: Partitioning, day: number): PlannedSplit[] {
  if (holderOf(p, day)) return [];
  let layout = p;
  const splits: PlannedSplit[] = [];
  for (const boundary of boundariesFor(p, day)) {
    const point = toPoint(p, boundary)!;
    if (layout.partitions.some((x) => x.upper !== null && toPoint(p, x.upper) !== null && comparePoints(toPoint(p, x.upper)!, point) === 0)) continue;
    const holder = layout.partitions.findIndex((x) => rangeHolds(layout, x, point));
    if (holder < 0) throw new Error(`no partition of ${p.functionName} holds ${boundary}`);
    const h = layout.partitions[holder];
    const filegroup = h.filegroup ?? "PRIMARY";
    splits.push({ boundary, newRange: isRangeLeft(p) ? { lower: h.lower, upper: boundary } : { lower: boundary, upper: h.upper }, filegroup });
    layout = split(layout, holder, boundary, filegroup);
  }
  if (!holderOf(layout, day)) throw new Error(`${p.functionName} has a boundary inside day ${day}: the day's rows span more than one partition, so it cannot be switched in as one`);
  return splits;
}

/** The layout after SPLIT RANGE (boundary) of partition `index`, numbered as $PARTITION numbers them. */
export function split(p: Partitioning, index: number, boundary: string, filegroup: string): Partitioning {
  const h = p.partitions[index];
  const below = { ...h, upper: boundary, filegroup: isRangeLeft(p) ? filegroup : h.filegroup };
  const above = { ...h, lower: boundary, filegroup: isRangeLeft(p) ? h.filegroup : filegroup };
  const partitions = [...p.partitions.slice(0, index), below, above, ...p.partitions.slice(index + 1)].map((x, i) => ({ ...x, name: String(i + 1), number: i + 1 }));
  return { ...p, partitions };
}

/** Catalog text spliced into DDL (computed definitions, filters, CHECKs) comes from sys.* of the target itself, never
 *  from a user; names that must be plain identifiers or numbers are still checked. */
function plain(text: string, what: string, pattern: RegExp): string {
  if (!pattern.test(text)) throw new Error(`unexpected ${what} ${text} in the catalog`);
  return text;
}

/** A column exactly as the target has it: type (an alias type by its own name), collation, SPARSE, its default (a
 *  column of UAT's own that the load does not fill gets it, as in the table), identity seed and step, nullability,
 *  ROWGUIDCOL, or its computed definition (SWITCH requires identical columns; a ROWGUIDCOL column must be one on both
 *  sides, and a sparse column is stored otherwise). In the order of CREATE TABLE's `<column_definition>`. */
export function columnDef(c: ColumnInfo): string {
  if (c.computed) return `${quoteIdent(c.name)} AS ${c.computed.definition}${c.computed.persisted ? ` PERSISTED${c.nullable ? "" : " NOT NULL"}` : ""}`;
  const collate = c.collation ? ` COLLATE ${plain(c.collation, "collation", /^[A-Za-z0-9_]+$/)}` : "";
  const sparse = c.sparse ? " SPARSE" : "";
  const identity = c.identity ? ` IDENTITY(${plain(c.identitySeed ?? "1", "identity seed", /^-?\d+$/)}, ${plain(c.identityIncrement ?? "1", "identity increment", /^-?\d+$/)})` : "";
  const rowGuid = c.rowGuid ? " ROWGUIDCOL" : "";
  const fallback = c.default ? ` DEFAULT ${c.default}` : "";
  return `${quoteIdent(c.name)} ${c.declaredType ?? c.nativeType}${collate}${sparse}${fallback}${identity} ${c.nullable ? "NULL" : "NOT NULL"}${rowGuid}`;
}

/** The target's rowstore indexes on `t`: key columns in order with ASC / DESC, INCLUDE columns, filters. */
export function indexStatements(t: TableRef, indexes: IndexInfo[], place: (ix: IndexInfo) => string = () => ""): CompiledQuery[] {
  return indexes.map((ix) => {
    const cols = ix.columns.map((c) => `${quoteIdent(c)} ${ix.descending?.includes(c) ? "DESC" : "ASC"}`).join(", ");
    const kind = ix.clustered ? "CLUSTERED" : "NONCLUSTERED";
    const include = ix.include?.length ? ` INCLUDE (${ix.include.map(quoteIdent).join(", ")})` : "";
    const where = ix.filter ? ` WHERE ${ix.filter}` : "";
    // Constraint names are unique per schema: derive them from the (unique) staging table name.
    const on = place(ix);
    return ix.primaryKey
      ? { sql: `ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${quoteIdent(`pk_${t.name}`)} PRIMARY KEY ${kind} (${cols})${on}`, params: [] }
      : { sql: `CREATE ${ix.unique ? "UNIQUE " : ""}${kind} INDEX ${quoteIdent(ix.name)} ON ${qualified(t)} (${cols})${include}${where}${on}`, params: [] };
  });
}

/** The target's CHECK constraints on a twin, added WITH CHECK (the default for a new constraint): validated, trusted,
 *  as SWITCH requires; named after the twin (constraint names are unique per schema). */
export function checkStatements(t: TableRef, checks: CheckInfo[] = []): CompiledQuery[] {
  return checks.map((ck, i) => ({ sql: `ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${quoteIdent(`ck_${t.name}_${i + 1}`)} CHECK ${ck.definition}`, params: [] }));
}

export function mark(t: TableRef, value: string): CompiledQuery {
  return {
    sql: `EXEC sys.sp_addextendedproperty @name = ${nstring(MARKER)}, @value = ${nstring(value)}, @level0type = N'SCHEMA', @level0name = ${nstring(t.schema)}, @level1type = N'TABLE', @level1name = ${nstring(t.name)}`,
    params: [],
  };
}

const COMPRESSIONS = new Set(["NONE", "ROW", "PAGE"]);

/** ` WITH (DATA_COMPRESSION = ...)` reproducing a per-partition list (partition n at n - 1): one value when all agree,
 *  else one `ON PARTITIONS (...)` per value (CREATE TABLE / CREATE INDEX `<table_option>`); "" when nothing is
 *  compressed. SWITCH requires source and target partitions to agree (Msg 11406). */
export function compressionOption(perPartition: readonly string[] | undefined): string {
  const values = (perPartition ?? []).map((c) => (COMPRESSIONS.has(c) ? c : "NONE"));
  if (!values.some((c) => c !== "NONE")) return "";
  const distinct = [...new Set(values)];
  if (distinct.length === 1) return ` WITH (DATA_COMPRESSION = ${distinct[0]})`;
  const on = (c: string) => values.flatMap((x, i) => (x === c ? [i + 1] : [])).join(", ");
  return ` WITH (${distinct.filter((c) => c !== "NONE").map((c) => `DATA_COMPRESSION = ${c} ON PARTITIONS (${on(c)})`).join(", ")})`;
}

/** The compression partition `n` of each index has, for a non-partitioned table standing in for that partition. */
const inPartition = (n: number) => (ix: IndexInfo) => compressionOption(ix.compression?.[n - 1] ? [ix.compression[n - 1]] : undefined);

/** SWITCH waits behind readers at low priority for at most a minute, then gives up itself (never kills readers). */
export const LOW_PRIORITY = " WITH (WAIT_AT_LOW_PRIORITY (MAX_DURATION = 1 MINUTES, ABORT_AFTER_WAIT = SELF))";

function checkName(staging: TableRef) {
  return `ck_${staging.name}`;
}

export const sqlServerPartitions: PartitionCompiler = {
  // "Any rows whose partitioning column has null values are placed in the left-most partition unless NULL is
  // specified as a boundary value and RIGHT is indicated", then in the following one (Microsoft Learn, CREATE
  // PARTITION FUNCTION). A NULL boundary is read as an open lower bound.
  nullKeyPartition: (p) => (p.rangeRight !== false && p.partitions.length > 1 && p.partitions[1].lower === null ? "2" : "1"),

  placeDay(p, day): DayPlacement {
    if (isRangeLeft(p) && p.columnType.family === "datetime")
      return {
        kind: "refused",
        reason: `${p.functionName} is RANGE LEFT on the date-time column ${p.column}: a day [d 00:00, d+1 00:00) can never be one (lower, upper] partition; staging_partition_switch needs RANGE RIGHT for date-time keys`,
      };
    const part = holderOf(p, day);
    const wider = (x: PartitionInfo) => (dailyPartition(p, day) === x ? {} : { range: loadRange(p, x) });
    if (part) return { kind: "exists", partition: part, ...wider(part) };
    try {
      const splits = planSplits(p, day);
      // The partition the splits leave for the day: when it is wider than the day (a month), say its range.
      let after = p;
      for (const sp of splits) after = split(after, after.partitions.findIndex((x) => rangeHolds(after, x, toPoint(p, sp.boundary)!)), sp.boundary, sp.filegroup);
      const made = holderOf(after, day)!;
      return { kind: "create", ...(dailyPartition(after, day) === made ? {} : { range: loadRange(after, made) }) };
    } catch (e) {
      return { kind: "refused", reason: (e as Error).message };
    }
  },

  createPartition(table, p, day) {
    if (!p.functionName || !p.schemeName) throw new Error(`${qualified(table)} has no partition function/scheme`);
    const col = quoteIdent(p.column);
    return planSplits(p, day).flatMap((s) => {
      const lower = s.newRange.lower === null ? [] : [`${col} ${isRangeLeft(p) ? ">" : ">="} ${literal(p, s.newRange.lower)}`];
      const upper = s.newRange.upper === null ? [] : [`${col} ${isRangeLeft(p) ? "<=" : "<"} ${literal(p, s.newRange.upper)}`];
      return [
        {
          sql: `IF EXISTS (SELECT 1 FROM ${qualified(table)} WHERE ${[...lower, ...upper].join(" AND ")}) THROW 50001, ${nstring(`refusing to split ${p.functionName} at ${s.boundary}: rows in the range it cuts off would move`)}, 1`,
          params: [],
        },
        { sql: `ALTER PARTITION SCHEME ${quoteIdent(p.schemeName!)} NEXT USED ${quoteIdent(s.filegroup)}`, params: [] },
        { sql: `ALTER PARTITION FUNCTION ${quoteIdent(p.functionName!)}() SPLIT RANGE (${literal(p, s.boundary)})`, params: [] },
      ];
    });
  },

  createStaging(table, staging, retired, p, day, shape: TableShape) {
    const part = partitionOf(p, day);
    const fg = quoteIdent(part.filegroup ?? "PRIMARY");
    const cols = shape.columns.map(columnDef).join(", ");
    // A heap's pages switch as they are: the staging heap is compressed as the partition it replaces.
    const heap = shape.indexes.some((ix) => ix.clustered) ? "" : compressionOption(part.compression ? [part.compression] : undefined);
    return [
      { sql: `CREATE TABLE ${qualified(staging)} (${cols}) ON ${fg}${heap}`, params: [] },
      mark(staging, `staging:${table.schema}.${table.name}`),
      // The target's own CHECKs, trusted (WITH CHECK is the default for a new constraint): rows that break one fail
      // the load (bulk load checks constraints), and SWITCH finds the structure it requires.
      ...checkStatements(staging, shape.checks),
      // the empty twin the old partition is switched out into: same columns, indexes and filegroup
      { sql: `CREATE TABLE ${qualified(retired)} (${cols}) ON ${fg}${heap}`, params: [] },
      mark(retired, `retired:${table.schema}.${table.name}`),
      ...indexStatements(retired, shape.indexes, inPartition(part.number!)),
    ];
  },

  prepareStaging(_table, staging, indexes, p, day) {
    const col = quoteIdent(p.column);
    // The CHECK states the day's partition range exactly, [lower, upper) or (lower, upper]: SWITCH accepts a staging
    // table only when a trusted constraint keeps every row inside the target partition's range. Added WITH CHECK (the
    // default for a new constraint), so it is trusted.
    const part = partitionOf(p, day);
    const [gt, lt] = isRangeLeft(p) ? [">", "<="] : [">=", "<"];
    return [
      ...indexStatements(staging, indexes, inPartition(part.number!)),
      {
        sql: `ALTER TABLE ${qualified(staging)} ADD CONSTRAINT ${quoteIdent(checkName(staging))} CHECK (${col} ${gt} ${literal(p, part.lower!)} AND ${col} ${lt} ${literal(p, part.upper!)} AND ${col} IS NOT NULL)`,
        params: [],
      },
    ];
  },

  switchIn(table, staging, retired, p, day) {
    const n = partitionOf(p, day).number!;
    const wait = LOW_PRIORITY;
    return [
      { sql: `ALTER TABLE ${qualified(table)} SWITCH PARTITION ${n} TO ${qualified(retired)}${wait}`, params: [] },
      { sql: `ALTER TABLE ${qualified(staging)} SWITCH TO ${qualified(table)} PARTITION ${n}${wait}`, params: [] },
    ];
  },

  tidyAfterSwitch() {
    // SWITCH moves the rows into the target's own partition: its indexes keep the target's names.
    return null;
  },

  dropTable(t) {
    return { sql: `DROP TABLE IF EXISTS ${qualified(t)}`, params: [] };
  },

  findLeftovers(table) {
    return {
      sql: `SELECT s.name AS [schema], t.name AS [name] FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id
            JOIN sys.extended_properties AS ep ON ep.major_id = t.object_id AND ep.minor_id = 0 AND ep.class = 1 AND ep.name = @p1
            WHERE CAST(ep.value AS nvarchar(400)) IN (@p2, @p3)`,
      params: [MARKER, `staging:${table.schema}.${table.name}`, `retired:${table.schema}.${table.name}`],
    };
  },
};

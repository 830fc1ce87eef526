// T-SQL for staging_partition_switch on a RANGE RIGHT partition function with daily boundaries (YYYYMMDD integers
// or dates): split only empty ranges, build a staging table on the day's filegroup with the target's columns and
// indexes and a trusted CHECK, then SWITCH the old partition out and the staging table in, in one transaction.
import { addDays } from "../../engine/days";
import { dayBound, partitionDay } from "../partition-days";
import type { ColumnInfo, CompiledQuery, IndexInfo, PartitionCompiler, Partitioning, TableRef, TableShape } from "../types";
import { qualified, quoteIdent } from "./compiler";

export const MARKER = "uat_refresh";

/** N'...' literal; used only for names we generate and markers, values otherwise travel as parameters. */
function nstring(s: string): string {
  return `N'${s.replace(/'/g, "''")}'`;
}

/** A boundary literal for a validated day number (ALTER PARTITION FUNCTION takes no bind parameters). */
function boundLiteral(p: Partitioning, day: number): string {
  const v = dayBound(p, day);
  return p.columnType.family === "integer" ? v : `'${v}'`;
}

function partitionOf(p: Partitioning, day: number) {
  const part = p.partitions.find((x) => partitionDay(x) === day);
  if (!part?.number) throw new Error(`no daily partition for ${day} in ${p.functionName}`);
  return part;
}

function columnDef(c: ColumnInfo): string {
  return `${quoteIdent(c.name)} ${c.nativeType}${c.identity ? " IDENTITY(1,1)" : ""} ${c.nullable ? "NULL" : "NOT NULL"}`;
}

function indexStatements(t: TableRef, indexes: IndexInfo[]): CompiledQuery[] {
  return indexes.map((ix) => {
    const cols = ix.columns.map(quoteIdent).join(", ");
    const kind = ix.clustered ? "CLUSTERED" : "NONCLUSTERED";
    // Constraint names are unique per schema: derive them from the (unique) staging table name.
    return ix.primaryKey
      ? { sql: `ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${quoteIdent(`pk_${t.name}`)} PRIMARY KEY ${kind} (${cols})`, params: [] }
      : { sql: `CREATE ${ix.unique ? "UNIQUE " : ""}${kind} INDEX ${quoteIdent(ix.name)} ON ${qualified(t)} (${cols})`, params: [] };
  });
}

function mark(t: TableRef, value: string): CompiledQuery {
  return {
    sql: `EXEC sys.sp_addextendedproperty @name = ${nstring(MARKER)}, @value = ${nstring(value)}, @level0type = N'SCHEMA', @level0name = ${nstring(t.schema)}, @level1type = N'TABLE', @level1name = ${nstring(t.name)}`,
    params: [],
  };
}

function checkName(staging: TableRef) {
  return `ck_${staging.name}`;
}

export const sqlServerPartitions: PartitionCompiler = {
  createPartition(table, p, day) {
    if (!p.functionName || !p.schemeName) throw new Error(`${qualified(table)} has no partition function/scheme`);
    const boundaries = new Set(p.partitions.map((x) => x.lower).filter((b): b is string => b !== null));
    const stmts: CompiledQuery[] = [];
    for (const d of [day, addDays(day, 1)]) {
      const value = dayBound(p, d);
      if (boundaries.has(value)) continue;
      // The partition being split: the one whose range holds d. Splitting it must not move rows.
      const holder = p.partitions.find((x) => (x.lower === null || x.lower <= value) && (x.upper === null || value < x.upper));
      const col = quoteIdent(p.column);
      const upper = holder?.upper ? ` AND ${col} < ${p.columnType.family === "integer" ? holder.upper : `'${holder.upper}'`}` : "";
      stmts.push({
        sql: `IF EXISTS (SELECT 1 FROM ${qualified(table)} WHERE ${col} >= ${boundLiteral(p, d)}${upper}) THROW 50001, ${nstring(`refusing to split ${p.functionName} at ${value}: the range holds rows that would move`)}, 1`,
        params: [],
      });
      stmts.push({ sql: `ALTER PARTITION SCHEME ${quoteIdent(p.schemeName)} NEXT USED ${quoteIdent(holder?.filegroup ?? "PRIMARY")}`, params: [] });
      stmts.push({ sql: `ALTER PARTITION FUNCTION ${quoteIdent(p.functionName)}() SPLIT RANGE (${boundLiteral(p, d)})`, params: [] });
    }
    return stmts;
  },

  createStaging(table, staging, retired, p, day, shape: TableShape) {
    const fg = quoteIdent(partitionOf(p, day).filegroup ?? "PRIMARY");
    const cols = shape.columns.map(columnDef).join(", ");
    return [
      { sql: `CREATE TABLE ${qualified(staging)} (${cols}) ON ${fg}`, params: [] },
      mark(staging, `staging:${table.schema}.${table.name}`),
      // the empty twin the old partition is switched out into: same columns, indexes and filegroup
      { sql: `CREATE TABLE ${qualified(retired)} (${cols}) ON ${fg}`, params: [] },
      mark(retired, `retired:${table.schema}.${table.name}`),
      ...indexStatements(retired, shape.indexes),
    ];
  },

  prepareStaging(_table, staging, indexes, p, day) {
    const col = quoteIdent(p.column);
    return [
      ...indexStatements(staging, indexes),
      // Added WITH CHECK (the default for a new constraint), so it is trusted and the switch needs no scan.
      {
        sql: `ALTER TABLE ${qualified(staging)} ADD CONSTRAINT ${quoteIdent(checkName(staging))} CHECK (${col} >= ${boundLiteral(p, day)} AND ${col} < ${boundLiteral(p, addDays(day, 1))} AND ${col} IS NOT NULL)`,
        params: [],
      },
    ];
  },

  switchIn(table, staging, retired, p, day) {
    const n = partitionOf(p, day).number!;
    const wait = " WITH (WAIT_AT_LOW_PRIORITY (MAX_DURATION = 1 MINUTES, ABORT_AFTER_WAIT = SELF))";
    return [
      { sql: `ALTER TABLE ${qualified(table)} SWITCH PARTITION ${n} TO ${qualified(retired)}${wait}`, params: [] },
      { sql: `ALTER TABLE ${qualified(staging)} SWITCH TO ${qualified(table)} PARTITION ${n}${wait}`, params: [] },
    ];
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

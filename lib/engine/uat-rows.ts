// What belongs to UAT in a table: the rows a keep rule names, and the ids UAT's own new rows take (a range
// production does not reach: uat_ids_from, or the key type's default). Resolved against the target's catalog once per
// refresh. A refresh keeps the first, leaves every identity and sequence inside the second, and neither ever counts
// as production's: watermarks, re-synced windows and deletions look at production's rows only.
import type { Settings, TableConfigInput } from "../config/schema";
import { checkExpression } from "../dialects/expression";
export { both } from "../dialects/filters";
import type { ColumnInfo, Engine, RowFilter, Session, TableRef } from "../dialects/types";
import { RefreshError } from "./errors";

/** An identity column, or a column whose default draws from a sequence, that the refresh loads. */
export interface Generator {
  column: ColumnInfo;
  /** The sequence it draws from; absent: the column's own identity. */
  sequence?: TableRef;
  /** The first id UAT's own rows take (decimal text); null: no range kept for UAT. */
  uatFrom: string | null;
}

export interface UatRows {
  generators: Generator[];
  /** The keep_rows predicate, checked against the target's columns. */
  keep?: string;
  /** keep_columns, as the target names them. */
  keepColumns: string[];
}

/** Where UAT's own ids start, by the key's type: far above anything production reaches, below the type's end. */
const DEFAULT_UAT_FROM: Record<string, string> = {
  int: "2000000000", integer: "2000000000", int4: "2000000000",
  bigint: "9000000000000000000", int8: "9000000000000000000",
  smallint: "30000", int2: "30000",
};
const TYPE_MAX: Record<string, bigint> = {
  int: 2147483647n, integer: 2147483647n, int4: 2147483647n, bigint: 9223372036854775807n, int8: 9223372036854775807n, smallint: 32767n, int2: 32767n, tinyint: 255n,
};

function uatFrom(column: ColumnInfo, config: TableConfigInput, settings: Settings): string | null {
  if (!settings.reserve_uat_ids) return null;
  const type = column.nativeType.replace(/\(.*$/, "").toLowerCase();
  const from = config.uat_ids_from !== undefined ? String(config.uat_ids_from) : DEFAULT_UAT_FROM[type];
  if (from === undefined) return null;
  const max = TYPE_MAX[type];
  if (max !== undefined && BigInt(from) > max)
    throw new RefreshError(`uat_ids_from ${from} is beyond what ${column.name} (${column.nativeType}) can hold (${max})`, { field: "uat_ids_from" });
  return from;
}

export async function resolveUatRows(
  config: TableConfigInput,
  settings: Settings,
  engine: Engine,
  target: Session,
  targetTable: TableRef,
  columns: { target: ColumnInfo }[],
  uatOnly: ColumnInfo[] = [],
): Promise<UatRows> {
  const loaded = new Map(columns.map((c) => [c.target.name.toLowerCase(), c.target]));
  // A rule may name UAT's own columns too (a marker column testers set, which production does not have).
  const ofUat = new Map([...columns.map((c) => c.target), ...uatOnly].map((c) => [c.name.toLowerCase(), c]));
  const generators: Generator[] = [];
  for (const c of columns) if (c.target.identity) generators.push({ column: c.target, uatFrom: uatFrom(c.target, config, settings) });
  for (const use of await target.introspector.sequences(targetTable)) {
    const column = loaded.get(use.column.toLowerCase());
    if (column) generators.push({ column, sequence: use.sequence, uatFrom: uatFrom(column, config, settings) });
  }
  const names = [...ofUat.values()].map((c) => c.name);
  let keep: string | undefined;
  if (config.keep_rows !== undefined) {
    try {
      keep = checkExpression(config.keep_rows, engine, names, "keep_rows");
    } catch (e) {
      throw new RefreshError((e as Error).message, { field: "keep_rows" });
    }
  }
  const keepColumns = (config.keep_columns ?? []).map((name) => {
    const c = ofUat.get(name.toLowerCase());
    if (!c) throw new RefreshError(`keep_columns: ${name} is not a column of ${targetTable.schema}.${targetTable.name} (columns: ${names.join(", ")})`, { field: "keep_columns" });
    return c.name;
  });
  return { generators, keep, keepColumns };
}

/** Target rows that are production's: below UAT's id range in every generator column, and not kept by the rule. */
export function productionRows(u: UatRows | undefined): RowFilter | undefined {
  if (!u) return undefined;
  const filters: RowFilter[] = u.generators.filter((g) => g.uatFrom !== null).map((g) => ({ kind: "below", column: g.column, value: g.uatFrom! }));
  if (u.keep) filters.push({ kind: "notMatching", sql: u.keep });
  return filters.length ? { kind: "all", filters } : undefined;
}

/** UAT's own rows by id: at or above the start of UAT's range in any generator column (absent: no range kept). */
export function inUatRange(u: UatRows | undefined): RowFilter | undefined {
  const ranged = (u?.generators ?? []).filter((g) => g.uatFrom !== null);
  if (!ranged.length) return undefined;
  return { kind: "any", filters: ranged.map((g) => ({ kind: "atLeast", column: g.column, value: g.uatFrom! })) };
}

/** Target rows a keep rule does not name (absent: every row, there is no rule). */
export function notKept(u: UatRows | undefined): RowFilter | undefined {
  return u?.keep ? { kind: "notMatching", sql: u.keep } : undefined;
}

/** Target rows a keep rule names (absent: none). */
export function keptRows(u: UatRows | undefined): RowFilter | undefined {
  return u?.keep ? { kind: "matching", sql: u.keep } : undefined;
}


/** The floor an identity or sequence is moved to (UAT's range start), by column. */
export function uatFloor(u: UatRows | undefined, column: string, sequence?: TableRef): string | null {
  const g = u?.generators.find((x) => x.column.name.toLowerCase() === column.toLowerCase() && (!sequence || (x.sequence && x.sequence.name === sequence.name && x.sequence.schema === sequence.schema)));
  return g?.uatFrom ?? null;
}

// Schema drift between production and UAT, found in the plan before anything is written: a target column that
// cannot hold what production's column holds (another kind of value, shorter, less precise, fewer digits) refuses the
// table naming both definitions; what only differs (a column UAT lacks, NULLs UAT does not allow, another collation
// or key) is said in the plan and the dry run.
import type { ColumnInfo, IndexInfo } from "../dialects/types";
import { args, baseName } from "./native-type";

export interface Drift {
  /** Said in the plan; the refresh goes on. */
  notes: string[];
  /** Each refuses the table. */
  refusals: string[];
}

const INTEGER_BYTES: Record<string, number> = { tinyint: 1, smallint: 2, int2: 2, int: 4, integer: 4, int4: 4, bigint: 8, int8: 8 };
const FLOAT_BYTES: Record<string, number> = { real: 4, float4: 4, float: 8, "double precision": 8, float8: 8 };


/** Characters a text column holds (Infinity: no limit). */
function textLength(c: ColumnInfo): number {
  const a = args(c);
  if (!a) return /^(character|char|nchar|bpchar)$/.test(baseName(c)) ? 1 : Infinity;
  return a[0] === "max" ? Infinity : Number(a[0]);
}

/** Integer digits and fraction digits a decimal column holds (Infinity: unconstrained numeric). */
function decimalShape(c: ColumnInfo): { whole: number; scale: number } {
  const name = baseName(c);
  if (name === "money") return { whole: 15, scale: 4 };
  if (name === "smallmoney") return { whole: 6, scale: 4 };
  const a = args(c);
  if (!a) return name === "numeric" ? { whole: Infinity, scale: Infinity } : { whole: 18, scale: 0 };
  const [p, s = "0"] = a.map(Number);
  return { whole: p - Number(s), scale: Number(s) };
}

/** Fractional-second digits a date-time column keeps. */
function fraction(c: ColumnInfo): number {
  const name = baseName(c);
  if (name === "smalldatetime") return 0;
  if (name === "datetime") return 3;
  const a = args(c);
  if (a) return Number(a[0]);
  return /^(timestamp|time)/.test(name) ? 6 : 7;
}

/** Why `target` cannot hold every value of `source`, or null. */
export function narrower(source: ColumnInfo, target: ColumnInfo): string | null {
  const [s, t] = [source.family, target.family];
  if (s !== t) {
    const widening = (s === "integer" && (t === "decimal" || t === "float")) || (s === "date" && t === "datetime");
    return widening ? null : "holds another kind of value";
  }
  switch (s) {
    case "integer": {
      const [a, b] = [INTEGER_BYTES[baseName(source)] ?? 8, INTEGER_BYTES[baseName(target)] ?? 8];
      return b < a ? "holds smaller integers" : null;
    }
    case "float":
      return (FLOAT_BYTES[baseName(target)] ?? 8) < (FLOAT_BYTES[baseName(source)] ?? 8) ? "is less precise" : null;
    case "decimal": {
      const [a, b] = [decimalShape(source), decimalShape(target)];
      if (b.whole < a.whole) return "holds fewer integer digits";
      return b.scale < a.scale ? "holds fewer decimal places (values would be rounded)" : null;
    }
    case "text":
      return textLength(target) < textLength(source) ? "is shorter" : null;
    case "datetime":
      // SQL Server converts a datetimeoffset to a type without one by dropping the offset and keeping the clock time:
      // each value becomes another point in time (PostgreSQL's timestamptz stores no offset, so it has none to lose).
      if (baseName(source) === "datetimeoffset" && baseName(target) !== "datetimeoffset") return "holds another kind of value (no time zone offset)";
      return fraction(target) < fraction(source) ? "keeps fewer fractional-second digits" : null;
    default:
      return null;
  }
}

export function columnDrift(
  pairs: { source: ColumnInfo; target: ColumnInfo }[],
  sourceColumns: ColumnInfo[],
  keys: { source: IndexInfo[]; target: IndexInfo[] } = { source: [], target: [] },
  uatOnly: ColumnInfo[] = [],
): Drift {
  const notes: string[] = [];
  const refusals: string[] = [];
  // UAT ahead of production (a release's new columns there first): a copied row gets the column's default, NULL, or
  // its identity; a column that takes none of them cannot hold a copied row.
  const unfillable = uatOnly.filter((c) => !c.nullable && c.default === undefined && !c.identity);
  for (const c of unfillable)
    refusals.push(`${c.name}: UAT has this NOT NULL column without a default and production has no such column, so a copied row cannot fill it; give it a default in UAT (or allow NULL), or add it to production`);
  const filled = uatOnly.filter((c) => !unfillable.includes(c));
  if (filled.length)
    notes.push(
      `UAT has ${filled.map((c) => `${c.name} (${c.identity ? "identity" : c.default !== undefined ? `default ${c.default}` : "NULL"})`).join(", ")}, which production lacks: not copied; a copied row gets ${filled.length > 1 ? "their defaults" : "its default"}, a merged row keeps UAT's value`,
    );
  const inTarget = new Set(pairs.map((p) => p.source.name.toLowerCase()));
  const onlyInProduction = sourceColumns.filter((c) => !inTarget.has(c.name.toLowerCase()) && !c.generated);
  if (onlyInProduction.length)
    notes.push(`production has ${onlyInProduction.map((c) => `${c.name} (${c.nativeType})`).join(", ")}, which UAT lacks: not copied until UAT has ${onlyInProduction.length > 1 ? "them" : "it"}`);
  for (const { source, target } of pairs) {
    const why = narrower(source, target);
    if (why) refusals.push(`${target.name}: UAT's ${target.nativeType} ${why} than production's ${source.nativeType}; alter UAT's column (or production's) before the refresh`);
    else if (source.nullable && !target.nullable) notes.push(`${target.name} allows NULL in production but not in UAT (a NULL there would fail the load)`);
    if (source.collation && target.collation && source.collation !== target.collation) notes.push(`${target.name} is collated ${target.collation} in UAT, ${source.collation} in production`);
  }
  const primary = (ix: IndexInfo[]) => ix.find((i) => i.primaryKey)?.columns.map((c) => c.toLowerCase()).join(", ") ?? "";
  if (keys.source.length + keys.target.length && primary(keys.source) !== primary(keys.target))
    notes.push(`the primary key is (${primary(keys.target) || "none"}) in UAT, (${primary(keys.source) || "none"}) in production`);
  return { notes, refusals };
}

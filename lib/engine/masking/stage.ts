// Masking as a stage of the row stream: a table's rules are checked against the catalog and compiled once per
// refresh, then every row on its way from source to target has its masked columns rewritten (the dialect hands the
// values over in its own row format). `sql` rules are evaluated by the source, in the SELECT itself.
import { unresolvedPersonalData, type MaskRule } from "../../config/masking";
import type { TableConfigInput } from "../../config/schema";
import type { ColumnInfo, Dialect, Engine, RowStream, TableRef } from "../../dialects/types";
import { checkExpression } from "../../dialects/expression";
import { displayName } from "../table-name";
import { RefreshError } from "../errors";
import { compileRule, MaskingKeys, UNIQUE_SAFE } from "./rules";

export const MASKING_KEY_ENV = "UAT_REFRESH_MASKING_KEY";

/** What of a table's context masking reads (the context holds the compiled stage, so it is not imported here). */
interface MaskedTable {
  config: TableConfigInput;
  dialect: Dialect;
  targetTable: TableRef;
  columns: { source: ColumnInfo; target: ColumnInfo }[];
  masking?: CompiledMasking;
}

export interface CompiledMasking {
  /** "email (fake_email)", for the run detail. */
  describe: string[];
  /** Lower-cased names of the masked columns. */
  masked: Set<string>;
  /** Positions (in the context's column order) rewritten in the stream, and how. */
  positions: number[];
  map(values: unknown[]): unknown[];
  /** Source-side expressions of `sql` rules, by column name. */
  expressions: Record<string, string>;
  /** What it was compiled from: another thread compiles the same stage from it. */
  from: { rules: MaskRule[]; unique: string[] };
}

const TEXT_RULES = new Set(["fixed", "hash", "partial"]);

function fits(rule: MaskRule, c: ColumnInfo): string | null {
  const dated = c.family === "date" || c.family === "datetime";
  if (rule.rule === "null") return c.nullable ? null : "the column is NOT NULL";
  if (rule.rule === "date_shift" || rule.rule === "fake_date_of_birth") return dated ? null : "it needs a date or date-time column";
  if (TEXT_RULES.has(rule.rule) || rule.rule.startsWith("fake_")) return c.family === "text" ? null : "it needs a text column";
  return null;
}

/** Checks a table's rules against the resolved columns and indexes, and compiles them; undefined without rules. */
export function compileMasking(
  rules: MaskRule[] | undefined,
  table: Pick<MaskedTable, "targetTable" | "columns"> & { engine: Engine },
  uniqueColumns: Set<string>,
  env: Record<string, string | undefined> = process.env,
): CompiledMasking | undefined {
  if (!rules?.length) return undefined;
  const key = env[MASKING_KEY_ENV];
  if (!key || key.length < 16)
    throw new RefreshError(`${displayName(table.targetTable)} has masking rules: set ${MASKING_KEY_ENV} to a secret of at least 16 characters (the key every masked value is derived from)`, { field: "masking" });
  const keys = new MaskingKeys(Buffer.from(key, "utf8"));
  const positions: number[] = [];
  const fns: ((v: unknown) => unknown)[] = [];
  const expressions: Record<string, string> = {};
  for (const rule of rules) {
    const at = table.columns.findIndex((c) => c.target.name.toLowerCase() === rule.column.toLowerCase());
    if (at < 0) throw new RefreshError(`masking: ${rule.column} is not a column of ${displayName(table.targetTable)} (columns: ${table.columns.map((c) => c.target.name).join(", ")})`, { field: "masking" });
    const col = table.columns[at].target;
    const why = fits(rule, col);
    if (why) throw new RefreshError(`masking: rule ${rule.rule} cannot mask ${col.name} (${col.nativeType}): ${why}`, { field: "masking" });
    const unique = uniqueColumns.has(col.name.toLowerCase());
    if (unique && !UNIQUE_SAFE.has(rule.rule))
      throw new RefreshError(`masking: ${col.name} is under a unique index and rule ${rule.rule} can give two rows the same value: use hash or fake_email (their outputs stay distinct)`, { field: "masking" });
    if (unique && rule.rule === "hash" && (rule.length ?? 64) < 16) throw new RefreshError(`masking: ${col.name} is under a unique index: a hash shorter than 16 hex characters may repeat`, { field: "masking" });
    if (rule.rule === "sql") {
      // Evaluated by the source inside its SELECT: one value expression over the source's columns, nothing else.
      const sourceColumns = table.columns.map((c) => c.source.name);
      try {
        expressions[table.columns[at].source.name] = checkExpression(rule.expression!, table.engine, sourceColumns, `masking: the sql rule of ${col.name}`);
      } catch (e) {
        throw new RefreshError((e as Error).message, { field: "masking" });
      }
      continue;
    }
    positions.push(at);
    const fn = compileRule(rule, keys, !unique);
    fns.push(rule.rule === "fake_date_of_birth" ? (v) => (v instanceof Date ? new Date(`${fn(v)}T00:00:00Z`) : fn(v)) : fn);
  }
  return {
    describe: rules.map((r) => `${r.column} (${r.rule})`),
    masked: new Set(rules.map((r) => r.column.toLowerCase())),
    positions,
    expressions,
    map: (values) => values.map((v, i) => fns[i](v)),
    from: { rules, unique: [...uniqueColumns] },
  };
}

/** The rows with their masked columns rewritten (unchanged when nothing is masked in the stream). */
export function maskRows(ctx: Pick<MaskedTable, "masking" | "dialect">, rows: RowStream): RowStream {
  const m = ctx.masking;
  return m?.positions.length ? ctx.dialect.mapRows(rows, m.positions, m.map) : rows;
}

/** A watermark or partition key cannot be masked: the refresh compares and routes rows by its real values. */
export function refuseMaskedKey(ctx: Pick<MaskedTable, "masking" | "targetTable">, column: string, what: string) {
  if (ctx.masking?.masked.has(column.toLowerCase()))
    throw new RefreshError(`masking: ${column} is the ${what} of ${displayName(ctx.targetTable)} and cannot be masked`, { field: "masking" });
}

/** The personal-data policy: a column flagged as personal data reaches the target masked, or with an admin's
 *  recorded "no masking needed". Otherwise the table is refused, naming the columns. */
export function refuseUnmaskedPersonalData(ctx: Pick<MaskedTable, "config" | "columns" | "targetTable">) {
  const copied = new Set(ctx.columns.map((c) => c.target.name.toLowerCase()));
  const open = unresolvedPersonalData(ctx.config).filter((c) => copied.has(c.toLowerCase()));
  if (open.length)
    throw new RefreshError(
      `${displayName(ctx.targetTable)}: ${open.join(", ")} ${open.length > 1 ? "are" : "is"} flagged as personal data and not masked: add a masking rule for each, or have an admin record "no masking needed" with a reason (Admin > Masking)`,
      { field: "personal_data" },
    );
}

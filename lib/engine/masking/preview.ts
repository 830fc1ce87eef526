// The masking preview: a few source rows before and after a table's rules, computed on demand through exactly the
// path a refresh takes (the source's own row format, `sql` rules in the SELECT, the dialect's masking stage), and
// returned to the caller only: nothing is stored or logged here.
import type { RefreshConfig, TableConfigInput } from "../../config/schema";
import { dialectFor } from "../../dialects";
import { resolveTable } from "../context";
import { ProgressTracker } from "../progress";
import { openPair } from "../runner";
import { maskRows } from "./stage";

export interface MaskingPreview {
  /** The column rows are told apart by (the primary key's first column, else the first column). */
  keyColumn: string;
  /** The masked columns, with their rules ("email (fake_email)"). */
  columns: { name: string; rule: string }[];
  rows: { key: string | null; values: { before: string | null; after: string | null }[] }[];
}

/** Shows a value as text: dates as ISO, binary as hex, NULL as null. */
function shown(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `0x${v.toString("hex")}`;
  return String(v);
}

export async function previewMasking(config: RefreshConfig, table: TableConfigInput, rowCount = 5): Promise<MaskingPreview> {
  const dialect = dialectFor(config.databases.target.engine);
  const pair = await openPair(config, { kind: "check" });
  try {
    const ctx = await resolveTable(table, config.settings, dialect, pair, new ProgressTracker(() => {}, "preview", table.name));
    // Rows are told apart and ordered by a key: the primary key's, else a unique index's first column (the two reads
    // must line up). Not by a column a `sql` rule replaces: ORDER BY would then sort the masked read by the expression.
    const indexes = ctx.targetIndexes;
    const replaced = new Set(Object.keys(ctx.masking?.expressions ?? {}).map((c) => c.toLowerCase()));
    const keys = [...indexes.filter((ix) => ix.primaryKey), ...indexes.filter((ix) => ix.unique && !ix.primaryKey && !ix.filter)].map((ix) => ix.columns[0]);
    const candidates = [...keys, ...ctx.columns.map((c) => c.target.name)];
    const key = candidates.find((c) => !replaced.has(c.toLowerCase())) ?? ctx.columns[0].target.name;
    const keyAt = ctx.columns.findIndex((c) => c.target.name.toLowerCase() === key.toLowerCase());
    const select = (expressions?: Record<string, string>) =>
      dialect.compiler.selectRows(ctx.sourceTable, ctx.columns.map((c) => c.source), undefined, ctx.columns[keyAt].source.name, rowCount, expressions);
    const before = await dialect.rowValues(await pair.source.exportRows(select()));
    const after = await dialect.rowValues(maskRows(ctx, await pair.source.exportRows(select(ctx.masking?.expressions))));
    const masked = (table.masking ?? []).map((r) => ({ rule: r, at: ctx.columns.findIndex((c) => c.target.name.toLowerCase() === r.column.toLowerCase()) }));
    return {
      keyColumn: ctx.columns[keyAt].target.name,
      columns: masked.map(({ rule, at }) => ({ name: ctx.columns[at].target.name, rule: rule.rule })),
      rows: before.map((row, i) => ({
        key: shown(row[keyAt]),
        values: masked.map(({ at }) => ({ before: shown(row[at]), after: shown(after[i]?.[at]) })),
      })),
    };
  } finally {
    await pair.close();
  }
}

// The key a load by key (an upsert, a merge) matches rows on.
import type { ColumnInfo, IndexInfo } from "../dialects/types";
import { type TableContext } from "./context";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";

/** The primary key, else a unique index of NOT NULL columns; a filtered unique index is unique only among the rows
 *  it covers, so never a key to match every row on. */
export function mergeKey(ctx: TableContext, why = "is loaded by key (merged, or re-read in a window)"): string[] {
  const key = keyIndex(ctx);
  if (!key) throw new RefreshError(`${displayName(ctx.targetTable)} ${why} but has no primary key or unique NOT NULL key to match rows on${unenforcedKeys(ctx)}`);
  return key.columns;
}

/** The keys UAT's table would have if its disabled (or invalid) unique indexes were enforced, said where it has none. */
export function unenforcedKeys(ctx: TableContext): string {
  const columns = ctx.columns.map((c) => c.target);
  const names = ctx.targetIndexes.filter((i) => i.disabled && isMergeKey({ ...i, disabled: false }, columns)).map((i) => i.name);
  return names.length ? ` (${names.join(", ")} ${names.length > 1 ? "are" : "is"} ${ctx.dialect.engine === "postgres" ? "not valid" : "disabled"}: a key enforced by nothing may already hold duplicates)` : "";
}

/** The key a load by key would match on, or null where the table has none (then date windows delete and copy). */
export function keyOf(ctx: TableContext): string[] | null {
  return keyIndex(ctx)?.columns ?? null;
}

function keyIndex(ctx: TableContext) {
  const columns = ctx.columns.map((c) => c.target);
  return ctx.targetIndexes.find((i) => i.primaryKey && isMergeKey(i, columns)) ?? ctx.targetIndexes.find((i) => isMergeKey(i, columns));
}

/** A key rows can be matched on: the primary key, or an unfiltered unique index over NOT NULL columns, enforced (a
 *  disabled or invalid one may already hold duplicates). */
export function isMergeKey(index: IndexInfo, columns: ColumnInfo[]): boolean {
  const notNull = new Set(columns.filter((c) => !c.nullable).map((c) => c.name));
  return !index.disabled && (index.primaryKey || (index.unique && !index.filter && index.columns.every((c) => notNull.has(c))));
}

/** Whether `column` alone is unique in the target (an enforced primary key or unfiltered unique index on it alone). */
export function isUniqueColumn(ctx: TableContext, column: string): boolean {
  return ctx.targetIndexes.some((i) => (i.primaryKey || i.unique) && !i.filter && !i.disabled && i.columns.length === 1 && i.columns[0].toLowerCase() === column.toLowerCase());
}

// New columns reviewed before they flow: a column production gains after a table's last personal-data review (a
// new `ssn`, say) would otherwise be copied to UAT as it is, since the policy refuses only columns already flagged.
// The table's first plan records the columns it copies as reviewed; later, a copied column that is neither among them
// nor masked nor decided is flagged for review on the masking page and refuses the table until an admin decides it.
import { audit } from "../audit";
import { rowToTable, tableToRow } from "../config/store";
import type { Metadata } from "../metadata/client";
import { type TableContext } from "./context";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";

const lower = (s: string) => s.toLowerCase();

/** Copied source columns not covered by the last review, a masking rule or a personal-data entry. */
export function unreviewedColumns(ctx: Pick<TableContext, "config" | "columns">): string[] {
  const covered = new Set([...(ctx.config.reviewed_columns ?? []), ...(ctx.config.masking ?? []).map((m) => m.column), ...(ctx.config.personal_data ?? []).map((p) => p.column)].map(lower));
  return ctx.columns.map((c) => c.source.name).filter((c) => !covered.has(lower(c)));
}

/** Records the first review, or flags and refuses the columns production gained since. */
export async function reviewNewColumns(db: Metadata, environment: string, ctx: TableContext): Promise<void> {
  if (!ctx.settings.review_new_columns) return;
  const name = ctx.config.name;
  if (!ctx.config.reviewed_columns?.length) {
    // updateMany: a table run from a --config file has no stored row, and nothing to record.
    await db.tableConfig.updateMany({ where: { environment, name }, data: { reviewedColumns: ctx.columns.map((c) => c.source.name) } });
    return;
  }
  const fresh = unreviewedColumns(ctx);
  if (!fresh.length) return;
  const row = await db.tableConfig.findUnique({ where: { environment_name: { environment, name } } });
  if (row) {
    const table = rowToTable(row);
    const listed = new Set((table.personal_data ?? []).map((p) => lower(p.column)));
    const added = fresh.filter((c) => !listed.has(lower(c))).map((column) => ({ column, found: "new in production since the table's last personal-data review" }));
    table.personal_data = [...(table.personal_data ?? []), ...added];
    await db.tableConfig.update({ where: { id: row.id }, data: tableToRow(table, row.position) });
    await audit({ actor: "refresh", action: "masking.flag", environment, target: name, details: { by: "new column", columns: fresh } }, db);
  }
  throw new RefreshError(
    `${displayName(ctx.targetTable)}: ${fresh.join(", ")} appeared in production since the table's last personal-data review and would be copied as ${fresh.length > 1 ? "they are" : "it is"}: decide on Admin > Masking (a masking rule, or "no masking needed" with a reason), where ${fresh.length > 1 ? "they are" : "it is"} now listed`,
    { field: "personal_data" },
  );
}

// The watermark a table's last successful refresh left, read from the metadata DB: a date window starts from it, so
// a production row UAT changed since (its date moved beyond it) can neither move the window nor be taken for
// production's. Only a watermark of the same incremental column counts.
import type { TableConfigInput } from "../config/schema";
import type { Metadata } from "../metadata/client";

export async function lastWatermark(db: Metadata, environment: string, table: TableConfigInput): Promise<string | undefined> {
  const dated = table.incremental_type === "date" || table.incremental_type === "datetime";
  if (!dated || !table.incremental_column) return undefined;
  const last = await db.tableResult.findFirst({
    where: {
      tableName: table.name,
      status: "succeeded",
      watermarkAfter: { not: null },
      watermarkColumn: { equals: table.incremental_column, mode: "insensitive" },
      run: { environment, dryRun: false },
    },
    orderBy: { startedAt: "desc" },
    select: { watermarkAfter: true },
  });
  return last?.watermarkAfter ?? undefined;
}

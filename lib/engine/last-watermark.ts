// The watermark a table's last successful refresh left, read from the metadata DB: a date window (or the days a
// partition switch re-syncs) starts from it, so a row UAT changed or added since (its date beyond it) can neither move
// the window nor be taken for production's. The strategy uses it only where it is of the column it watermarks.
import type { TableConfigInput } from "../config/schema";
import type { Metadata } from "../metadata/client";

export interface LastWatermark {
  column: string;
  value: string;
}

export async function lastWatermark(db: Metadata, environment: string, table: TableConfigInput): Promise<LastWatermark | undefined> {
  const dated = table.incremental_type === "date" || table.incremental_type === "datetime" || table.strategy === "staging_partition_switch";
  if (!dated) return undefined;
  const last = await db.tableResult.findFirst({
    where: { tableName: table.name, status: "succeeded", watermarkAfter: { not: null }, watermarkColumn: { not: null }, run: { environment, dryRun: false } },
    orderBy: { startedAt: "desc" },
    select: { watermarkAfter: true, watermarkColumn: true },
  });
  return last ? { column: last.watermarkColumn!, value: last.watermarkAfter! } : undefined;
}

/** The last watermark's value where it is of `column`. */
export function lastValueOf(last: LastWatermark | undefined, column: string): string | null {
  return last && last.column.toLowerCase() === column.toLowerCase() ? last.value : null;
}

// Identity mode's watched gaps. A transaction that took an id and commits later than the refresh's floor passes that
// id (a batch job's long transaction, a readable secondary behind) leaves a gap UAT would never fill: the buffer and
// its bands below (lib/engine/late-rows) reach only so far. When the floor passes ids, the ids UAT lacks among them
// (production had not committed them when they were read, or a tester deleted them) are recorded with the run, and
// every later refresh asks production for rows in them again, until they are GAP_WATCH_DAYS old. The watch costs one
// index range read of UAT's newly passed ids per run, one of its ids in the watched gaps, and one range per gap in
// production's read.
import type { ColumnInfo } from "../dialects/types";
import type { Metadata } from "../metadata/client";
import type { TableConfigInput } from "../config/schema";
import type { TableContext } from "./context";
import { both, productionRows } from "./uat-rows";
import { GAP_WATCH_MAX, gapRange, nextWatch, watchSchema, withoutFilled, type GapWatch, type IdGap } from "./gap-watch";

/** The watch the last run that recorded one left for `table` (undefined: none, or unreadable: the watch starts anew). */
export async function lastGapWatch(db: Metadata, environment: string, table: TableConfigInput): Promise<GapWatch | undefined> {
  if (table.incremental_type !== "identity" || table.sync_mode === "full_replace") return undefined;
  const last = await db.tableResult.findFirst({
    where: { tableName: table.name, idGaps: { not: null }, run: { environment, dryRun: false } },
    orderBy: { startedAt: "desc" },
    select: { idGaps: true },
  });
  if (!last?.idGaps) return undefined;
  try {
    const parsed = watchSchema.safeParse(JSON.parse(last.idGaps));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Records a run's watch on its result and clears the table's older ones: only the last is ever read, and a watch
 *  can hold GAP_WATCH_MAX gaps. */
export async function recordGapWatch(db: Metadata, environment: string, tableName: string, resultId: string, watch: GapWatch) {
  await db.tableResult.update({ where: { id: resultId }, data: { idGaps: JSON.stringify(watch) } });
  await db.tableResult.updateMany({ where: { tableName, id: { not: resultId }, idGaps: { not: null }, run: { environment } }, data: { idGaps: null } });
}

/** The run's watch: the recorded gaps (of the same column, not aged out) and the ids UAT lacks among those the floor
 *  passed since the last record, (recorded upTo, floor]. Without a record the watch starts at `floor`. */
export async function watchGaps(ctx: TableContext, column: ColumnInfo, floor: string, now = new Date()): Promise<{ watch: GapWatch; aged: number; dropped: number }> {
  const recorded = ctx.recordedGaps?.column.toLowerCase() === column.name.toLowerCase() ? ctx.recordedGaps : undefined;
  if (!recorded) return nextWatch(column.name, [], [], floor, now);
  // Rows that arrived in a watched gap since (the late rows found) end the watch on their ids.
  const filled = recorded.gaps.length
    ? await ctx.sessions.target.query<{ value: string | number }>(
        ctx.dialect.compiler.distinctValues(ctx.targetTable, column, both({ kind: "any", filters: recorded.gaps.map((g) => gapRange(g, column)) }, productionRows(ctx.uat))),
      )
    : [];
  const watched = withoutFilled(recorded.gaps, filled.map((r) => BigInt(String(r.value))));
  const upTo = BigInt(recorded.upTo) > BigInt(floor) ? recorded.upTo : floor;
  let fresh: IdGap[] = [];
  if (BigInt(floor) > BigInt(recorded.upTo)) {
    const rows = await ctx.sessions.target.query<{ after: string | number; before: string | number }>(
      ctx.dialect.compiler.idGaps(ctx.targetTable, column, recorded.upTo, floor, GAP_WATCH_MAX, productionRows(ctx.uat)),
    );
    fresh = rows.map((r) => ({ after: String(r.after), before: String(r.before), since: now.toISOString() }));
  }
  return nextWatch(column.name, watched, fresh, upTo, now);
}


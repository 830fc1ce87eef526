// Identity mode's watched gaps, as recorded with a run (lib/engine/id-gaps reads and computes them): the ids UAT
// lacked when a refresh's floor passed them, asked of production again until GAP_WATCH_DAYS old.
import { z } from "zod";
import type { ColumnFilter, ColumnInfo } from "../dialects/types";

/** How long a gap is asked again after the floor passed it. */
export const GAP_WATCH_DAYS = 7;
/** Gaps watched at most (the highest kept): a table whose inserts often roll back burns an id each time. Each is two
 *  parameters of the statements that read them, well inside SQL Server's 2,100 (lib/engine/limits). */
export const GAP_WATCH_MAX = 500;

const DAY_MS = 86_400_000;

const gapSchema = z.object({ after: z.string().regex(/^-?\d+$/), before: z.string().regex(/^-?\d+$/), since: z.string() });
export const watchSchema = z.object({ column: z.string(), upTo: z.string().regex(/^-?\d+$/), gaps: z.array(gapSchema) });

/** The values strictly between `after` and `before` were missing from UAT's copy since `since` (ISO time). */
export type IdGap = z.infer<typeof gapSchema>;

/** What a run records: the gaps it watches, and how far up UAT's ids were looked at for gaps (the floor it read from). */
export type GapWatch = z.infer<typeof watchSchema>;

/** The recorded gaps still watched at `now`, with `fresh` ones added, the highest GAP_WATCH_MAX kept. */
export function nextWatch(column: string, recorded: IdGap[], fresh: IdGap[], upTo: string, now: Date): { watch: GapWatch; aged: number; dropped: number } {
  const live = recorded.filter((g) => now.getTime() - Date.parse(g.since) < GAP_WATCH_DAYS * DAY_MS);
  const all = [...live, ...fresh].sort((a, b) => (BigInt(b.after) > BigInt(a.after) ? 1 : BigInt(b.after) < BigInt(a.after) ? -1 : 0));
  return { watch: { column, upTo, gaps: all.slice(0, GAP_WATCH_MAX) }, aged: recorded.length - live.length, dropped: Math.max(0, all.length - GAP_WATCH_MAX) };
}

/** A gap as a filter on `column`: the ids (after, before - 1], cut at `floor` where given. */
export function gapRange(g: IdGap, column: ColumnInfo, floor?: string): ColumnFilter {
  const last = BigInt(g.before) - 1n;
  return { kind: "upTo", column, after: g.after, upTo: (floor !== undefined && BigInt(floor) < last ? BigInt(floor) : last).toString() };
}

/** The watched gaps below `floor` (above it the run reads every id anyway) as filters on production's `column`. */
export function gapFilters(watch: GapWatch | undefined, column: ColumnInfo, floor: string): ColumnFilter[] {
  return (watch?.gaps ?? []).filter((g) => BigInt(g.after) < BigInt(floor)).map((g) => gapRange(g, column, floor));
}

/** "96-100, 11": the ranges asked, highest first (five named at most). */
export function describeGaps(filters: ColumnFilter[]): string {
  const named = filters.slice(0, 5).map((f) => {
    if (f.kind !== "upTo" || f.after === null) return "";
    const first = (BigInt(f.after) + 1n).toString();
    return first === f.upTo ? first : `${first}-${f.upTo}`;
  });
  return `${named.join(", ")}${filters.length > 5 ? `, and ${filters.length - 5} more` : ""}`;
}

/** The gaps with the ids UAT holds now (rows that arrived in them) taken out: what is left of each is still watched. */
export function withoutFilled(gaps: IdGap[], filled: bigint[]): IdGap[] {
  const ids = [...filled].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return gaps.flatMap((g) => {
    const pieces: IdGap[] = [];
    let after = BigInt(g.after);
    for (const id of ids) {
      if (id <= after || id >= BigInt(g.before)) continue;
      if (id > after + 1n) pieces.push({ ...g, after: after.toString(), before: id.toString() });
      after = id;
    }
    if (BigInt(g.before) > after + 1n) pieces.push({ ...g, after: after.toString() });
    return pieces;
  });
}

// Where an incremental table's copy stands: the watermark over production's rows in the target. UAT's own rows (its
// id range, kept rows) never count; a row beyond production's own max (hand-numbered, future-dated) never moves it;
// and in date modes neither does a production row UAT changed since the last refresh (a tester's edit, or UAT's
// application stamping the row): the watermark never goes beyond where the last refresh left production's rows.
import type { RowFilter } from "../dialects/types";
import { columnPair, type TableContext } from "./context";
import { RefreshError } from "./errors";
import { both, productionRows } from "./uat-rows";
import { lastValueOf } from "./last-watermark";

export function watermarkColumn(ctx: TableContext) {
  const pair = columnPair(ctx, ctx.config.incremental_column!);
  const want = ctx.config.incremental_type!;
  const family = pair.target.family;
  const fits = want === "identity" ? family === "integer" || family === "decimal" : want === "date" ? family === "date" || family === "datetime" : family === "datetime" || family === "date";
  if (!fits)
    throw new RefreshError(
      `incremental_column ${pair.target.name} has type ${pair.target.nativeType}, which does not fit incremental_type ${want}`,
      { field: "incremental_type" },
    );
  return pair;
}

/** a > b for two watermark values of one column (same engine's text: numbers, or ISO-like dates / date-times). */
export function later(family: string, a: string, b: string): boolean {
  if (family === "integer" || family === "decimal") return Number(a) > Number(b) || (/^-?\d+$/.test(a) && /^-?\d+$/.test(b) && BigInt(a) > BigInt(b));
  return a > b;
}

export interface Watermark {
  pair: ReturnType<typeof watermarkColumn>;
  max: string | null;
  cutoff: string | null;
  /** Identity mode: the target's production rows reach beyond the source's own max (a hand-numbered row): the source's
   *  max was used. */
  capped: boolean;
  /** Date modes: the furthest value production's rows in the target can hold (the last refresh's watermark, or
   *  production's own max); a production row beyond it was changed in UAT. Null: nothing to bound (identity mode, or
   *  production and the last refresh know no value). */
  upTo: string | null;
  /** Where upTo comes from. */
  upToFrom?: "last refresh" | "production's max";
  /** Production's own max, read on the caller's session (inside a unit: the copy's snapshot). */
  sourceMax: string | null;
}

async function one<R>(ctx: TableContext, which: "source" | "target", q: { sql: string; params: readonly unknown[] }): Promise<R> {
  const [row] = await ctx.sessions[which].query<R>(q);
  return row;
}

type MaxRow = { max: string | null; cutoff: string | null };
const text = (v: string | null) => (v === null ? null : String(v));

/** Production's rows of the target that UAT changed since the last refresh: beyond `upTo` (a Watermark's) in the
 *  incremental column. */
export function changedInUat(ctx: TableContext, upTo: string | null | undefined): RowFilter | undefined {
  if (upTo == null || !ctx.config.incremental_column) return undefined;
  return both({ kind: "greater", column: columnPair(ctx, ctx.config.incremental_column).target, value: upTo }, productionRows(ctx.uat));
}

/** The target's watermark over production's rows only, never beyond the source's own max nor, in date modes, beyond
 *  the last refresh's watermark (`ctx.lastWatermark`). */
export async function productionWatermark(ctx: TableContext): Promise<Watermark> {
  const pair = watermarkColumn(ctx);
  const { compiler } = ctx.dialect;
  const production = productionRows(ctx.uat);
  if (ctx.config.incremental_type === "identity") {
    const t = await one<MaxRow>(ctx, "target", compiler.watermark(ctx.targetTable, pair.target, 0, production));
    const none = { pair, max: null, cutoff: null, capped: false, upTo: null, sourceMax: null };
    if (t.max === null) return none;
    const s = await one<MaxRow>(ctx, "source", compiler.watermark(ctx.sourceTable, pair.source, 0));
    const sourceMax = text(s.max);
    if (sourceMax !== null && later(pair.target.family, String(t.max), sourceMax)) return { ...none, max: sourceMax, cutoff: text(s.cutoff), capped: true, sourceMax };
    return { ...none, max: String(t.max), cutoff: text(t.cutoff), sourceMax };
  }
  const buffer = ctx.config.date_buffer_days ?? 0;
  const s = await one<MaxRow>(ctx, "source", compiler.watermark(ctx.sourceTable, pair.source, buffer));
  const sourceMax = text(s.max);
  const last = lastValueOf(ctx.lastWatermark, pair.target.name);
  const fromLast = last !== null && (sourceMax === null || later(pair.target.family, sourceMax, last));
  const upTo = fromLast ? last : sourceMax;
  const bounded: RowFilter | undefined = upTo === null ? production : both(production, { kind: "upTo", column: pair.target, after: null, upTo });
  const t = await one<MaxRow>(ctx, "target", compiler.watermark(ctx.targetTable, pair.target, buffer, bounded));
  const upToFrom = upTo === null ? undefined : fromLast ? ("last refresh" as const) : ("production's max" as const);
  return { pair, upTo, upToFrom, sourceMax, max: text(t.max), cutoff: text(t.cutoff), capped: false };
}

/** How many of production's rows in the target UAT changed beyond `upTo` (a Watermark's): what the plan says of them. */
export async function countChangedInUat(ctx: TableContext, upTo: string | null): Promise<number> {
  const filter = changedInUat(ctx, upTo);
  return filter ? Number((await one<{ n: string | number }>(ctx, "target", ctx.dialect.compiler.countRows(ctx.targetTable, filter))).n) : 0;
}

/** Production's max of the incremental column, read on the source's session (inside a unit: the copy's snapshot). */
export async function sourceMaxOf(ctx: TableContext): Promise<string | null> {
  const pair = watermarkColumn(ctx);
  return text((await one<MaxRow>(ctx, "source", ctx.dialect.compiler.watermark(ctx.sourceTable, pair.source, 0))).max);
}

/** The watermark a refresh that just committed leaves (shown as before -> after, and where the next date window
 *  starts): production's max as the copy read it when given (date windows: a row UAT changed and kept is not
 *  production's), else the target's production rows capped by the source's max; null without an incremental column. */
export async function watermarkNow(ctx: TableContext, copiedUpTo?: string | null): Promise<string | null> {
  if (!ctx.config.incremental_column) return null;
  if (copiedUpTo !== undefined) return copiedUpTo;
  const unbounded = { ...ctx, lastWatermark: undefined };
  return (await productionWatermark(unbounded).catch(() => null))?.max ?? null;
}

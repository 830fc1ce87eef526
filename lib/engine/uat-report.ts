// What every plan says beyond its strategy's reason: schema drift (lib/engine/drift), what the verification will
// compare (lib/engine/verify), and what a refresh will do to
// UAT's own rows (dry run, run page, CLI): how many rows keep_rows keeps and how many rows in UAT's id range no rule
// keeps, counted in the target before anything is written. A kept row whose key production also has is refused
// before the refresh: the load would overwrite it or fail on its key.
import type { ColumnInfo, RowFilter } from "../dialects/types";
import { type TableContext } from "./context";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";
import { keyOf } from "./merge-key";
import type { TablePlan } from "./strategies/types";
import { both, inUatRange, keptRows, notKept } from "./uat-rows";
import { keysPerQuestion } from "./limits";
import { verificationPlan } from "./verify";

/** Kept rows checked against production's keys at most (beyond: said in the plan, not checked). */
export const KEPT_CHECK_LIMIT = 100_000;
const LOOKUP_FAMILIES = new Set(["integer", "text", "decimal"]);

/** The rows of `table` on `role`'s session (of `filter`'s only, when given): an exact count. */
export const countOf = async (ctx: TableContext, role: "source" | "target", table: TableContext["targetTable"], filter?: RowFilter) =>
  Number((await ctx.sessions[role].query<{ n: string | number }>(ctx.dialect.compiler.countRows(table, filter)))[0]?.n ?? 0);

/** What every plan says beyond its strategy's reason: schema drift, what is verified, and UAT's own rows (refusing kept
 *  rows production also has). `merged`: the table is a parent its refresh group merges. */
export async function annotatePlan(ctx: TableContext, plan: TablePlan, merged = false): Promise<void> {
  if (ctx.drift.length) plan.reason += `; drift: ${ctx.drift.join("; ")}`;
  if (ctx.targetTable.keepsHistory) plan.reason += `; ${ctx.targetTable.keepsHistory}`;
  plan.verifies = verificationPlan(ctx, merged, plan.mode);
  await planUatRows(ctx, plan, merged);
}

/** Appends to the plan's reason what happens to UAT's own rows, and refuses kept rows production also has. */
async function planUatRows(ctx: TableContext, plan: TablePlan, merged: boolean): Promise<void> {
  const parts: string[] = [];
  if (ctx.uat?.keep) {
    const kept = await countOf(ctx, "target", ctx.targetTable, keptRows(ctx.uat));
    parts.push(`${kept} kept by keep_rows`);
    const unchecked = await refuseKeptCollisions(ctx, kept);
    if (unchecked) parts.push(unchecked);
  }
  const range = inUatRange(ctx.uat);
  if (range) {
    const own = await countOf(ctx, "target", ctx.targetTable, both(range, notKept(ctx.uat)));
    // A full replace removes what no rule keeps (a merge, what UAT's rows do not reference); an incremental copy
    // touches production's rows only.
    const replaced = merged ? "replaced unless UAT's rows reference them (no rule keeps them)" : "replaced (no rule keeps them)";
    const fate = plan.mode === "full_replace" && ctx.config.strategy === "simple_copy" ? replaced : "left as they are";
    if (own) parts.push(`${own} in UAT's id range ${fate}`);
  }
  if (parts.length) plan.reason += `; UAT's own rows: ${parts.join(", ")}`;
}

/** Refuses a refresh whose keep rule names rows production also has (by the table's key); returns a note when the
 *  check could not be made. */
async function refuseKeptCollisions(ctx: TableContext, kept: number): Promise<string | undefined> {
  if (!kept) return undefined;
  const key = keyOf(ctx);
  if (!key) return "not checked against production's keys (the table has no key)";
  const pairs = key.map((name) => ctx.columns.find((c) => c.target.name === name)!);
  if (pairs.some((p) => !p || !LOOKUP_FAMILIES.has(p.target.family))) return "not checked against production's keys (key type)";
  if (kept > KEPT_CHECK_LIMIT) return `not checked against production's keys (more than ${KEPT_CHECK_LIMIT} kept rows)`;
  const rows = await ctx.sessions.target.query<Record<string, unknown>>(
    ctx.dialect.compiler.selectRows(ctx.targetTable, pairs.map((p) => p.target), keptRows(ctx.uat), undefined, KEPT_CHECK_LIMIT),
  );
  // As many kept keys per question as the parameters allow; production answers with the keys it also has.
  const perQuestion = keysPerQuestion(pairs.length);
  const equal = (row: Record<string, unknown>): RowFilter => ({
    kind: "all",
    filters: pairs.map((p) => ({ kind: "equals", column: p.source as ColumnInfo, value: String(row[p.target.name]) })),
  });
  for (let i = 0; i < rows.length; i += perQuestion) {
    const usable = rows.slice(i, i + perQuestion).filter((row) => pairs.every((p) => row[p.target.name] !== null && row[p.target.name] !== undefined));
    if (!usable.length) continue;
    const [shared] = await ctx.sessions.source.query<Record<string, string>>(ctx.dialect.compiler.keyValues(ctx.sourceTable, pairs.map((p) => p.source), { kind: "any", filters: usable.map(equal) }));
    if (shared)
      throw new RefreshError(
        `${displayName(ctx.targetTable)}: keep_rows (${ctx.config.keep_rows}) keeps a row whose key production also has (${key.map((k, j) => `${k} = ${shared[`k${j}`]}`).join(", ")}): the refresh would overwrite it or fail on its key. Narrow the rule (e.g. to UAT's id range) or remove the row`,
        { field: "keep_rows" },
      );
  }
  return undefined;
}

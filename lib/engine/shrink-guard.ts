// A full replace makes UAT's copy of a table whatever production holds now. Where production's table holds far fewer
// rows than UAT holds of it, that is more often a mistake than a purge: a table truncated by accident (UAT may then be
// the only recent copy left), a restore still under way, a connection pointing at another database. The plan
// refuses such a table, the dry run says it, and nothing is written; a purge on purpose is allowed per table
// (allow_shrink) or by lowering settings.min_source_rows_percent (0: never refused).
import type { TableContext } from "./context";
import type { TablePlan } from "./strategies/types";
import { productionRows } from "./uat-rows";
import { countOf } from "./uat-report";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";

/** Below this many rows lost, a shrink is never refused: small tables (settings, codes) change by halves legitimately. */
export const SHRINK_MIN_ROWS = 1000;

export async function refuseShrink(ctx: TableContext, plan: TablePlan): Promise<void> {
  const percent = ctx.settings.min_source_rows_percent;
  if (plan.mode !== "full_replace" || plan.strategy !== "simple_copy" || !percent || ctx.config.allow_shrink) return;
  if (plan.rowsUnknown) return; // said in the plan's reason ("rows expected unknown")
  const shrinks = (production: number, uat: number) => uat - production >= SHRINK_MIN_ROWS && production * 100 < uat * percent;
  // Most plans stop at the figures already at hand: production's as the plan has it, UAT's from its catalog (bounding
  // its rows of production's from above). Only a table these would refuse, or whose catalog figure is unknown or 0,
  // is counted exactly on both sides before it is: a catalog figure can be stale (PostgreSQL's and Babelfish's are the
  // planner's estimate), and UAT's own rows (its id range, kept by rule) are not what production held when UAT copied it.
  const [e] = await ctx.sessions.target.query<{ n: string | number }>(ctx.dialect.compiler.estimateRows(ctx.targetTable));
  const estimate = Number(e?.n ?? -1);
  if (estimate > 0 && !shrinks(plan.rowsExpected, estimate)) return;
  const uat = await countOf(ctx, "target", ctx.targetTable, productionRows(ctx.uat));
  if (!shrinks(plan.rowsExpected, uat)) return;
  const production = plan.rowsEstimated ? await countOf(ctx, "source", ctx.sourceTable) : plan.rowsExpected;
  if (!shrinks(production, uat)) return;
  throw new RefreshError(
    `production's ${displayName(ctx.sourceTable)} holds ${production} rows, fewer than ${percent}% of the ${uat} of its rows UAT holds: a full replace would remove ${uat - production} of them; refused, nothing written`,
    {
      field: "allow_shrink",
      hint: "Check production first: a table emptied by mistake, a restore under way, or a connection pointing at another database. If production purged those rows on purpose, set allow_shrink: true on the table (or lower settings.min_source_rows_percent; 0 never refuses).",
    },
  );
}

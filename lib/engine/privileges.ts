// What a refresh will need the logins to be allowed, checked in the plan (so the dry run says it) from the catalog's
// own answer: a missing privilege is named with the table and why, before anything is written.
import type { Privilege } from "../dialects/types";
import { type TableContext } from "./context";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";
import type { TablePlan } from "./strategies/types";
import { refuseSecuredTarget } from "./row-security";
import { refuseMaskedColumns } from "./dynamic-masks";

export interface GroupRole {
  /** The table is merged (update / insert / delete) instead of emptied and loaded. */
  merged?: boolean;
  /** A key on this table is suspended during its group's load (dropped or unchecked, then restored). */
  suspendsKeys?: boolean;
}

export async function refuseMissingPrivileges(ctx: TableContext, plan: TablePlan, role: GroupRole = {}) {
  const needs = new Map<Privilege, string>();
  const need = (p: Privilege, why: string) => needs.set(p, needs.has(p) ? `${needs.get(p)}, ${why}` : why);
  need("INSERT", "load rows");
  if (role.merged) {
    need("UPDATE", "merge changed rows");
    need("DELETE", "delete rows gone from the source");
  } else if (plan.mode === "full_replace") need(ctx.config.truncate_target ? "TRUNCATE" : "DELETE", "empty it");
  else if (plan.mode === "incremental" && ctx.config.incremental_type !== "identity") need("DELETE", "re-sync its date window");
  if (plan.mode === "partition_switch") need("ALTER", "attach and detach partitions");
  if (role.suspendsKeys) need("ALTER", "suspend and restore its foreign keys");
  if (!ctx.config.fire_triggers && (await ctx.sessions.target.introspector.triggers(ctx.targetTable)).length) need("ALTER", "disable its triggers during the load");
  // Staging tables live in the table's schema: merges, re-read identity windows, twins, partition days, kept columns.
  const stages =
    role.merged || plan.twin || plan.mode === "partition_switch" || (plan.mode === "incremental" && ctx.config.incremental_type === "identity") || !!ctx.uat?.keepColumns.length;
  if (stages) need("CREATE", "create its staging table");
  if (ctx.uat?.generators.some((g) => g.sequence)) need("SEQUENCE", "move them past the copied values");

  // A partition switch writes a staging table of its own; everything else writes and empties the table itself.
  if (plan.mode !== "partition_switch") await refuseSecuredTarget(ctx.sessions.target, ctx.targetTable);
  await refuseMaskedColumns(ctx.sessions.target, ctx.targetTable, ctx.columns.map((c) => c.target.name), "target");
  const missing = await ctx.sessions.target.introspector.missingPrivileges(ctx.targetTable, [...needs.keys()]);
  const postgres = ctx.dialect.engine === "postgres";
  const label = (p: Privilege) =>
    p === "ALTER" && postgres ? "ALTER (PostgreSQL: be the table's owner or a member of its owner role)"
    : p === "CREATE" ? `CREATE on schema ${ctx.targetTable.schema}${postgres ? "" : " (CREATE TABLE, and ALTER on the schema)"}`
    : p === "SEQUENCE" ? `${postgres ? "UPDATE" : "ALTER"} on the sequences its columns draw from`
    : p;
  if (missing.length)
    throw new RefreshError(
      `the target login lacks ${missing.map((p) => `${label(p)} (to ${needs.get(p)})`).join(", ")} on ${displayName(ctx.targetTable)}`,
      { hint: missing.includes("ALTER") && needs.get("ALTER")!.includes("triggers") ? "Grant it, or set fire_triggers: true on the table if its triggers may run during a refresh." : "Grant it to the target login; nothing was written." },
    );
}

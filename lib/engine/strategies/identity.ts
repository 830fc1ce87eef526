// Explicit identity values are copied from the source: afterwards the target's identity generator must be past
// them, or the next row inserted in UAT collides with a copied one; where UAT keeps an id range of its own
// (lib/engine/uat-rows), the generator is moved into it.
import type { TableContext } from "../context";
import { uatFloor } from "../uat-rows";

export async function resyncIdentities(ctx: TableContext) {
  for (const c of ctx.columns.filter((c) => c.target.identity)) {
    const q = ctx.dialect.compiler.resyncIdentity(ctx.targetTable, c.target, uatFloor(ctx.uat, c.target.name));
    if (q) await ctx.sessions.target.execute(q);
  }
}

// Explicit identity values are copied from the source: afterwards the target's identity generator must be past
// them, or the next row inserted in UAT collides with a copied one.
import type { TableContext } from "../context";

export async function resyncIdentities(ctx: TableContext) {
  for (const c of ctx.columns.filter((c) => c.target.identity)) {
    const q = ctx.dialect.compiler.resyncIdentity(ctx.targetTable, c.target);
    if (q) await ctx.sessions.target.execute(q);
  }
}

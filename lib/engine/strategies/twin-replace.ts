// full_replace through a structural twin (SQL Server): the twin is loaded and indexed while UAT readers keep reading
// the old rows; one short transaction then exchanges it for the table's rows (SWITCH, metadata only) and moves the
// identities and sequences on. Where SWITCH is impossible the plan says why and the table loads in place as before.
import { partitionName } from "../../dialects/partition-days";
import type { TableStorage } from "../../dialects/types";
import { checkAborted, committingUnit, defaultsByInsert, targetCapabilities, type TableContext } from "../context";
import { displayName } from "../table-name";
import { RefreshError } from "../errors";
import { failpoint } from "../failpoints";
import { dropLeftovers, targetShape, tidyLeftovers } from "../staging";
import { loadInStreams, type StagingLoad } from "../streams/load";
import { analyzeTarget, resyncGenerators } from "../target-state";
import { targetChecksum, verifyAgainst, type Verification } from "../verify";
import type { Checksum } from "../checksum";

export type TwinDecision =
  /** `reason`: said in the plan (and the dry run): which path, and why not the twin when not. */
  { twin: true; reason: string; storage: TableStorage } | { twin: false; reason: string };

const partitionCount = (s: TableStorage) => ("scheme" in s.dataSpace ? s.dataSpace.partitions : 1);

/** Whether this table's full replace can go through a twin, from the catalog as it is now. */
export async function twinDecision(ctx: TableContext): Promise<TwinDecision | null> {
  if (!ctx.dialect.swap || !ctx.sessions.target.introspector.storage) return null;
  const blockers = ctx.config.fire_triggers ? ["fire_triggers is set (SWITCH fires no triggers)"] : [];
  if (ctx.uat?.keep || ctx.uat?.keepColumns.length) blockers.push("keep_rows / keep_columns are set (UAT's rows and values are kept in place)");
  const defaults = defaultsByInsert(ctx);
  if (defaults.length) blockers.push(`UAT's own ${defaults.map((c) => c.name).join(", ")} take their defaults from an INSERT, which a bulk load into the twin would not give them`);
  const inPlace = () => ({ twin: false as const, reason: `loads in place, readers wait until the commit; no SWITCH: ${blockers.join("; ")}` });
  // The table's storage is only worth reading where the server can SWITCH.
  const can = await targetCapabilities(ctx);
  if (can && !can.switch) {
    blockers.push(`the server cannot SWITCH (probed: ${can.notes.find((n) => n.startsWith("ALTER TABLE ... SWITCH")) ?? "refused"})`);
    return inPlace();
  }
  // A catalog the login cannot read (or an older server without one of its views) means the path known to work.
  const storage = await ctx.sessions.target.introspector.storage(ctx.targetTable).catch((e: Error) => {
    blockers.push(`its storage could not be read from the catalog (${e.message})`);
    return null;
  });
  if (storage) blockers.push(...storage.blockers);
  if (!storage || blockers.length) return inPlace();
  return { twin: true, reason: "loads a staging twin, then SWITCHes it in: readers see the old rows until then", storage };
}

/** Loads the twin, builds its indexes and CHECKs, then switches it in; returns the rows loaded. A failure or a kill
 *  at any point before the switch commits leaves the table as it was; the twins are dropped now or by the next run. */
export async function replaceThroughTwin(ctx: TableContext, rowsExpected: number, storage: TableStorage): Promise<StagingLoad & { verification?: Verification }> {
  const target = () => ctx.sessions.target;
  const swap = ctx.dialect.swap!;
  const twin = partitionName(ctx.targetTable, "_stg_full");
  const retired = partitionName(ctx.targetTable, "_old_full");
  type Switched = StagingLoad & { inTransaction?: Checksum };
  return committingUnit<Switched, StagingLoad & { verification?: Verification }>(
    ctx,
    async (committed) => {
      await dropLeftovers(ctx);
      const shape = await targetShape(ctx);
      try {
        // Created and marked in one transaction: a lost connection or a kill never leaves an unmarked twin, which no
        // later run would know to drop (and whose name it would then find taken).
        await target().transaction(async () => {
          for (const q of swap.createTwin(ctx.targetTable, twin, retired, storage, shape)) await target().execute(q);
        });
        ctx.progress.phase("loading", { message: `loading a twin of ${displayName(ctx.targetTable)}` });
        const load = await loadInStreams(ctx, twin, undefined, rowsExpected, undefined, { verify: true });
        await failpoint("staging-loaded");
        ctx.progress.phase("indexing");
        for (const q of swap.prepareTwin(twin, storage, shape)) await target().execute(q);
        // With post-refresh steps in the switch's transaction, the rows as loaded are the ones to compare.
        const inTransaction = load.source && ctx.stepsInTransaction.length ? await targetChecksum(ctx, undefined, twin) : undefined;
        checkAborted(ctx);
        ctx.progress.phase("switching");
        await failpoint("before-swap");
        await target().transaction(async () => {
          // The partitions as they are now: a split since the twin was built gave the table and both twins (one
          // scheme) another partition, and every one must be exchanged.
          const now = await target().introspector.storage!(ctx.targetTable);
          for (const q of swap.switchIn(ctx.targetTable, twin, retired, now)) await target().execute(q);
          // The first SWITCH holds the table's schema lock to the commit, so no split runs after it; one that ran
          // between the read and that lock shows here, and nothing is committed.
          const after = partitionCount(await target().introspector.storage!(ctx.targetTable));
          if (after !== partitionCount(now))
            throw new RefreshError(`${displayName(ctx.targetTable)}: its partition function changed during the switch (${partitionCount(now)} -> ${after} partitions); nothing was committed, the next run switches them all`);
          await resyncGenerators(ctx);
        });
        const done = committed({ ...load, inTransaction });
        await failpoint("after-swap");
        return done;
      } catch (e) {
        // Best effort on a failing session: whatever stays behind, marked, is dropped by the retry or the next run.
        ctx.progress.phase("cleanup");
        await dropLeftovers(ctx).catch(() => {});
        throw e;
      }
    },
    async ({ inTransaction, ...load }) => {
      // The old rows, now in the retired twin, go first.
      ctx.progress.phase("cleanup");
      await tidyLeftovers(ctx);
      await analyzeTarget(ctx);
      if (load.source) ctx.progress.phase("verifying");
      return { ...load, verification: load.source ? await verifyAgainst(ctx, load.source, undefined, inTransaction) : undefined };
    },
  );
}

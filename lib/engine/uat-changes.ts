// Production's rows that UAT changed since the last refresh, in a re-synced date window. A tester's edit, or UAT's
// application stamping the row, moves its date beyond where the last refresh left production's rows, into the window
// the target deletes; production's value of the row is older, so the window would not bring it back. Such rows are
// held aside first and put back after the load unless production wrote the same key in this refresh (then its row
// wins, as any re-synced row does); a table without a key has nothing to match them on, so all of them are put back.
// Their checksum is what the verification leaves out as UAT's.
import type { ColumnInfo, CompiledQuery, ForeignKey, RowFilter, TableRef } from "../dialects/types";
import { addChecksums, type Checksum } from "./checksum";
import { columnPair, onTarget, type TableContext } from "./context";
import { both, productionRows } from "./uat-rows";
import { keyOf } from "./merge-key";
import { targetChecksum, verifying } from "./verify";
import { changedInUat } from "./watermark";
import { stageAndUpsert } from "./upsert";
import { keysPerQuestion } from "./limits";

/** Production's rows of the target inside the window (`filter`, the plan's, on the source's column; none: the whole
 *  table): not UAT's id range, not kept by rule. */
export function productionWindow(ctx: TableContext, filter: RowFilter | undefined): RowFilter | undefined {
  return both(filter && onTarget(ctx, filter), productionRows(ctx.uat));
}

/** The target rows an incremental window's re-sync by key may delete: production's rows of the window not changed in
 *  UAT since the last refresh (beyond `upTo`, the plan's changedAfter). */
function windowScope(ctx: TableContext, filter: RowFilter | undefined, upTo: string | null | undefined): RowFilter | undefined {
  const { target } = columnPair(ctx, ctx.config.incremental_column!);
  const upToHere: RowFilter | undefined = upTo == null ? undefined : { kind: "upTo", column: target, after: null, upTo };
  // A window that holds the rows without a date (lib/engine/strategies/simple-copy incrementalFilter) may delete them:
  // none was changed in UAT.
  const withNulls = filter?.kind === "atLeast" && filter.nulls;
  const unchanged: RowFilter | undefined = upToHere && withNulls ? { kind: "any", filters: [upToHere, { kind: "isNull", column: target }] } : upToHere;
  return both(productionWindow(ctx, filter), unchanged);
}

/** An incremental window loaded by key: production's rows UAT changed since the last refresh are held (never gone:
 *  production wrote them again, in the staging table, or they stay as UAT has them), the window's rows staged and
 *  upserted. Returns the staged load (its finishMerge deletes production's rows of the window the source no longer
 *  has) and UAT's part of the window for the verification. */
export async function upsertWindow(ctx: TableContext, query: CompiledQuery, filter: RowFilter | undefined, upTo: string | null | undefined, opts: { keepers?: ForeignKey[]; mergeReason?: string } = {}) {
  const held = await holdChangedRows(ctx, upTo, false);
  const scope = windowScope(ctx, filter, upTo);
  const staged = await stageAndUpsert(ctx, query, { ...opts, scope });
  const staging = ctx.dialect.relations.mergeStaging(ctx.targetTable);
  const changed = await held.settle(staging);
  const earlier = await keepEarlierChanges(ctx, staging, scope);
  const parts = [changed, earlier].filter((p): p is Checksum => !!p);
  return { staged, uat: parts.length ? addChecksums(parts) : undefined };
}

/**
 * Rows UAT changed before the last refresh (kept then, as UAT has them) whose date lies below where that refresh left
 * production's rows but inside this window's buffer: in the window, yet production's row, older, is not. They look
 * gone from production's window and are not; deleting them would lose production's row for good (no later window
 * holds it). Production is asked by key about every row of the window its window lacks (its deletions and these), a
 * page of keys at a time on the copy's snapshot (the keys wait in a numbered table on UAT's side: memory holds one
 * page, however much production deleted); the rows it still has join the staging table, so the merge's deletion
 * passes them over. Returns their checksum, UAT's part of the window.
 */
async function keepEarlierChanges(ctx: TableContext, staging: TableRef, scope: RowFilter | undefined): Promise<Checksum | undefined> {
  const pairs = keyOf(ctx)!.map((name) => columnPair(ctx, name));
  const key = { source: pairs.map((k) => k.source), target: pairs.map((k) => k.target) };
  const target = ctx.sessions.target;
  const rel = ctx.dialect.relations;
  const asked = rel.askedKeysTable(ctx.targetTable);
  const { collect, index } = rel.collectUnstagedKeys(ctx.targetTable, staging, asked, key.target, scope);
  // Undefined where the server does not count (NOCOUNT): then the pages say.
  if ((await target.execute(collect)) === 0) return void (await target.execute(rel.dropMergeStaging(asked)));
  await target.execute(index);
  const perPage = keysPerQuestion(pairs.length);
  const columns = [...ctx.columns.map((c) => c.target), ...ctx.uatOnly].map((c) => c.name);
  const parts: Checksum[] = [];
  for (let after = 0; ; after += perPage) {
    const page = await target.query<Record<string, string>>(rel.keysPage(asked, pairs.length, after, after + perPage));
    const still = page.length ? await ctx.sessions.source.query<Record<string, string>>(ctx.dialect.compiler.keyValues(ctx.sourceTable, key.source, keysFilter(page, key.source))) : [];
    if (still.length) {
      const held = rel.heldRowsTable(ctx.targetTable); // free again: the changed rows' table was settled and dropped
      for (const q of rel.holdRows(ctx.targetTable, held, columns, keysFilter(still, key.target))) await target.execute(q);
      await target.execute(rel.insertFromStaging(staging, held, ctx.columns.map((c) => c.target.name), false));
      if (verifying(ctx)) parts.push(await targetChecksum(ctx, undefined, held));
      await target.execute(rel.dropMergeStaging(held));
    }
    if (page.length < perPage) break;
  }
  await target.execute(rel.dropMergeStaging(asked));
  return parts.length ? addChecksums(parts) : undefined;
}

/** Rows whose key is one of `keys` (rows of k0, k1... as keyValues reads them, no part NULL). */
function keysFilter(keys: Record<string, string>[], columns: ColumnInfo[]): RowFilter {
  return { kind: "any", filters: keys.map((k) => ({ kind: "all", filters: columns.map((column, i) => ({ kind: "equals", column, value: k[`k${i}`] })) })) };
}

export interface HeldRows {
  /** Rows held (0: nothing was changed in UAT, and settle does nothing). */
  rows: number;
  /** After the window's load: forgets the held rows whose key production wrote in this refresh (`written`: the target
   *  itself, or a merge's staging table of production's rows), puts the others back where they were removed, and
   *  returns their checksum, UAT's part of the window (undefined: the table is not verified). */
  settle(written?: TableRef): Promise<Checksum | undefined>;
}

const NOTHING: HeldRows = { rows: 0, settle: async () => undefined };

async function n(ctx: TableContext, q: { sql: string; params: readonly unknown[] }): Promise<number> {
  const [r] = await ctx.sessions.target.query<{ n: string | number }>(q);
  return Number(r?.n ?? 0);
}

/** Holds the rows UAT changed (beyond `upTo`, the plan's Watermark.upTo), as the caller's transaction sees them (counted again: a tester may have changed one
 *  since the plan); `remove`: also deletes them from the target (a window that is deleted and loaded again), else
 *  they stay there (a merged window never deletes them). */
export async function holdChangedRows(ctx: TableContext, upTo: string | null | undefined, remove: boolean): Promise<HeldRows> {
  const filter = changedInUat(ctx, upTo);
  if (!filter) return NOTHING;
  const rows = await n(ctx, ctx.dialect.compiler.countRows(ctx.targetTable, filter));
  if (!rows) return NOTHING;
  const rel = ctx.dialect.relations;
  const target = ctx.sessions.target;
  const held = rel.heldRowsTable(ctx.targetTable);
  const columns = [...ctx.columns.map((c) => c.target), ...ctx.uatOnly];
  for (const q of rel.holdRows(ctx.targetTable, held, columns.map((c) => c.name), filter)) await target.execute(q);
  if (remove) await target.execute(ctx.dialect.compiler.deleteRows(ctx.targetTable, filter));
  const key = keyOf(ctx);
  return {
    rows,
    async settle(written = ctx.targetTable) {
      if (key) await n(ctx, rel.deleteMatched(held, written, key));
      if (remove) await target.execute(rel.insertFromStaging(ctx.targetTable, held, columns.map((c) => c.name), columns.some((c) => c.identity)));
      const part = verifying(ctx) ? await targetChecksum(ctx, undefined, held) : undefined;
      await target.execute(rel.dropMergeStaging(held));
      return part;
    },
  };
}

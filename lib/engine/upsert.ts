// Loading rows by key instead of appending them: the source rows are staged (through the masking stage), rows that
// differ are updated, missing ones inserted, in the caller's transaction. Every row read must then be in the target
// under its key, or the unit fails: a run never reports rows it did not write. Identity windows (rows production
// committed out of order) and the appended members of refresh groups load this way; merged parents add the deletion
// of rows gone from the source (lib/engine/group-refresh).
import type { CompiledQuery, ForeignKey, RowFilter } from "../dialects/types";
import { type TableContext } from "./context";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";
import { copyRows } from "./copy";
import { mergeKey } from "./merge-key";
import { both, inUatRange, productionRows } from "./uat-rows";

export interface UpsertCounts {
  /** Rows read from the source (staged). */
  read: number;
  updated: number;
  inserted: number;
  /** The largest value of `cursor` among the rows read (text), when a cursor column was given. */
  last: string | null;
}

const count = async (ctx: TableContext, q: CompiledQuery) => Number((await ctx.sessions.target.query<{ n: string | number }>(q))[0]?.n ?? 0);

/** Columns a load writes on rows whose key production also has: all but the key, UAT's keep_columns and identity
 *  columns (SQL Server refuses to update one, Msg 8102, as PostgreSQL refuses a GENERATED ALWAYS one: a row matched
 *  by another key keeps the identity value it has). */
export function updatedColumns(ctx: TableContext, key: string[]): string[] {
  const kept = new Set((ctx.uat?.keepColumns ?? []).map((c) => c.toLowerCase()));
  return ctx.columns.filter((c) => !c.target.identity).map((c) => c.target.name).filter((c) => !key.includes(c) && !kept.has(c.toLowerCase()));
}

/**
 * Stages the rows of `query`, upserts them by the table's key and checks every one arrived. Returns the counts and a
 * function finishing a merge (deleting rows gone from the source inside `scope`, unless `keepers` still reference
 * them or a keep rule names them), for callers that merge.
 */
export async function stageAndUpsert(ctx: TableContext, query: CompiledQuery, opts: { cursor?: string; keepers?: ForeignKey[]; scope?: RowFilter; mergeReason?: string; onlyMissing?: boolean } = {}) {
  const rel = ctx.dialect.relations;
  const target = ctx.sessions.target;
  const staging = rel.mergeStaging(ctx.targetTable);
  // mergeReason: why the table must be merged (a merged member of a refresh group), for a refusal without a key.
  const key = mergeKey(ctx, opts.mergeReason);
  const columns = ctx.columns.map((c) => c.target.name);
  for (const q of rel.createMergeStaging(ctx.targetTable, staging, columns)) await target.execute(q);
  const read = await copyRows(ctx, query, staging);
  const spec = (scope: RowFilter | undefined) =>
    rel.mergeFromStaging(ctx.targetTable, staging, {
      key,
      columns,
      // onlyMissing: rows whose key the target has stay as they are (a row UAT changed since, or production's as copied).
      update: opts.onlyMissing ? [] : updatedColumns(ctx, key),
      keepers: opts.keepers ?? [],
      identity: ctx.columns.some((c) => c.target.identity),
      scope,
      keep: ctx.uat?.keep,
      types: Object.fromEntries(ctx.columns.map((c) => [c.target.name, c.target.nativeType])),
    });
  const stmts = spec(opts.scope);
  /** Counts the target's rows inside `scope` whose key the staged rows lack (after the delete: the ones that stayed). */
  const goneOf = (scope: RowFilter | undefined) => spec(scope).gone;
  const updated = read ? await count(ctx, stmts.update) : 0;
  const inserted = read ? await count(ctx, stmts.insert) : 0;
  // Every row read is in the target under its key now: a row lost on the way fails the unit, never "succeeded".
  const landed = read ? await count(ctx, rel.stagedRowsPresent(ctx.targetTable, staging, key)) : 0;
  if (landed !== read)
    throw new RefreshError(`${displayName(ctx.targetTable)}: ${read} row(s) were read but ${landed} are in the target under their key after the load; nothing of this unit was committed`);
  let last: string | null = null;
  if (opts.cursor && read) {
    const column = ctx.columns.find((c) => c.target.name.toLowerCase() === opts.cursor!.toLowerCase())!.target;
    last = (await target.query<{ hi: string | null }>(ctx.dialect.compiler.keyBounds(staging, column)))[0]?.hi ?? null;
  }
  const counts: UpsertCounts = { read, updated, inserted, last };
  return {
    counts,
    /** The target's rows whose key the staged rows lack (until `drop`). */
    unstaged: { kind: "unstaged", table: ctx.targetTable, staging, key } satisfies RowFilter,
    /** Deletes what the source no longer has (merges only): `kept` are production's rows gone from the source that
     *  stay because rows outside the refresh still reference them, `keptOfUat` rows of UAT's id range that stay so
     *  (rows a keep rule names are UAT's, not counted). */
    async finishMerge(): Promise<{ deleted: number; kept: number; keptOfUat: number }> {
      const gone = await count(ctx, stmts.gone);
      const deleted = gone ? await count(ctx, stmts.delete) : 0;
      // Of the rows that stayed, those in UAT's id range are UAT's own (a tester's customer a tester's order still
      // references): production never had them, so they do not stand between production's rows and the verification.
      const stayed = gone - deleted;
      const ofProduction = stayed && inUatRange(ctx.uat) ? await count(ctx, goneOf(both(opts.scope, productionRows(ctx.uat)))) : stayed;
      await target.execute(rel.dropMergeStaging(staging));
      return { deleted, kept: ofProduction, keptOfUat: stayed - ofProduction };
    },
    async drop() {
      await target.execute(rel.dropMergeStaging(staging));
    },
  };
}

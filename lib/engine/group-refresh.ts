// Executes a refresh group (lib/engine/groups.ts) in one target transaction, reading the source on one snapshot:
// triggers off, suspended keys dropped or unchecked, children cleared first, parents loaded first (merged where
// children keep their rows), suspended keys validated (a violation names the key and counts rows, never values),
// generators moved past the copied values. A failure or a kill anywhere leaves every table of the group as it was.
import type { ForeignKey } from "../dialects/types";
import { checkAborted, unitToCommit, type TableContext } from "./context";
import { displayName } from "./table-name";
import { RefreshError } from "./errors";
import { failpoint } from "./failpoints";
import { mergeReason, type Member, type RefreshGroup } from "./groups";
import { copyRows } from "./copy";
import { keyOf, mergeKey } from "./merge-key";
import { stageAndUpsert } from "./upsert";
import type { TablePlan } from "./strategies/types";
import { analyzeFirstLoad, analyzeTarget, emptyForReplace, resyncGenerators, suspendTriggers } from "./target-state";
import { changedInUat, leftBehind, sourceChecksum, targetSide, verifyAgainst, type LeftOut, type Checksum, type Verification } from "./verify";
import { holdChangedRows, productionWindow, upsertWindow, type HeldRows } from "./uat-changes";
import { insertLateRows } from "./late-rows";
import { sourceMaxOf } from "./watermark";

export interface GroupMember {
  member: Member;
  ctx: TableContext;
  plan: TablePlan;
}

export interface MergeCounts {
  updated: number;
  inserted: number;
  deleted: number;
  /** Production's rows gone from the source kept because rows outside the refresh still reference them. */
  kept: number;
  /** Rows of UAT's id range no rule keeps, kept because UAT's rows still reference them. */
  keptOfUat: number;
}

export interface MemberResult {
  /** Rows read from the source (a window loaded by key: every row of the window, changed or not). */
  read: number;
  /** Rows the load wrote: all it read, or where it loads by key, the rows it inserted or changed. */
  written: number;
  merge?: MergeCounts;
  /** Its copied rows compared with the source's after the commit (absent: not verified). */
  verification?: Verification;
  /** Date windows: production's rows UAT changed and kept (left out of the verification), and production's max as
   *  the group's snapshot read it (the watermark the refresh leaves). */
  uat?: Checksum;
  /** Appended members: rows UAT holds under production's ids that production does not (deleted there since they
   *  were copied), kept: left out of the verification. */
  leftOut?: LeftOut;
  copiedUpTo?: string | null;
}

const n = async (ctx: TableContext, q: { sql: string; params: readonly unknown[] }) => Number((await ctx.sessions.target.query<{ n: string | number }>(q))[0]?.n ?? 0);

export { mergeKey };

/** A merge's end: the rows it read from the source, what it did with them, and (a date window) production's rows
 *  UAT changed and kept. */
interface MergeDone {
  read: number;
  counts: MergeCounts;
  uat?: Checksum;
}

/** Merging, first half (parents first): stage the source rows, update rows that differ, insert new ones. The second
 *  half (children first, once every table is loaded) deletes rows gone from the source, unless still referenced or
 *  kept by rule. An incremental member (a merged parent's window, or a child's date window loaded by key) deletes
 *  only inside its window, production's rows only (lib/engine/uat-changes windowScope). */
async function mergeUpsert(g: GroupMember, keepers: ForeignKey[]) {
  const { ctx, plan } = g;
  // Nothing to update, keep or delete in an empty target (day 1, or emptied): it loads like a full replace.
  const [empty] = await ctx.sessions.target.query<{ empty: boolean | number }>(ctx.dialect.compiler.isEmpty(ctx.targetTable));
  if (Number(empty?.empty) === 1 || empty?.empty === true) {
    const inserted = await copyRows(ctx, plan.sourceQuery);
    return async (): Promise<MergeDone> => ({ read: inserted, counts: { updated: 0, inserted, deleted: 0, kept: 0, keptOfUat: 0 } });
  }
  // A date window's rows production has further below it that UAT lacks (lib/engine/late-rows): before its children,
  // and before the window's staging table exists.
  const late = plan.lateFrom && plan.filter?.kind === "atLeast" ? await insertLateRows(ctx, plan.lateFrom, plan.filter.value) : { read: 0, inserted: 0 };
  const { staged, uat } =
    plan.mode === "incremental"
      ? await upsertWindow(ctx, plan.sourceQuery, plan.filter, plan.changedAfter, { keepers, mergeReason: mergeReason(g.member) })
      : { staged: await stageAndUpsert(ctx, plan.sourceQuery, { keepers, mergeReason: mergeReason(g.member) }), uat: undefined };
  return async (): Promise<MergeDone> => {
    const { deleted, kept, keptOfUat } = await staged.finishMerge();
    return { read: staged.counts.read + late.read, counts: { updated: staged.counts.updated, inserted: staged.counts.inserted + late.inserted, deleted, kept, keptOfUat }, uat };
  };
}

/** An appended member (identity mode): its re-read window and new rows upserted by key. */
async function appendByKey(g: GroupMember): Promise<MemberResult> {
  const staged = await stageAndUpsert(g.ctx, g.plan.sourceQuery);
  const leftOut = g.plan.filter && (await leftBehind(g.ctx, g.plan.filter, staged.unstaged));
  await staged.drop();
  return { read: staged.counts.read, written: staged.counts.inserted + staged.counts.updated, leftOut };
}

/** `all`: the group's members in load order; `referencing`: every key that references any member. */
export async function executeGroup(group: RefreshGroup, all: GroupMember[], referencing: ForeignKey[]): Promise<Map<string, MemberResult>> {
  const first = all[0].ctx;
  const rel = first.dialect.relations;
  const results = new Map<string, MemberResult>();
  const sides = new Map<string, { source: Checksum; inTransaction?: Checksum }>();
  // The sessions are read at each attempt: a retry after a dropped connection runs on the reopened ones. Once the
  // transaction commits, each member's rows count as committed, and only the verification is retried.
  const committedRows = () => {
    for (const m of all) m.ctx.progress.commitUnit(results.get(m.member.name)?.written ?? 0);
  };
  return unitToCommit(first, (committed) => {
    const { source, target } = first.sessions;
    return source.snapshot(async () =>
      committed(await target.transaction(async () => {
        results.clear();
        const triggersBack: (() => Promise<void>)[] = [];
        for (const m of all) triggersBack.push(await suspendTriggers(m.ctx));
        for (const k of group.suspended) await target.execute(rel.suspendForeignKey(k));

        // Clear, children first: replaced members in one statement (PostgreSQL truncates a referenced table only
        // together with the tables that reference it), then re-synced windows.
        const reversed = [...all].reverse();
        const replaced = reversed.filter((m) => m.plan.mode === "full_replace" && !group.merged.has(m.member.name) && !group.partlyEmptied.has(m.member.name));
        if (replaced.length) {
          first.progress.phase("loading", { message: `emptying ${replaced.map((m) => m.member.name).join(", ")}` });
          const truncate = replaced.every((m) => m.ctx.config.truncate_target);
          for (const q of rel.emptyTables(replaced.map((m) => m.ctx.targetTable), truncate, referencing)) await target.execute(q);
        }
        // Keep rules on tables without a key to merge on: every row but the kept ones, as on their own (only tables
        // emptied whole reference them, and those were emptied above).
        for (const m of reversed) if (group.partlyEmptied.has(m.member.name)) await emptyForReplace(m.ctx);
        // A re-synced window loses production's rows only: UAT's own rows (its id range, kept by rule) stay, and so do
        // production's rows UAT changed since the last refresh (held aside, put back after the load).
        // A window with a key is loaded by key instead (a row production changed since is updated where it is).
        const byKey = new Set<string>();
        for (const m of all) if (group.merged.has(m.member.name) || (m.member.kind === "window" && keyOf(m.ctx) !== null)) byKey.add(m.member.name);
        const held = new Map<string, HeldRows>();
        for (const m of reversed) {
          if (m.member.kind !== "window" || byKey.has(m.member.name)) continue;
          held.set(m.member.name, await holdChangedRows(m.ctx, m.plan.changedAfter, true));
          if (m.plan.filter) await target.execute(m.ctx.dialect.compiler.deleteRows(m.ctx.targetTable, productionWindow(m.ctx, m.plan.filter)!));
        }

        // Load, parents first; merged members delete what the source no longer has afterwards, children first.
        const deletes: [GroupMember, () => Promise<MergeDone>][] = [];
        for (const m of all) {
          checkAborted(m.ctx);
          m.ctx.progress.phase("loading", { message: byKey.has(m.member.name) ? `merging ${displayName(m.ctx.targetTable)}` : `loading ${displayName(m.ctx.targetTable)}` });
          if (byKey.has(m.member.name)) deletes.unshift([m, await mergeUpsert(m, group.keepers.get(m.member.name) ?? [])]);
          else if (m.member.kind === "append") results.set(m.member.name, await appendByKey(m));
          else {
            const rows = await copyRows(m.ctx, m.plan.sourceQuery);
            results.set(m.member.name, { read: rows, written: rows, uat: await held.get(m.member.name)?.settle() });
          }
          await failpoint("between-group-tables");
        }
        for (const [m, finish] of deletes) {
          const { read, counts, uat } = await finish();
          results.set(m.member.name, { read, written: counts.inserted + counts.updated, merge: counts, uat });
        }
        // Where each date window's copy stands: production's max on the group's snapshot.
        for (const m of all) if (m.plan.mode === "incremental" && m.ctx.config.incremental_type !== "identity") results.get(m.member.name)!.copiedUpTo = (await sourceMaxOf(m.ctx)) ?? null;

        // The keys that were not checked during the load must hold before anything commits.
        for (const k of group.suspended) {
          const broken = await n(first, rel.foreignKeyViolations(k));
          if (broken > 0)
            throw new RefreshError(
              `foreign key ${k.name} of ${displayName(k.table)} (${k.columns.join(", ")}) -> ${displayName(k.referenced)}: ${broken} row(s) reference a missing row after the load; nothing was committed`,
              { hint: `The source itself breaks ${k.name} (or the masking rules changed a key column): fix the source rows or the rules. Every table of the group keeps its previous rows.` },
            );
          await target.execute(rel.restoreForeignKey(k));
        }
        for (const m of all) await resyncGenerators(m.ctx);
        for (const back of triggersBack) await back();
        for (const m of all) {
          if (m.plan.mode === "full_replace") await analyzeTarget(m.ctx);
          // An incremental member's first copy (no production row in UAT before it), as on its own.
          else if (m.plan.mode === "incremental" && m.plan.watermarkBefore === null && results.get(m.member.name)?.written) await analyzeFirstLoad(m.ctx);
        }
        // The source side of every member on the group's snapshot. A merged member that kept production's rows gone
        // from the source (still referenced) differs from it by design: not verified. UAT's own rows it kept are left
        // out of the target's side, as everywhere.
        sides.clear();
        for (const m of all) {
          if ((results.get(m.member.name)?.merge?.kept ?? 0) > 0) continue;
          const source = await sourceChecksum(m.ctx, m.plan.filter);
          if (source) sides.set(m.member.name, { source, inTransaction: await targetSide(m.ctx, m.plan.filter) });
        }
        checkAborted(first);
        await failpoint("before-commit");
        return results;
      })),
    );
  }, committedRows, async () => {
    // After the commit: each member's target side (or the one read before the post-refresh steps) against its source's.
    for (const m of all) {
      const side = sides.get(m.member.name);
      const r = results.get(m.member.name);
      if (side && r) {
        m.ctx.progress.phase("verifying");
        r.verification = await verifyAgainst(m.ctx, side.source, m.plan.filter, side.inTransaction, r.leftOut ?? changedInUat(r.uat));
      }
    }
    return results;
  });
}

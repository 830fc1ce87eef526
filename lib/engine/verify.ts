// Verification after the refresh: the rows a unit copied are counted and checksummed on the source, on the copy's own
// snapshot, and on the target after the commit (production's rows only: UAT's kept rows and id range left out). Masked
// columns, UAT's keep_columns and columns whose types differ between the sides are left out of the checksum (their
// values differ by design or print differently; a column UAT only widened is compared); the count covers every row.
// A difference fails the table: the rows were committed, and the run says they differ from what was read.
import type { ColumnInfo, CompiledQuery, RowFilter, TableRef } from "../dialects/types";
import { readChecksum, withoutChecksum, type Checksum } from "./checksum";
import { sameValueText } from "./native-type";
import { onTarget, type TableContext } from "./context";
import { both, productionRows } from "./uat-rows";

export type { Checksum } from "./checksum";

export interface Verification {
  ok: boolean;
  /** Rows counted on both sides. */
  rows: number;
  /** What was compared, or how the sides differ. */
  detail: string;
  /** Rows of the target's side left out as not production's copy (said in `detail`). */
  leftOut?: { rows: number; what: string };
}

/** A column left out of the checksum (its rows are counted), and why. */
interface LeftColumn {
  name: string;
  why: string;
}

/** The columns whose values must be equal on both sides, and the ones left out with their reason. */
function compared(ctx: TableContext): { source: ColumnInfo[]; target: ColumnInfo[]; left: LeftColumn[] } {
  const kept = new Set((ctx.uat?.keepColumns ?? []).map((c) => c.toLowerCase()));
  const out = { source: [] as ColumnInfo[], target: [] as ColumnInfo[], left: [] as LeftColumn[] };
  for (const c of ctx.columns) {
    const name = c.target.name.toLowerCase();
    const why = ctx.masking?.masked.has(name)
      ? "masked"
      : kept.has(name)
        ? "UAT's own values, keep_columns"
        : !sameValueText(c.source, c.target)
          ? `${c.source.nativeType} in production, ${c.target.nativeType} in UAT`
          : undefined;
    if (why) out.left.push({ name: c.target.name, why });
    else {
      out.source.push(c.source);
      out.target.push(c.target);
    }
  }
  return out;
}

const notCompared = (left: LeftColumn[]) => left.map((l) => `${l.name} (${l.why})`).join(", ");

/** What the verification will compare, said by the plan (the dry run shows it before anything is written).
 *  `merged`: a parent merged in its refresh group, which is not verified where it keeps rows production deleted. */
export function verificationPlan(ctx: TableContext, merged = false, mode?: string): string {
  if (!verifying(ctx)) return "not verified (verify: false)";
  const cols = compared(ctx);
  const values = cols.source.length ? `the values of ${cols.source.length} of ${ctx.columns.length} column(s)` : "no column's values";
  // The rows an incremental copy leaves as they are, which the verification then leaves out (and says how many).
  const identity = ctx.config.incremental_type === "identity";
  const leftOut = mode !== "incremental" ? "" : identity ? `rows ${IDENTITY_LEFT_OUT}` : `production's rows ${CHANGED_IN_UAT} (they stay as UAT has them)`;
  const parts = [
    `row counts and ${values}, on both sides after the commit`,
    cols.left.length ? `counted only: ${notCompared(cols.left)}` : "",
    leftOut ? `left out, counted and said: ${leftOut}` : "",
    merged ? "not verified if the merge keeps rows production no longer has (UAT's rows still reference them)" : "",
  ];
  return parts.filter(Boolean).join("; ");
}

function checksum(ctx: TableContext, role: "source" | "target", columns: ColumnInfo[], filter: RowFilter | undefined, on?: TableRef): Promise<Checksum> {
  const table = on ?? (role === "source" ? ctx.sourceTable : ctx.targetTable);
  return readChecksum(ctx.sessions[role], ctx.dialect.compiler.checksum(table, columns, filter));
}

/** Whether this table's refreshes are verified (the table's `verify`, on unless turned off). */
export function verifying(ctx: TableContext): boolean {
  return ctx.config.verify !== false;
}

/** The source side, read inside the unit (on the copy's snapshot). `window`: the source-side filter of the copy.
 *  Undefined for a table that is not verified. */
export async function sourceChecksum(ctx: TableContext, window?: RowFilter): Promise<Checksum | undefined> {
  return verifying(ctx) ? checksum(ctx, "source", compared(ctx).source, window) : undefined;
}

/** The statement of the source side over `filter` (one stream's slice, read by that stream's own session);
 *  undefined for a table that is not verified. */
export function sourceChecksumQuery(ctx: TableContext, filter: RowFilter): CompiledQuery | undefined {
  return verifying(ctx) ? ctx.dialect.compiler.checksum(ctx.sourceTable, compared(ctx).source, filter) : undefined;
}

/** The target's production rows (in `window`), as the session sees them now; `on`: a staging table of the target's
 *  shape instead (the rows a switch is about to put in). */
export function targetChecksum(ctx: TableContext, window?: RowFilter, on?: TableRef): Promise<Checksum> {
  return checksum(ctx, "target", compared(ctx).target, targetRows(ctx, window), on);
}

function targetRows(ctx: TableContext, window?: RowFilter): RowFilter | undefined {
  return both(window && onTarget(ctx, window), productionRows(ctx.uat));
}

/** What identity mode's left-out rows are, as the verification says it. */
const IDENTITY_LEFT_OUT = "UAT holds under production's ids that production does not (deleted there since they were copied; identity mode never deletes)";
/** What a date window's left-out rows are, as the verification says it. */
const CHANGED_IN_UAT = "UAT changed since the last refresh";

/** Identity mode: the target's production rows in `window` whose key the page's staged rows lack (rows production
 *  deleted since they were copied: identity mode adds and updates, never deletes). Read before the staging table
 *  goes; left out of the target's side, and said. Undefined for a table that is not verified. */
export async function leftBehind(ctx: TableContext, window: RowFilter, unstaged: RowFilter): Promise<LeftOut | undefined> {
  if (!verifying(ctx)) return undefined;
  return { rows: await checksum(ctx, "target", compared(ctx).target, both(targetRows(ctx, window), unstaged)), what: IDENTITY_LEFT_OUT };
}

/** The target's side, read inside the refresh's transaction when post-refresh steps change the table before its
 *  commit (the rows as loaded, which the commit keeps with the steps' changes on top), else after the commit. */
export async function targetSide(ctx: TableContext, window?: RowFilter, on?: TableRef): Promise<Checksum | undefined> {
  return verifying(ctx) && ctx.stepsInTransaction.length ? targetChecksum(ctx, window, on) : undefined;
}

/** Several units' verifications (committed batches, partitions) as the table's one: the first that differs, named,
 *  else every row of every unit equal. None verified: undefined. */
export function unitsVerified(units: { label: string; verification?: Verification }[], what: string): Verification | undefined {
  const done = units.filter((u): u is { label: string; verification: Verification } => !!u.verification);
  if (!done.length) return undefined;
  const failed = done.find((u) => !u.verification.ok);
  if (failed) return { ...failed.verification, detail: `${failed.label}: ${failed.verification.detail}` };
  const rows = done.reduce((n, u) => n + u.verification.rows, 0);
  const unverified = units.length - done.length;
  const left = new Map<string, number>();
  for (const u of done) if (u.verification.leftOut) left.set(u.verification.leftOut.what, (left.get(u.verification.leftOut.what) ?? 0) + u.verification.leftOut.rows);
  const leftOut = [...left].map(([why, n]) => `, ${n} row(s) ${why} left out`).join("");
  return { ok: true, rows, detail: `verified: ${rows} row(s) in ${done.length} ${what}, counts and checksums equal${leftOut}${unverified ? ` (${unverified} more not verified)` : ""}` };
}

/** Rows of the target's window left out of its side, and what they are (said in the result). */
export interface LeftOut {
  rows: Checksum;
  what: string;
}

/** Production's rows of the window UAT changed since the last refresh, and keeps (lib/engine/uat-changes). */
export function changedInUat(rows: Checksum | undefined): LeftOut | undefined {
  return rows && { rows, what: CHANGED_IN_UAT };
}

/** The target side (`inTransaction`, or read now, after the commit), compared with the source's (none: not verified).
 *  `left`: rows of the window that are not production's copy (production's rows UAT changed and kept, rows production
 *  deleted that identity mode keeps), left out of the target's side. */
export async function verifyAgainst(ctx: TableContext, source: Checksum | undefined, window?: RowFilter, inTransaction?: Checksum, left?: LeftOut): Promise<Verification | undefined> {
  if (!source) return undefined;
  return compare(ctx, source, withoutChecksum(inTransaction ?? (await targetChecksum(ctx, window)), left?.rows), window, !!inTransaction, left);
}

export type PendingChecksum = Promise<PromiseSettledResult<Checksum | undefined>>;

/** The source's side, started now on the source's own session (inside the copy's snapshot, once the copy has read
 *  its last row) and awaited after the target's commit with `verifyPending`: the two sides' reads overlap instead of
 *  adding up. Settled, never rejected: by the time it fails the target may have committed. The caller awaits it
 *  before its snapshot ends (a session takes one request at a time). */
export function startSourceChecksum(ctx: TableContext, window?: RowFilter): PendingChecksum {
  return sourceChecksum(ctx, window).then(
    (value) => ({ status: "fulfilled", value }),
    (reason: unknown) => ({ status: "rejected", reason }),
  );
}

/** After the commit: the target read (unless read in the transaction) while the source's pending checksum ends.
 *  A side that could not be read is a verification that failed: the rows are committed either way. */
export async function verifyPending(ctx: TableContext, pending: PendingChecksum, window?: RowFilter, inTransaction?: Checksum): Promise<Verification | undefined> {
  const unread = (side: string, e: unknown): Verification => ({ ok: false, rows: 0, detail: `${side} checksum could not be read after the commit: ${e instanceof Error ? e.message : String(e)}` });
  const [source, target] = await Promise.all([pending, inTransaction || !verifying(ctx) ? undefined : targetChecksum(ctx, window).then((value) => ({ value }), (reason: unknown) => ({ reason }))]);
  if (source.status === "rejected") return unread("production's", source.reason);
  if (!source.value) return undefined;
  if (target && "reason" in target) return unread("UAT's", target.reason);
  return compare(ctx, source.value, inTransaction ?? target!.value, window, !!inTransaction);
}

function compare(ctx: TableContext, source: Checksum, target: Checksum, window: RowFilter | undefined, inTransaction: boolean, left?: LeftOut): Verification {
  const cols = compared(ctx);
  const where = window ? "the copied window" : "the whole table";
  const scope = [
    where,
    cols.left.length ? `counted only: ${notCompared(cols.left)}` : "",
    left?.rows.rows ? `${left.rows.rows} row(s) ${left.what} left out` : "",
    inTransaction ? `read before the post-refresh step(s) ${ctx.stepsInTransaction.join(", ")} in the same transaction` : "",
  ].filter(Boolean).join("; ");
  if (target.rows !== source.rows) return { ok: false, rows: target.rows, detail: `production has ${source.rows} row(s) in ${where}, UAT ${target.rows} after the commit` };
  if (cols.source.length && target.sum !== source.sum) return { ok: false, rows: target.rows, detail: `${target.rows} row(s) on both sides, but their values differ (checksums of ${scope})` };
  const leftOut = left?.rows.rows ? { leftOut: { rows: left.rows.rows, what: left.what } } : {};
  return { ok: true, rows: target.rows, detail: `verified: ${target.rows} row(s), counts and checksums equal (${scope})`, ...leftOut };
}

// A staging load in parallel streams: each key slice on its own source and target sessions and its own thread, all
// reading one snapshot where the engine can share one (PostgreSQL), progress summed. The first failure or a cancel
// stops every stream; the staging table is private to the run, so the target is untouched either way.
import type { ColumnFilter, ColumnInfo, TableRef } from "../../dialects/types";
import { RefreshError, type TableContext } from "../context";
import { MASKING_KEY_ENV } from "../masking/stage";
import { copyRows, sourceQuery } from "../copy";
import { sourceChecksum, type Checksum } from "../verify";
import { runStreamJob, type StreamJob } from "./job";
import { planSlices } from "./plan";
import type { KeySlice } from "./split";
import { runOnThread, threadEntry } from "./threads";

export interface StagingLoad {
  rows: number;
  streams: number;
  /** The streams after the first ran on worker threads (else all on this one). */
  threads: boolean;
  /** With `verify`: the source's count and checksum of what was loaded, read on the load's own snapshot (absent: the
   *  table is not verified, or the streams had no snapshot to share and read the source at their own moments). */
  source?: Checksum;
}

/** One job per slice: plain data a thread can take (the masking key read now, kept in memory). */
function jobsFor(ctx: TableContext, staging: TableRef, key: ColumnInfo, slices: KeySlice[], within: ColumnFilter | undefined, snapshot: string | undefined): StreamJob[] {
  const { source, target } = ctx.sessions.endpoints!;
  return slices.map((slice, i) => ({
    source,
    target,
    last: i === slices.length - 1,
    query: sourceQuery(ctx, { kind: "slice", column: key, ...slice, within }),
    staging,
    columns: ctx.columns,
    batchSize: ctx.batchSize,
    ...(snapshot ? { snapshot } : {}),
    ...(ctx.masking ? { masking: { targetTable: ctx.targetTable, ...ctx.masking.from, env: { [MASKING_KEY_ENV]: process.env[MASKING_KEY_ENV] } } } : {}),
  }));
}

/** Runs every job; the first failure stops the others and is the one thrown. The first job runs on this thread: its
 *  rows flow at once while the other threads load the engine (about half a second each, longer when they outnumber
 *  the cores), so no stream count delays the first rows. */
export async function runStreamJobs(jobs: StreamJob[], onRows: (i: number, rows: number, bytes: number) => void, stop: AbortController): Promise<number> {
  const entry = threadEntry();
  let first: unknown;
  const runs = jobs.map((job, i) =>
    (entry && i > 0 ? runOnThread(entry, job, (r, b) => onRows(i, r, b), stop.signal) : runStreamJob(job, (r, b) => onRows(i, r, b), stop.signal)).catch((e) => {
      first ??= e;
      stop.abort();
      throw e;
    }),
  );
  const settled = await Promise.allSettled(runs);
  if (settled.some((s) => s.status === "rejected")) throw first;
  return settled.reduce((sum, r) => sum + (r as PromiseFulfilledResult<number>).value, 0);
}

export async function loadInStreams(ctx: TableContext, staging: TableRef, within: ColumnFilter | undefined, rowsExpected: number, label?: { partition: string }, opts: { verify?: boolean } = {}): Promise<StagingLoad> {
  const plan = await planSlices(ctx, rowsExpected, within);
  const source = ctx.sessions.source;
  if (!plan.slices) {
    const load = async () => ({ rows: await copyRows(ctx, sourceQuery(ctx, within), staging, label), streams: 1, threads: false, source: opts.verify ? await sourceChecksum(ctx, within) : undefined });
    return opts.verify ? source.snapshot(load) : load();
  }
  const stop = new AbortController();
  const cancel = () => stop.abort();
  ctx.signal?.addEventListener("abort", cancel, { once: true });
  const done = plan.slices.map(() => ({ rows: 0, bytes: 0 }));
  const onRows = (i: number, rows: number, bytes: number) => {
    done[i] = { rows, bytes };
    ctx.progress.update(done.reduce((s, d) => s + d.rows, 0), done.reduce((s, d) => s + d.bytes, 0), label);
  };
  // One snapshot for every stream where it can be shared (PostgreSQL); elsewhere each stream reads the source as it
  // is when it starts (SQL Server has no shared snapshot: holding one open here would only grow tempdb).
  const shared = <T>(fn: (snapshot?: string) => Promise<T>) => (source.exportSnapshot ? source.snapshot(async () => fn(await source.exportSnapshot!())) : fn());
  try {
    const { rows, sum } = await shared(async (snapshot) => {
      const rows = await runStreamJobs(jobsFor(ctx, staging, plan.key, plan.slices, within, snapshot), onRows, stop);
      // Verified only on the snapshot the streams shared: without one each read its own moment of the source.
      return { rows, sum: opts.verify && snapshot ? await sourceChecksum(ctx, within) : undefined };
    });
    ctx.progress.update(rows, done.reduce((s, d) => s + d.bytes, 0), label);
    return { rows, streams: plan.slices.length, threads: !!threadEntry(), source: sum };
  } catch (e) {
    throw ctx.signal?.aborted ? new RefreshError("refresh cancelled") : e;
  } finally {
    ctx.signal?.removeEventListener("abort", cancel);
  }
}

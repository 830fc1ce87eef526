// A staging load in parallel streams: each key slice on its own source and target sessions and its own thread, all
// reading one snapshot where the engine can share one (PostgreSQL), progress summed. The first failure or a cancel
// stops every stream; the staging table is private to the run, so the target is untouched either way.
import type { ColumnFilter, ColumnInfo, TableRef } from "../../dialects/types";
import { type TableContext } from "../context";
import { RefreshError } from "../errors";
import { MASKING_KEY_ENV } from "../masking/stage";
import { copyRows, sourceQuery } from "../copy";
import { sourceChecksum, sourceChecksumQuery } from "../verify";
import { addChecksums, type Checksum } from "../checksum";
import { runStreamJob, type StreamJob, type StreamResult } from "./job";
import { planSlices } from "./plan";
import type { KeySlice } from "./split";
import { runOnThread, threadEntry } from "./threads";

export interface StagingLoad {
  rows: number;
  streams: number;
  /** The streams after the first ran on worker threads (else all on this one). */
  threads: boolean;
  /** With `verify`: the source's count and checksum of what was loaded, read on the load's own snapshot, or with
   *  streams that share none, each slice's on the snapshot its stream read (absent: the table is not verified). */
  source?: Checksum;
}

/** One job per slice: plain data a thread can take (the masking key read now, kept in memory). `perStream`: each
 *  stream checksums its own slice (no snapshot shared). */
function jobsFor(ctx: TableContext, staging: TableRef, key: ColumnInfo, slices: KeySlice[], within: ColumnFilter | undefined, snapshot: string | undefined, perStream: boolean): StreamJob[] {
  const { source, target } = ctx.sessions.endpoints!;
  return slices.map((slice, i) => ({
    source,
    target,
    last: i === slices.length - 1,
    query: sourceQuery(ctx, { kind: "slice", column: key, ...slice, within }),
    ...(perStream ? { checksum: sourceChecksumQuery(ctx, { kind: "slice", column: key, ...slice, within }) } : {}),
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
export async function runStreamJobs(jobs: StreamJob[], onRows: (i: number, rows: number, bytes: number) => void, stop: AbortController): Promise<StreamResult[]> {
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
  return settled.map((r) => (r as PromiseFulfilledResult<StreamResult>).value);
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
  // is when it starts (SQL Server has no shared snapshot: holding one open here would only grow tempdb) and
  // checksums its own slice on the snapshot it read it on: the slices' sums add up to what was loaded.
  const shared = <T>(fn: (snapshot?: string) => Promise<T>) => (source.exportSnapshot ? source.snapshot(async () => fn(await source.exportSnapshot!())) : fn());
  try {
    const { rows, sum } = await shared(async (snapshot) => {
      const perStream = !!opts.verify && !snapshot;
      const results = await runStreamJobs(jobsFor(ctx, staging, plan.key, plan.slices, within, snapshot, perStream), onRows, stop);
      const rows = results.reduce((n, r) => n + r.rows, 0);
      if (!opts.verify) return { rows, sum: undefined };
      return { rows, sum: snapshot ? await sourceChecksum(ctx, within) : addChecksums(results.map((r) => r.checksum)) };
    });
    ctx.progress.update(rows, done.reduce((s, d) => s + d.bytes, 0), label);
    return { rows, streams: plan.slices.length, threads: !!threadEntry(), source: sum };
  } catch (e) {
    throw ctx.signal?.aborted ? new RefreshError("refresh cancelled") : e;
  } finally {
    ctx.signal?.removeEventListener("abort", cancel);
  }
}

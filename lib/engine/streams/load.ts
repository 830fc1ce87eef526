// A staging load in parallel streams: each key slice on its own source and target sessions and its own thread, all
// reading one snapshot where the engine can share one (PostgreSQL), progress summed. The first failure or a cancel
// stops every stream; the staging table is private to the run, so the target is untouched either way.
import type { RowFilter, TableRef } from "../../dialects/types";
import { RefreshError, type TableContext } from "../context";
import { MASKING_KEY_ENV } from "../masking/stage";
import { loadStaging } from "../staging";
import { runStreamJob, type StreamJob } from "./job";
import { planSlices } from "./plan";
import { runOnThread, threadEntry } from "./threads";

export interface StagingLoad {
  rows: number;
  streams: number;
  /** The streams ran on worker threads (else on this one). */
  threads: boolean;
  why: string;
}

export async function loadInStreams(ctx: TableContext, staging: TableRef, within: RowFilter | undefined, rowsExpected: number, label?: { partition: string }): Promise<StagingLoad> {
  const plan = await planSlices(ctx, rowsExpected, within);
  if (!plan.slices) return { rows: await loadStaging(ctx, staging, within, label), streams: 1, threads: false, why: plan.why };
  const { key, slices } = plan;
  const endpoints = ctx.sessions.endpoints!;
  const entry = threadEntry();
  const stop = new AbortController();
  const cancel = () => stop.abort();
  ctx.signal?.addEventListener("abort", cancel, { once: true });
  const done = slices.map(() => ({ rows: 0, bytes: 0 }));
  const report = () => ctx.progress.update(done.reduce((s, d) => s + d.rows, 0), done.reduce((s, d) => s + d.bytes, 0), label);
  let first: unknown;
  try {
    // One snapshot for every stream where it can be shared (PostgreSQL); elsewhere each stream reads the source as
    // it is when it starts (SQL Server has no shared snapshot: holding one open here would only grow tempdb).
    const source = ctx.sessions.source;
    const shared = <T>(fn: (snapshot?: string) => Promise<T>) => (source.exportSnapshot ? source.snapshot(async () => fn(await source.exportSnapshot!())) : fn());
    const rows = await shared(async (snapshot) => {
      const jobs: StreamJob[] = slices.map((slice) => ({
        source: endpoints.source,
        target: endpoints.target,
        query: ctx.dialect.compiler.selectRows(ctx.sourceTable, ctx.columns.map((c) => c.source), { kind: "slice", column: key, ...slice, within }, undefined, undefined, ctx.masking?.expressions),
        staging,
        columns: ctx.columns,
        batchSize: ctx.batchSize,
        ...(snapshot ? { snapshot } : {}),
        ...(ctx.masking ? { masking: { targetTable: ctx.targetTable, ...ctx.masking.from, env: { [MASKING_KEY_ENV]: process.env[MASKING_KEY_ENV] } } } : {}),
      }));
      const runs = jobs.map((job, i) => {
        const onRows = (rows: number, bytes: number) => {
          done[i] = { rows, bytes };
          report();
        };
        return (entry ? runOnThread(entry, job, onRows, stop.signal) : runStreamJob(job, onRows, stop.signal)).then(
          (rows) => {
            done[i].rows = rows;
            report();
            return rows;
          },
          (e) => {
            // The first failure is the cause; the others are the streams it stopped.
            first ??= e;
            stop.abort();
            throw e;
          },
        );
      });
      const settled = await Promise.allSettled(runs);
      if (settled.some((s) => s.status === "rejected")) throw ctx.signal?.aborted ? new RefreshError("refresh cancelled") : first;
      return settled.reduce((s, r) => s + (r as PromiseFulfilledResult<number>).value, 0);
    });
    return { rows, streams: slices.length, threads: !!entry, why: plan.why };
  } finally {
    ctx.signal?.removeEventListener("abort", cancel);
  }
}

// One parallel stream: its own source session reads one key slice, the masking stage rewrites it, its own target
// session bulk-loads it into the staging table. The same function runs on a worker thread (one core per stream:
// drivers encode rows on their thread's event loop) or, where no thread can be started, on this one.
import type { MaskRule } from "../../config/masking";
import { dialectFor } from "../../dialects";
import type { ColumnInfo, CompiledQuery, Session, TableRef } from "../../dialects/types";
import { connectTo, type Endpoint } from "../connections";
import { compileMasking } from "../masking/stage";

/** Plain data (it crosses to a worker thread): where to read, what, and where to write. */
export interface StreamJob {
  source: Endpoint;
  target: Endpoint;
  query: CompiledQuery;
  staging: TableRef;
  columns: { source: ColumnInfo; target: ColumnInfo }[];
  batchSize: number;
  /** The snapshot every stream reads (PostgreSQL); absent: each stream reads the source as it is. */
  snapshot?: string;
  masking?: { targetTable: TableRef; rules: MaskRule[]; unique: string[] };
}

export async function runStreamJob(job: StreamJob, onRows: (rows: number, bytes: number) => void, signal: AbortSignal): Promise<number> {
  const sessions: Session[] = [];
  // A cancel ends both sessions at once: the read and the load fail where they are, and the staging table (private
  // to the run) is dropped by the run.
  const stop = () => sessions.forEach((s) => s.destroy());
  signal.addEventListener("abort", stop, { once: true });
  try {
    const source = await connectTo(job.source);
    sessions.push(source);
    const target = await connectTo(job.target);
    sessions.push(target);
    if (signal.aborted) throw new Error("stream cancelled");
    if (job.snapshot) await source.joinSnapshot?.(job.snapshot);
    const dialect = dialectFor(job.target.engine);
    let rows = await source.exportRows(job.query);
    if (job.masking) {
      const m = compileMasking(job.masking.rules, { targetTable: job.masking.targetTable, columns: job.columns }, new Set(job.masking.unique));
      if (m?.positions.length) rows = dialect.mapRows(rows, m.positions, m.map);
    }
    return await target.importRows(job.staging, job.columns.map((c) => c.target.name), rows, { batchSize: job.batchSize, onRows });
  } finally {
    signal.removeEventListener("abort", stop);
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  }
}

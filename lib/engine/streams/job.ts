// One parallel stream: its own source session reads one key slice, the masking stage rewrites it, its own target
// session bulk-loads it into the staging table. The same function runs on a worker thread (one core per stream:
// drivers encode rows on their thread's event loop) or, where no thread can be started, on this one.
import type { Readable } from "node:stream";
import type { MaskRule } from "../../config/masking";
import { dialectFor } from "../../dialects";
import type { ColumnInfo, CompiledQuery, RowStream, Session, TableRef } from "../../dialects/types";
import { connectTo, type Endpoint } from "../connections";
import { compileMasking } from "../masking/stage";
import { failpoint } from "../failpoints";
import { readChecksum, type Checksum } from "../checksum";
import { sessionEnded } from "../session-ended";

/** Plain data (it crosses to a worker thread): where to read, what, and where to write. */
export interface StreamJob {
  source: Endpoint;
  target: Endpoint;
  query: CompiledQuery;
  staging: TableRef;
  columns: { source: ColumnInfo; target: ColumnInfo }[];
  batchSize: number;
  /** The last of its load's streams (where the fault tests park one). */
  last?: boolean;
  /** The snapshot every stream reads (PostgreSQL); absent: each stream reads the source as it is. */
  snapshot?: string;
  /** Without a shared snapshot (SQL Server): the count and checksum of this slice, read by this stream's source
   *  session on the snapshot it read the slice on, so the slices' sums add up to exactly what was loaded. */
  checksum?: CompiledQuery;
  /** The masking stage's rules and, as the run reads it now, the key they derive values from (a pooled thread's
   *  own copy of the environment may be older than the run). */
  masking?: { targetTable: TableRef; rules: MaskRule[]; unique: string[]; env: Record<string, string | undefined> };
}

export interface StreamResult {
  rows: number;
  /** The slice's source checksum (the job's `checksum`). */
  checksum?: Checksum;
}

export async function runStreamJob(job: StreamJob, onRows: (rows: number, bytes: number) => void, signal: AbortSignal): Promise<StreamResult> {
  const sessions: Session[] = [];
  // A cancel ends both sessions at once: the read and the load fail where they are, and the staging table (private
  // to the run) is dropped by the run.
  const stop = () => sessions.forEach((s) => s.destroy());
  signal.addEventListener("abort", stop, { once: true });
  let exported: Readable | undefined;
  try {
    const masking = job.masking && compileMasking(job.masking.rules, { targetTable: job.masking.targetTable, columns: job.columns, engine: job.target.engine }, new Set(job.masking.unique), job.masking.env);
    // Both at once (each a TLS handshake and a sign-in); whichever opened is closed below if the other failed.
    const opened = await Promise.allSettled([connectTo(job.source), connectTo(job.target)]);
    for (const o of opened) if (o.status === "fulfilled") sessions.push(o.value);
    const failed = opened.find((o) => o.status === "rejected");
    if (failed) throw failed.reason;
    const [source, target] = sessions;
    if (signal.aborted) throw new Error("stream cancelled");
    if (job.snapshot) await source.joinSnapshot?.(job.snapshot);
    const load = async (): Promise<StreamResult> => {
      let rows: RowStream = await source.exportRows(job.query);
      exported = rows.stream;
      // The last stream parks here under the fault tests (its read started, nothing of it loaded).
      if (job.last) await failpoint("stream-loading");
      if (masking?.positions.length) rows = dialectFor(job.target.engine).mapRows(rows, masking.positions, masking.map);
      // The staging table is the target's twin: its columns are the ones the plan read (no catalog read per stream).
      const n = await target.importRows(job.staging, job.columns.map((c) => c.target.name), rows, { batchSize: job.batchSize, onRows, columnInfo: job.columns.map((c) => c.target) });
      return { rows: n, ...(job.checksum ? { checksum: await readChecksum(source, job.checksum) } : {}) };
    };
    const result = job.checksum ? await source.snapshot(load) : await load();
    // Both sessions answer once more before they close: the copies' last protocol messages are read by then, so
    // closing cannot fail a statement still finishing on the wire (an error that would surface in the thread's next job).
    await Promise.all([source, target].map((s) => s.query({ sql: "SELECT 1", params: [] })));
    return result;
  } catch (e) {
    // An unfinished read is ended with the failure, so closing its session cannot raise it a second time later.
    exported?.destroy();
    throw sessions.length === 2 ? sessionEnded(e, { source: sessions[0], target: sessions[1] }) : e;
  } finally {
    signal.removeEventListener("abort", stop);
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  }
}

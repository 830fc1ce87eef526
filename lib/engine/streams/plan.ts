// How many streams one staging load uses, and the key slices they read: decided from settings, the rows expected,
// the target's key and the source's statistics. Anything missing means one stream, said with the reason.
import os from "node:os";
import type { Settings } from "../../config/schema";
import type { ColumnFilter, ColumnInfo, Engine, RowFilter } from "../../dialects/types";
import { columnPair, type TableContext } from "../context";
import { sliceByHistogram, sliceIntegers, type KeySlice } from "./split";
import { warmThreads } from "./threads";

/** Unless set: on SQL Server the client's cores, at most 4 (the client encodes every row for the bulk load: one
 *  thread is one core); on PostgreSQL one (COPY passes the rows' bytes through, the servers do the work; measured
 *  slower in parallel with source, target and client on one 2-core host, see bench/results). */
export function maxStreams(settings: Settings, engine: Engine): number {
  return settings.max_streams_per_table ?? (engine === "sqlserver" ? Math.min(4, os.availableParallelism()) : 1);
}

export type SlicePlan = { key: ColumnInfo; slices: KeySlice[]; why: string } | { key?: undefined; slices: null; why: string };

const ORDERED = new Set(["integer", "decimal", "date", "datetime", "text"]);

/** The leading column of the target's primary key, else clustered index, else a unique index, as the source has
 *  it: the one the source finds ranges of fastest. Inside a partition, a key led by the partition column (aligned
 *  keys usually are) is cut on its next column: the leading one holds the partition's few values. */
async function streamKey(ctx: TableContext, within?: ColumnFilter): Promise<ColumnInfo | null> {
  const indexes = ctx.targetIndexes;
  const ix = indexes.find((i) => i.primaryKey) ?? indexes.find((i) => i.clustered) ?? indexes.find((i) => i.unique && !i.filter);
  const name = ix?.columns.find((c) => c.toLowerCase() !== within?.column.name.toLowerCase());
  const pair = name && columnPair(ctx, name);
  if (!pair || !ORDERED.has(pair.source.family) || /uniqueidentifier/i.test(pair.source.nativeType)) return null;
  return pair.source;
}

async function slicesOf(ctx: TableContext, key: ColumnInfo, n: number, within?: RowFilter): Promise<KeySlice[] | null> {
  const { compiler } = ctx.dialect;
  const source = ctx.sessions.source;
  const byHistogram = async () => {
    const buckets = await source.query<{ bound: string | null; rows: number | string }>(compiler.keyHistogram(ctx.sourceTable, key)).catch(() => []);
    return sliceByHistogram(buckets.map((b) => ({ bound: b.bound === null ? null : String(b.bound), rows: Number(b.rows) })), n);
  };
  // The whole table: the statistics' histogram, no scan.
  if (!within) {
    const slices = await byHistogram();
    if (slices.length > 1) return slices;
  }
  // A part of it (a day's partition): an integer key's range there, cut evenly (ids that grow with the date sit in a
  // narrow range of the table-wide histogram); another key type by the table-wide histogram, balanced as far as the
  // day's keys are spread like the table's.
  if (key.family !== "integer") return within ? byHistogram() : null;
  const [b] = await source.query<{ lo: string | null; hi: string | null }>(compiler.keyBounds(ctx.sourceTable, key, within));
  if (b?.lo === null || b?.lo === undefined || b.hi === null) return null;
  return sliceIntegers(String(b.lo), String(b.hi), n);
}

/** Run outside any transaction: a statistics read that fails (permissions) must not doom one. */
export async function planSlices(ctx: TableContext, rowsExpected: number, within?: ColumnFilter): Promise<SlicePlan> {
  const max = maxStreams(ctx.settings, ctx.dialect.engine);
  // One stream asked for (or PostgreSQL's default): nothing worth saying in the plan.
  if (max < 2) return { slices: null, why: "" };
  const wanted = Math.min(max, Math.floor(rowsExpected / ctx.settings.min_rows_per_stream));
  if (wanted < 2) return { slices: null, why: `one stream (${rowsExpected} rows expected; at most ${max} streams of at least ${ctx.settings.min_rows_per_stream} rows)` };
  if (!ctx.sessions.endpoints) return { slices: null, why: "one stream (no connection settings to open more sessions with)" };
  // The other streams' threads start now, while the catalog is read below (the first stream runs on this thread).
  warmThreads(wanted - 1, ctx.dialect.engine);
  const key = await streamKey(ctx, within);
  if (!key) return { slices: null, why: "one stream (no primary key, clustered or unique index on an ordered column to cut the rows by)" };
  const slices = await slicesOf(ctx, key, wanted, within);
  if (!slices || slices.length < 2) return { slices: null, why: `one stream (no statistics or range of ${key.name} to cut the rows by)` };
  return { key, slices, why: `${slices.length} streams on ${key.name} ranges` };
}

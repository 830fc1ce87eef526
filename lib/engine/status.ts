// What the dashboard and `--status` show: per table, both sides' row counts and max watermark, and the last sync.
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import type { Session } from "../dialects/types";
import { dialectFor } from "../dialects";
import type { Metadata } from "../metadata/client";
import { openSession } from "./connections";
import { countOrEstimate } from "./limits";
import { openPair } from "./runner";

export interface SideStatus {
  rows: number | null;
  /** True when `rows` is the planner's estimate (big tables are not scanned for a dashboard). */
  estimated?: boolean;
  watermark: string | null;
  error?: string;
}

export interface TableStatus {
  name: string;
  strategy: string;
  mode: string;
  enabled: boolean;
  watermarkColumn: string | null;
  source: SideStatus;
  target: SideStatus;
  lastRun: { status: string; finishedAt: Date | null; rowsWritten: number; error: string | null; runId: string } | null;
  /** How far the target is behind, in the watermark's own unit ("in sync", "3 days", "120 ids", "5.2 h"). */
  lag: string | null;
}

const DAY_MS = 86_400_000;

export function describeLag(source: SideStatus, target: SideStatus): string | null {
  const a = source.watermark;
  const b = target.watermark;
  if (a !== null && b !== null) {
    if (a === b) return "in sync";
    if (/^\d{8}$/.test(a) && /^\d{8}$/.test(b)) {
      const day = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8));
      return `${Math.round((day(a) - day(b)) / DAY_MS)} days`;
    }
    if (/^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) return `${Number(a) - Number(b)} ids`;
    const ta = Date.parse(a.replace(" ", "T"));
    const tb = Date.parse(b.replace(" ", "T"));
    if (!Number.isNaN(ta) && !Number.isNaN(tb)) {
      const ms = ta - tb;
      return Math.abs(ms) >= DAY_MS ? `${(ms / DAY_MS).toFixed(1)} days` : `${(ms / 3_600_000).toFixed(1)} h`;
    }
  }
  if (source.rows !== null && target.rows !== null) return source.rows === target.rows ? "in sync" : `${source.rows - target.rows} rows`;
  if (a !== null && b === null) return "target empty";
  return null;
}

function watermarkColumnOf(t: TableConfigInput) {
  return t.incremental_column ?? t.partition_column ?? null;
}

async function side(session: Session, t: TableConfigInput, partitionKey?: string): Promise<SideStatus> {
  const { compiler } = dialectFor(session.engine);
  try {
    const ref = await session.introspector.findTable(t.name, t.schema);
    if (!ref) return { rows: null, watermark: null, error: "table not found" };
    const { rows, estimated } = await countOrEstimate(session, ref);
    const colName = watermarkColumnOf(t) ?? partitionKey;
    let watermark: string | null = null;
    if (colName) {
      const col = (await session.introspector.columns(ref)).find((c) => c.name.toLowerCase() === colName.toLowerCase());
      if (col) watermark = (await session.query<{ max: string | null }>(compiler.watermark(ref, col, 0)))[0]?.max ?? null;
    }
    return { rows, estimated, watermark };
  } catch (e) {
    return { rows: null, watermark: null, error: (e as Error).message };
  }
}

export async function tableStatuses(db: Metadata, config: RefreshConfig): Promise<TableStatus[]> {
  const pair = await openPair(config);
  try {
    const out: TableStatus[] = [];
    for (const t of config.tables) {
      let key: string | undefined;
      if (t.strategy === "staging_partition_switch") {
        const ref = await pair.target.introspector.findTable(t.name, t.schema).catch(() => null);
        key = ref ? (await pair.target.introspector.partitioning(ref).catch(() => null))?.column : undefined;
      }
      const [source, target] = [await side(pair.source, t, key), await side(pair.target, t, key)];
      const last = await db.tableResult.findFirst({
        where: { tableName: t.name, run: { dryRun: false }, status: { in: ["succeeded", "failed", "running"] } },
        orderBy: { startedAt: "desc" },
      });
      out.push({
        name: t.name,
        strategy: t.strategy,
        mode: t.strategy === "simple_copy" ? t.sync_mode : "partition_switch",
        enabled: t.enabled,
        watermarkColumn: watermarkColumnOf(t) ?? key ?? null,
        source,
        target,
        lastRun: last ? { status: last.status, finishedAt: last.finishedAt, rowsWritten: Number(last.rowsWritten), error: last.error, runId: last.runId } : null,
        lag: describeLag(source, target),
      });
    }
    return out;
  } finally {
    await pair.close();
  }
}

export interface ConnectionCheck {
  role: "source" | "target";
  ok: boolean;
  latencyMs?: number;
  version?: string;
  readOnly?: boolean;
  error?: string;
}

/** Connects to each side, measures a round trip, and proves the source session refuses writes. */
export async function testConnections(config: RefreshConfig): Promise<ConnectionCheck[]> {
  const checks: ConnectionCheck[] = [];
  for (const role of ["source", "target"] as const) {
    const started = Date.now();
    try {
      const s = await openSession(config.databases[role], role, config.settings);
      try {
        const id = await s.identity();
        checks.push({ role, ok: true, latencyMs: Date.now() - started, version: id.version.split(/[\n,]/)[0].trim(), readOnly: role === "source" });
      } finally {
        await s.close();
      }
    } catch (e) {
      checks.push({ role, ok: false, latencyMs: Date.now() - started, error: (e as Error).message });
    }
  }
  return checks;
}

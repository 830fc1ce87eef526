// What the dashboard and `--status` show: per table, both sides' row counts and max watermark, and the last sync.
import type { RefreshConfig, TableConfigInput } from "../config/schema";
import type { LockWait, Session } from "../dialects/types";
import { dialectFor } from "../dialects";
import type { Metadata } from "../metadata/client";
import { exportConfig, resolveEnvironment } from "../config/store";
import type { EnvironmentConfig } from "../config/environments";
import { activeRuns, tableEnd } from "../runs";
import { openSession, runOfSession, RUN_SESSION_PREFIX } from "./connections";
import { countOrEstimate } from "./limits";
import { lockedTables } from "./locks";
import { openPair, sweepInterruptedRuns } from "./runner";
import { redact } from "../redact";
import { configuredMode } from "../mode";
import { lastResults } from "./last-results";

export interface SideStatus {
  rows: number | null;
  /** True when `rows` is the planner's estimate (big tables are not scanned for a dashboard). */
  estimated?: boolean;
  watermark: string | null;
  error?: string;
  /** A refresh holds this table: the figures are the last known ones, not read now (a read would wait on its lock). */
  refreshing?: boolean;
  /** When the figures were read. */
  asOf?: string;
  /** Where `rows` came from when it is neither a count nor the planner's estimate, or why it is unknown. */
  note?: string;
}

export interface TableStatus {
  name: string;
  strategy: string;
  mode: string;
  enabled: boolean;
  watermarkColumn: string | null;
  source: SideStatus;
  target: SideStatus;
  /** `mode`: what the last refresh did (smart_sync resolved, a full replace merged as a group's parent...). */
  lastRun: { status: string; finishedAt: Date | null; rowsCommitted: number; error: string | null; runId: string; mode: string | null } | null;
  /** How far the target is behind, in the watermark's own unit ("in sync", "3 days", "120 ids", "5.2 h"). */
  lag: string | null;
}

const DAY_MS = 86_400_000;

/** `verified`: the last refresh's verification found the copied rows equal to production's. Equal figures alone say
 *  "equal, not verified": a table whose rows differ can have production's count and max. */
export function describeLag(source: SideStatus, target: SideStatus, verified?: boolean | null): string | null {
  const a = source.watermark;
  const b = target.watermark;
  const equal = verified ? "in sync" : "equal, not verified";
  if (a !== null && b !== null) {
    if (a === b) return equal;
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
  if (source.rows !== null && target.rows !== null) return source.rows === target.rows ? equal : `${source.rows - target.rows} rows`;
  if (a !== null && b === null) return "target empty";
  return null;
}

function watermarkColumnOf(t: TableConfigInput) {
  return t.incremental_column ?? t.partition_column ?? null;
}

/**
 * One side's figures. On the production side nothing is scanned: rows come from the catalog's statistics (the
 * planner's estimate; SQL Server's partition row counts), the watermark only from an index that leads with its
 * column (a backward index scan: one row); without such an index it is not read from production at all.
 */
async function side(session: Session, t: TableConfigInput, role: "source" | "target", partitionKey?: string, fallback?: () => Promise<number | null>): Promise<SideStatus> {
  const { compiler } = dialectFor(session.engine);
  try {
    const ref = await session.introspector.findTable(t.name, t.schema);
    if (!ref) return { rows: null, watermark: null, error: "table not found" };
    const { rows, estimated, note } = role === "source" ? await statisticsOnly(session, ref) : await countOrEstimate(session, ref, { fallback });
    const colName = watermarkColumnOf(t) ?? partitionKey;
    let watermark: string | null = null;
    let watermarkNote: string | undefined;
    if (colName) {
      const col = (await session.introspector.columns(ref)).find((c) => c.name.toLowerCase() === colName.toLowerCase());
      const indexed = role === "target" || (await session.introspector.indexes(ref)).some((ix) => ix.columns[0]?.toLowerCase() === colName.toLowerCase());
      if (col && indexed) watermark = (await session.query<{ max: string | null }>(compiler.watermark(ref, col, 0)))[0]?.max ?? null;
      else if (col) watermarkNote = `no index leads with ${col.name}: its max is not read from production`;
    }
    const notes = [note, watermarkNote].filter(Boolean).join("; ");
    return { rows, estimated, watermark, ...(notes ? { note: notes } : {}) };
  } catch (e) {
    return { rows: null, watermark: null, error: redact((e as Error).message) };
  }
}

/** Rows as the catalog's statistics say (never a count of a production table): an estimate on both engines, the
 *  planner's on PostgreSQL, and on SQL Server sys.partitions.rows, which Microsoft documents as "the approximate
 *  number of rows in this partition". */
async function statisticsOnly(session: Session, ref: { schema: string; name: string }): Promise<{ rows: number | null; estimated: boolean; note?: string }> {
  const [e] = await session.query<{ n: string | number }>(dialectFor(session.engine).compiler.estimateRows(ref));
  const n = Number(e?.n ?? -1);
  return n < 0 ? { rows: null, estimated: true, note: "no statistics yet (not analysed)" } : { rows: n, estimated: true };
}

/** The last figures read for each target table (by environment), shown while a refresh holds the table (this
 *  process only). */
const lastKnownTarget = new Map<string, SideStatus>();

/**
 * Per table: both sides' figures and the last sync. Tables in `refreshing` are not read on the target (their
 * refresh holds a lock a read would wait on): their last known figures are shown instead. Every read also runs with
 * a short lock timeout, so a lock held by anyone else makes that table report an error, not the dashboard wait.
 */
export async function tableStatuses(db: Metadata, { name: environment, config }: EnvironmentConfig, refreshing: ReadonlySet<string> = new Set(), sessions?: { source: Session; target: Session }): Promise<TableStatus[]> {
  const pair = sessions ?? (await openPair(config, { kind: "status" }));
  try {
    const out: TableStatus[] = [];
    const history = await lastResults(db, environment, config.tables.map((t) => t.name));
    for (const t of config.tables) {
      const busy = refreshing.has(t.name);
      const known = `${environment}/${t.name}`;
      let key: string | undefined;
      if (t.strategy === "staging_partition_switch") {
        // Catalog reads: they take no lock on the table's data (and give up after the lock timeout if they would).
        const ref = await pair.target.introspector.findTable(t.name, t.schema).catch(() => null);
        key = ref ? (await pair.target.introspector.partitioning(ref).catch(() => null))?.column : undefined;
      }
      const { last, lastGood, lastCommittedVerified } = history.get(t.name)!;
      const source = await side(pair.source, t, "source", key);
      let target: SideStatus;
      if (busy) {
        const last = lastKnownTarget.get(known);
        target = { ...(last ?? { rows: null, watermark: lastGood?.watermarkAfter ?? null }), refreshing: true };
      } else {
        // Rows the last full replace committed: what a target without statistics holds (no count of a big table).
        const committed = async () => (lastGood?.mode === "full_replace" ? Number(lastGood.rowsCommitted) : null);
        target = { ...(await side(pair.target, t, "target", key, committed)), asOf: new Date().toISOString() };
        if (target.rows !== null) lastKnownTarget.set(known, target);
      }
      out.push({
        name: t.name,
        strategy: t.strategy,
        mode: configuredMode(t),
        enabled: t.enabled,
        watermarkColumn: watermarkColumnOf(t) ?? key ?? null,
        source,
        target,
        lastRun: last ? { status: tableEnd(last.status, last.runStatus), finishedAt: last.finishedAt, rowsCommitted: last.rowsCommitted, error: last.error, runId: last.runId, mode: last.mode } : null,
        lag: describeLag(source, target, lastCommittedVerified),
      });
    }
    return out;
  } finally {
    if (!sessions) await Promise.all([pair.source.close(), pair.target.close()]);
  }
}

/** How long one computed status serves every viewer (seconds; STATUS_CACHE_SECONDS). */
export function statusTtlMs(env: Record<string, string | undefined> = process.env) {
  return Math.max(1, Number(env.STATUS_CACHE_SECONDS ?? 5)) * 1000;
}

/** Per environment. */
const shared = new Map<string, { at: number; runs: string; value: Promise<DashboardStatus> }>();

// The last status computed per environment, as the API answered it (JSON). On globalThis: the page and the API route
// may be bundled apart, and the page renders what the route computed last.
const settled = ((globalThis as { __uatRefreshLastStatus?: Map<string, unknown> }).__uatRefreshLastStatus ??= new Map<string, unknown>());

/** The status computed last for an environment in this process, if any (reads no database): the dashboard page renders
 *  it at once, then updates it live. */
export function lastKnownStatus(environment: string): unknown {
  return settled.get(environment);
}

/** The newest run start and finish (two index reads of the metadata DB): a status computed before either is stale. */
async function runsStamp(db: Metadata, environment: string): Promise<string> {
  const r = await db.refreshRun.aggregate({ where: { environment }, _max: { startedAt: true, finishedAt: true } });
  return `${r._max.startedAt?.toISOString() ?? ""}|${r._max.finishedAt?.toISOString() ?? ""}`;
}

/** The dashboard's status, computed at most once per STATUS_CACHE_SECONDS for every viewer of this process (one
 *  computation at a time; every request in between gets that one): open tabs polling every few seconds read
 *  production at a bounded rate, whatever their number. A run that started or finished since makes it stale at
 *  once, so the figures after a refresh are the refreshed ones. */
export async function sharedDashboardStatus(db: Metadata, lockUrl: string, environment: string): Promise<DashboardStatus> {
  const now = Date.now();
  const runs = await runsStamp(db, environment);
  let entry = shared.get(environment);
  if (!entry || now - entry.at >= statusTtlMs() || entry.runs !== runs) {
    const value = dashboardStatus(db, lockUrl, environment);
    entry = { at: now, runs, value };
    shared.set(environment, entry);
    value.then((v) => settled.set(environment, JSON.parse(JSON.stringify(v))), () => {});
    value.catch(() => {
      if (shared.get(environment)?.value === value) shared.delete(environment);
    });
  }
  return entry.value;
}

export type DashboardStatus = Awaited<ReturnType<typeof dashboardStatus>>;

/** Everything the dashboard shows. Who is refreshing what is read first, from the table locks: a status read that
 *  takes a moment must not make a running table look idle, and must not wait on it. */
export async function dashboardStatus(db: Metadata, lockUrl: string, asked?: string) {
  const environment = await resolveEnvironment(db, asked);
  const config = await exportConfig(db, environment);
  // Runs whose process died are recorded as interrupted first (the workers' sweep does the same on its own timer).
  await sweepInterruptedRuns(db, lockUrl);
  const locked = await lockedTables(lockUrl, environment, config.tables.map((t) => t.name));
  // One session per side serves the connection check and every table's reads.
  const [source, target] = await Promise.all([checkSide(config, "source"), checkSide(config, "target")]);
  const connections = [source.check, target.check];
  let tables: TableStatus[] = [];
  let waits: LockWait[] = [];
  try {
    if (source.session && target.session) tables = await tableStatuses(db, { name: environment, config }, locked, { source: source.session, target: target.session });
    // While something runs: which of its UAT sessions wait for a lock, and whose (a tester's open transaction).
    if (locked.size && target.session?.introspector.lockWaits) waits = await target.session.introspector.lockWaits(RUN_SESSION_PREFIX).catch(() => []);
  } finally {
    await Promise.all([source.session?.close(), target.session?.close()]);
  }
  // A run row says "running" only while some process holds its tables' locks; otherwise it died and is stale.
  const runs = await activeRuns(db, environment);
  const running = runs.filter((r) => r.status === "queued" || r.tables.some((t) => locked.has(t.tableName)));
  const queued = new Set(runs.filter((r) => r.status === "queued").flatMap((r) => r.tables.filter((t) => t.status === "pending").map((t) => t.tableName)));
  return {
    environment,
    target: { server: config.databases.target.server, database: config.databases.target.database, engine: config.databases.target.engine },
    source: { server: config.databases.source.server, database: config.databases.source.database, engine: config.databases.source.engine },
    connections,
    tables: tables.map((t) => ({ ...t, running: locked.has(t.name), queued: queued.has(t.name) })),
    active: running.map((r) => ({ id: r.id, status: r.status, triggeredBy: r.triggeredBy, trigger: r.trigger, startedAt: r.startedAt, tables: r.tables, lockWaits: waits.filter((w) => runOfSession(w.session) === r.id) })),
    checkedAt: new Date().toISOString(),
  };
}

export interface ConnectionCheck {
  role: "source" | "target";
  ok: boolean;
  latencyMs?: number;
  version?: string;
  readOnly?: boolean;
  error?: string;
}

/** Opens one side for status reads and says how that went (latency, version), keeping the session open. */
async function checkSide(config: RefreshConfig, role: "source" | "target"): Promise<{ check: ConnectionCheck; session?: Session }> {
  const started = Date.now();
  try {
    const session = await openSession(config.databases[role], role, config.settings, { kind: "status" });
    try {
      const id = await session.identity();
      const check: ConnectionCheck = { role, ok: true, latencyMs: Date.now() - started, version: id.version.split(/[\n,]/)[0].trim(), readOnly: role === "source" };
      // Reachable, but no refresh can write it (a run says the same and stops): shown, not hidden in a green badge.
      if (role === "target" && id.readOnly) return { check: { ...check, ok: false, readOnly: true, error: `takes no writes: ${id.readOnly}` }, session };
      return { check, session };
    } catch (e) {
      await session.close();
      throw e;
    }
  } catch (e) {
    return { check: { role, ok: false, latencyMs: Date.now() - started, error: redact((e as Error).message) } };
  }
}

/** Connects to each side, measures a round trip, and proves the source session refuses writes. */
export async function testConnections(config: RefreshConfig): Promise<ConnectionCheck[]> {
  const sides = [await checkSide(config, "source"), await checkSide(config, "target")];
  await Promise.all(sides.map((x) => x.session?.close()));
  return sides.map((x) => x.check);
}

// Reading runs for the web app: history with filters, one run with its tables, and per-table trends.
import type { Prisma } from "./generated/prisma/client";
import type { Metadata } from "./metadata/client";

export interface RunFilters {
  environment?: string;
  table?: string;
  status?: string;
  who?: string;
  from?: Date;
  to?: Date;
  page?: number;
}

export const PAGE_SIZE = 25;

export async function listRuns(db: Metadata, f: RunFilters) {
  const where: Prisma.RefreshRunWhereInput = {
    ...(f.environment ? { environment: f.environment } : {}),
    ...(f.status ? { status: f.status as Prisma.EnumRunStatusFilter["equals"] } : {}),
    ...(f.who ? { triggeredBy: { contains: f.who, mode: "insensitive" } } : {}),
    ...(f.table ? { tables: { some: { tableName: f.table } } } : {}),
    ...(f.from || f.to ? { startedAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
  };
  const page = Math.max(1, f.page ?? 1);
  const [runs, total] = await Promise.all([
    db.refreshRun.findMany({
      where,
      orderBy: { startedAt: "desc" },
      skip: (page - 1) * PAGE_SIZE,
      take: PAGE_SIZE,
      include: { tables: { select: { tableName: true, status: true, rowsWritten: true, rowsCommitted: true }, orderBy: { tableName: "asc" } } },
    }),
    db.refreshRun.count({ where }),
  ]);
  return { runs, total, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
}

export async function getRun(db: Metadata, id: string) {
  return db.refreshRun.findUnique({ where: { id }, include: { tables: { orderBy: { startedAt: "asc" } }, steps: { orderBy: { position: "asc" } } } });
}

export type RunWithTables = NonNullable<Awaited<ReturnType<typeof getRun>>>;

/** How a table ended, as a person reads it: a table stopped by a cancel or by the death of its process says so,
 *  rather than "failed". */
export function tableEnd(tableStatus: string, runStatus: string): string {
  if (tableStatus !== "failed") return tableStatus;
  return runStatus === "interrupted" || runStatus === "cancelled" ? runStatus : "failed";
}

/** Rows figures of a run: what stayed in the target (committed) and, while it runs, what streamed so far. */
export function runRows(tables: { rowsWritten: bigint; rowsCommitted: bigint; status: string }[]) {
  let committed = 0;
  let streamed = 0;
  for (const t of tables) {
    committed += Number(t.rowsCommitted);
    streamed += t.status === "running" ? Number(t.rowsWritten) : Number(t.rowsCommitted);
  }
  return { committed, streamed };
}

/** JSON-safe snapshot of a run (BigInt -> number) for the API and the progress stream. */
export function runSnapshot(run: RunWithTables) {
  const rows = runRows(run.tables);
  return {
    id: run.id,
    environment: run.environment,
    status: run.status,
    trigger: run.trigger,
    triggeredBy: run.triggeredBy,
    dryRun: run.dryRun,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: run.durationMs,
    error: run.error,
    executor: run.executor,
    cancelRequestedBy: run.cancelRequestedBy,
    /** The run whose unfinished tables this one refreshes again. */
    retryOf: run.retryOf,
    // Committed: what stays in the target whatever happens next. Streamed: rows sent so far, committed or not.
    rowsCommitted: rows.committed,
    rowsStreamed: rows.streamed,
    tables: run.tables.map((t) => ({
      id: t.id,
      table: t.tableName,
      strategy: t.strategy,
      configuredMode: t.configuredMode,
      mode: t.mode,
      modeReason: t.modeReason,
      status: t.status,
      /** succeeded / failed / skipped, or interrupted / cancelled for a table its run's stop ended. */
      ended: tableEnd(t.status, run.status),
      phase: t.phase,
      rowsRead: Number(t.rowsRead),
      rowsWritten: Number(t.rowsWritten),
      rowsCommitted: Number(t.rowsCommitted),
      rowsExpected: t.rowsExpected === null ? null : Number(t.rowsExpected),
      /** rowsExpected is the catalog's figure, not a count. */
      rowsEstimated: t.rowsEstimated,
      watermarkBefore: t.watermarkBefore,
      watermarkAfter: t.watermarkAfter,
      partitionsCreated: t.partitionsCreated,
      partitionsSwitched: t.partitionsSwitched,
      maskedColumns: t.maskedColumns,
      /** The copied rows compared with production's after the commit (null: not verified). */
      verification: t.verification,
      verified: t.verified,
      /** What the verification will compare, as the plan said it. */
      verificationPlan: t.verificationPlan,
      startedAt: t.startedAt?.toISOString() ?? null,
      finishedAt: t.finishedAt?.toISOString() ?? null,
      durationMs: t.durationMs,
      rowsPerSec: t.durationMs && t.durationMs > 0 ? Math.round((movedRows(t) * 1000) / t.durationMs) : null,
      error: t.error,
      errorHint: t.errorHint,
    })),
    /** Post-refresh steps: what each did (a dry run: what would run). */
    steps: run.steps.map((s) => ({
      name: s.name,
      tables: s.tables,
      status: s.status,
      executions: s.executions,
      rowsAffected: s.rowsAffected === null ? null : Number(s.rowsAffected),
      durationMs: s.durationMs,
      error: s.error,
    })),
  };
}

export type RunSnapshot = ReturnType<typeof runSnapshot>;

/** The rows a table's refresh moved, for its throughput: streamed so far while it runs; once it succeeded, the rows it
 *  read (a load by key reads a window and changes only some of it) or committed, whichever is more; else committed. */
function movedRows(t: { status: string; rowsRead: bigint; rowsWritten: bigint; rowsCommitted: bigint }): number {
  if (t.status === "running") return Number(t.rowsWritten);
  return t.status === "succeeded" ? Math.max(Number(t.rowsRead), Number(t.rowsCommitted)) : Number(t.rowsCommitted);
}

/** Duration and throughput of a table's finished refreshes, oldest first (for the trend chart). */
export async function tableTrend(db: Metadata, environment: string, table: string, limit = 50) {
  const rows = await db.tableResult.findMany({
    where: { tableName: table, status: "succeeded", run: { dryRun: false, environment }, durationMs: { not: null } },
    orderBy: { finishedAt: "desc" },
    take: limit,
    select: { finishedAt: true, durationMs: true, rowsRead: true, rowsWritten: true, rowsCommitted: true, status: true, mode: true, runId: true },
  });
  return rows.reverse().map((r) => ({
    at: r.finishedAt!.toISOString(),
    seconds: (r.durationMs ?? 0) / 1000,
    rows: Number(r.rowsWritten),
    rowsPerSec: r.durationMs ? Math.round((movedRows(r) * 1000) / r.durationMs) : 0,
    mode: r.mode,
    runId: r.runId,
  }));
}

/** Runs queued or running (in `environment`, or in every one). */
export async function activeRuns(db: Metadata, environment?: string) {
  return db.refreshRun.findMany({
    where: { status: { in: ["running", "queued"] }, ...(environment ? { environment } : {}) },
    orderBy: { startedAt: "desc" },
    include: { tables: { select: { tableName: true, status: true, phase: true } } },
  });
}

/** Notifications a run caused: channel, outcome, attempts and the last error (JSON-safe). */
export async function runDeliveries(db: Metadata, runId: string) {
  const rows = await db.notificationDelivery.findMany({ where: { runId }, orderBy: { createdAt: "asc" }, include: { channel: { select: { name: true, kind: true } } } });
  return rows.map((d) => ({
    id: d.id,
    channel: d.channel.name,
    kind: d.channel.kind,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    lastError: d.lastError,
    sentAt: d.sentAt?.toISOString() ?? null,
  }));
}

export type RunDelivery = Awaited<ReturnType<typeof runDeliveries>>[number];

// The audit trail: who did what to which object, with before/after where something changed.
import type { Prisma } from "./generated/prisma/client";
import { metadata, type Metadata } from "./metadata/client";
import { dateParam } from "./params";

export interface AuditInput {
  actor: string;
  /** The environment the action concerned (absent: installation-wide). */
  environment?: string | null;
  action: string;
  target?: string | null;
  outcome?: "ok" | "forbidden" | "denied" | "failed" | "cancelled";
  details?: Prisma.InputJsonObject;
}

export async function audit(e: AuditInput, db: Metadata = metadata()) {
  await db.auditEvent.create({
    data: { actor: e.actor, environment: e.environment ?? null, action: e.action, target: e.target ?? null, outcome: e.outcome ?? "ok", details: e.details ?? {} },
  });
}

export interface AuditFilters {
  environment?: string;
  actor?: string;
  action?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
  page?: number;
}

export const AUDIT_PAGE_SIZE = 50;

function auditWhere(f: AuditFilters): Prisma.AuditEventWhereInput {
  return {
    ...(f.environment ? { environment: f.environment } : {}),
    ...(f.actor ? { actor: { contains: f.actor, mode: "insensitive" } } : {}),
    ...(f.action ? { action: { startsWith: f.action } } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lte: f.to } : {}) } } : {}),
  };
}

export async function listAudit(db: Metadata, f: AuditFilters) {
  const where = auditWhere(f);
  const page = Math.max(1, f.page ?? 1);
  const [events, total] = await Promise.all([
    db.auditEvent.findMany({ where, orderBy: { at: "desc" }, skip: (page - 1) * AUDIT_PAGE_SIZE, take: AUDIT_PAGE_SIZE }),
    db.auditEvent.count({ where }),
  ]);
  return { events, total, page, pages: Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE)) };
}

/** RFC 4180 CSV of every matching event (streamed in pages, newest first). */
export async function* auditCsv(db: Metadata, f: AuditFilters): AsyncGenerator<string> {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
    // A leading =, +, -, @, tab or carriage return would start a formula in spreadsheet apps (OWASP, CSV injection).
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  yield "time,actor,environment,action,target,outcome,details\r\n";
  const where = auditWhere(f);
  let cursor: string | undefined;
  for (;;) {
    const batch = await db.auditEvent.findMany({ where, orderBy: [{ at: "desc" }, { id: "desc" }], take: 500, ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}) });
    for (const e of batch) yield [e.at.toISOString(), e.actor, e.environment, e.action, e.target, e.outcome, e.details].map(cell).join(",") + "\r\n";
    if (batch.length < 500) return;
    cursor = batch[batch.length - 1].id;
  }
}

export function auditFiltersFrom(sp: Record<string, string | undefined>): AuditFilters {
  return { environment: sp.env || undefined, actor: sp.actor || undefined, action: sp.action || undefined, outcome: sp.outcome || undefined, from: dateParam(sp.from), to: dateParam(sp.to), page: Number(sp.page) || 1 };
}

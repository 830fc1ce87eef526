// The audit trail: who did what to which object, with before/after where something changed.
import type { Prisma } from "./generated/prisma/client";
import { metadata, type Metadata } from "./metadata/client";

export interface AuditInput {
  actor: string;
  action: string;
  target?: string | null;
  outcome?: "ok" | "forbidden" | "denied" | "failed";
  details?: Prisma.InputJsonObject;
}

export async function audit(e: AuditInput, db: Metadata = metadata()) {
  await db.auditEvent.create({
    data: { actor: e.actor, action: e.action, target: e.target ?? null, outcome: e.outcome ?? "ok", details: e.details ?? {} },
  });
}

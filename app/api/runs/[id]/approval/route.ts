import { NextResponse } from "next/server";
import { z } from "zod";
import { audit } from "@/lib/audit";
import { formatIssues } from "@/lib/config/schema";
import { BlackoutError } from "@/lib/engine/errors";
import { metadata } from "@/lib/metadata/client";
import { ApprovalError, decideApproval } from "@/lib/queue/approvals";
import { redact } from "@/lib/redact";
import { queue } from "@/server/jobs";
import { requireEnvironmentRole, requireMutation } from "@/server/session";

const body = z.object({ decision: z.enum(["approve", "reject"]), note: z.string().trim().max(500).optional() }).strict();

/** Approves (the run is queued) or rejects a run awaiting approval: operators of its environment other than the one
 *  who asked, and admins. Every decision and every refusal is audited. */
export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const id = (await params).id;
  const what = `decide on refresh ${id}`;
  const signedIn = await requireMutation(req, "viewer", what);
  if (signedIn instanceof NextResponse) return signedIn;
  const parsed = body.safeParse(await req.json().catch(() => null));
  if (!parsed.success) return NextResponse.json({ error: "invalid request", issues: formatIssues(parsed.error) }, { status: 400 });
  const run = await metadata().refreshRun.findUnique({ where: { id }, select: { environment: true } });
  if (!run) return NextResponse.json({ error: "no such run" }, { status: 404 });
  const user = await requireEnvironmentRole(signedIn, "operator", run.environment, what);
  if (user instanceof NextResponse) return user;
  const { decision, note } = parsed.data;
  const action = decision === "approve" ? "refresh.approve" : "refresh.reject";
  try {
    const outcome = await decideApproval(metadata(), await queue(), id, decision, user.label, note);
    await audit({ actor: user.label, environment: run.environment, action, target: id, details: { outcome, ...(note ? { note } : {}) } });
    return NextResponse.json({ runId: id, outcome }, { status: 200 });
  } catch (e) {
    const status = e instanceof ApprovalError ? e.status : e instanceof BlackoutError ? 409 : 500;
    await audit({ actor: user.label, environment: run.environment, action, target: id, outcome: status === 403 ? "forbidden" : "failed", details: { error: (e as Error).message } });
    return NextResponse.json({ error: redact((e as Error).message) }, { status });
  }
}

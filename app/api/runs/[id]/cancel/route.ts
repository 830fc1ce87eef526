import { NextResponse } from "next/server";
import { audit } from "@/lib/audit";
import { cancelRun } from "@/server/jobs";
import { requireApiCaller, requireEnvironmentRole } from "@/server/session";
import { metadata } from "@/lib/metadata/client";

/** Stops a run wherever it executes (this instance, another one, a worker host, the CLI): open transactions roll
 *  back, tables not started are skipped. A queued run is withdrawn before it starts. Operators of the run's environment
 *  and admins only. */
export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const id = (await params).id;
  const signedIn = await requireApiCaller(req, "viewer", `cancel refresh ${id}`, { mutation: true });
  if (signedIn instanceof NextResponse) return signedIn;
  const run = await metadata().refreshRun.findUnique({ where: { id }, select: { environment: true } });
  // An unknown run: only someone who may cancel somewhere learns that it does not exist.
  const user = await requireEnvironmentRole(signedIn, "operator", run?.environment ?? "", `cancel refresh ${id}`);
  if (user instanceof NextResponse) return user;
  const outcome = await cancelRun(id, user.label);
  if (outcome === "unknown") return NextResponse.json({ error: "no such run" }, { status: 404 });
  if (outcome === "finished") return NextResponse.json({ error: "the run has already finished" }, { status: 409 });
  await audit({ actor: user.label, environment: run?.environment ?? null, action: "refresh.cancel", target: id, details: { outcome } });
  return NextResponse.json({ cancelled: id, outcome }, { status: 202 });
}

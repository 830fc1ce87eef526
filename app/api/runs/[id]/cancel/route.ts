import { NextResponse } from "next/server";
import { audit } from "@/lib/audit";
import { metadata } from "@/lib/metadata/client";
import { cancelRun } from "@/server/jobs";
import { requireApiRole } from "@/server/session";

/** Stops a running refresh: open transactions roll back, tables not started yet are skipped. Operators only. */
export async function POST(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  const user = await requireApiRole("operator", "cancel refresh");
  if (user instanceof NextResponse) return user;
  const id = (await params).id;
  const run = await metadata().refreshRun.findUnique({ where: { id } });
  if (!run) return NextResponse.json({ error: "no such run" }, { status: 404 });
  if (run.status !== "running") return NextResponse.json({ error: `the run is ${run.status}, not running` }, { status: 409 });
  if (!cancelRun(id, user.email))
    return NextResponse.json({ error: "this run is not executing in this server process (started from the CLI or another instance): stop that process instead" }, { status: 409 });
  await audit({ actor: user.email, action: "refresh.cancel", target: id });
  return NextResponse.json({ cancelled: id }, { status: 202 });
}

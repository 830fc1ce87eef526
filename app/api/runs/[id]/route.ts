import { connection, NextResponse } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { getRun, runSnapshot } from "@/lib/runs";
import { requireApiCaller, requireEnvironmentRole } from "@/server/session";

/** A run's state, tables and steps (the outcome a pipeline waits for). */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  await connection();
  const caller = await requireApiCaller(req, "viewer", "run detail");
  if (caller instanceof NextResponse) return caller;
  const run = await getRun(metadata(), (await params).id);
  if (!run) return NextResponse.json({ error: "no such run" }, { status: 404 });
  const user = await requireEnvironmentRole(caller, "viewer", run.environment, "run detail");
  if (user instanceof NextResponse) return user;
  return NextResponse.json(runSnapshot(run));
}

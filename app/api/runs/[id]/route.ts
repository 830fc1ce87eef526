import { connection, NextResponse } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { getRun, runSnapshot } from "@/lib/runs";
import { requireApiRole } from "@/server/session";

export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  await connection();
  const user = await requireApiRole("viewer", "run detail");
  if (user instanceof NextResponse) return user;
  const run = await getRun(metadata(), (await params).id);
  if (!run) return NextResponse.json({ error: "no such run" }, { status: 404 });
  return NextResponse.json(runSnapshot(run));
}

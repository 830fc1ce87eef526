import { connection, NextResponse } from "next/server";
import { metadata } from "@/lib/metadata/client";
import { runDeliveries } from "@/lib/runs";
import { requireApiRole } from "@/server/session";

/** The notifications a run caused, with each delivery's outcome. */
export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  await connection();
  const user = await requireApiRole("viewer", "run notifications");
  if (user instanceof NextResponse) return user;
  return NextResponse.json(await runDeliveries(metadata(), (await params).id));
}

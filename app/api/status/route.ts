import { connection, NextResponse } from "next/server";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { sharedDashboardStatus } from "@/lib/engine/status";
import { metadata, metadataUrl } from "@/lib/metadata/client";
import { requireApiRole } from "@/server/session";

registerBuiltInDialects();

export async function GET() {
  await connection();
  const user = await requireApiRole("viewer", "dashboard status");
  if (user instanceof NextResponse) return user;
  return NextResponse.json(await sharedDashboardStatus(metadata(), metadataUrl()));
}

import { connection, NextResponse } from "next/server";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { environmentsOverview } from "@/lib/engine/overview";
import { metadata, metadataUrl } from "@/lib/metadata/client";
import { requireApiRole } from "@/server/session";

registerBuiltInDialects();

/** Every environment at a glance (the dashboard's overview). */
export async function GET() {
  await connection();
  const user = await requireApiRole("viewer", "environments overview");
  if (user instanceof NextResponse) return user;
  return NextResponse.json(await environmentsOverview(metadata(), metadataUrl()));
}

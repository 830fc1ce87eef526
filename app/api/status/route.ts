import { connection, NextResponse, type NextRequest } from "next/server";
import { apiEnvironment } from "@/server/environment";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { sharedDashboardStatus } from "@/lib/engine/status";
import { metadata, metadataUrl } from "@/lib/metadata/client";
import { requireApiCaller, requireEnvironmentRole } from "@/server/session";

registerBuiltInDialects();

/** One environment's status: `?env=NAME` (optional while the installation has one). */
export async function GET(req: NextRequest) {
  await connection();
  const caller = await requireApiCaller(req, "viewer", "dashboard status");
  if (caller instanceof NextResponse) return caller;
  const environment = await apiEnvironment(req.nextUrl.searchParams.get("env"));
  if (environment instanceof NextResponse) return environment;
  const user = await requireEnvironmentRole(caller, "viewer", environment, "dashboard status");
  if (user instanceof NextResponse) return user;
  return NextResponse.json(await sharedDashboardStatus(metadata(), metadataUrl(), environment));
}

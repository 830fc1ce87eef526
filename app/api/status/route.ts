import { connection, NextResponse, type NextRequest } from "next/server";
import { EnvironmentChoiceError, requestEnvironment } from "@/server/environment";
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
  let environment: string;
  try {
    environment = await requestEnvironment(req.nextUrl.searchParams.get("env"));
  } catch (e) {
    if (e instanceof EnvironmentChoiceError) return NextResponse.json({ error: e.message }, { status: 400 });
    throw e;
  }
  const user = await requireEnvironmentRole(caller, "viewer", environment, "dashboard status");
  if (user instanceof NextResponse) return user;
  return NextResponse.json(await sharedDashboardStatus(metadata(), metadataUrl(), environment));
}

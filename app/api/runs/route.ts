import { NextResponse, type NextRequest } from "next/server";
import { triggerRequest } from "@/lib/http/api";
import { formatIssues } from "@/lib/config/schema";
import { requireApiCaller, requireEnvironmentRole } from "@/server/session";
import { apiEnvironment } from "@/server/environment";
import { startRunAnswering } from "@/server/run-trigger";

const body = triggerRequest;

/** Triggers a refresh of some tables (or all enabled ones) of one environment (`environment` in the body or `?env=`:
 *  needed when there are several). Operators of that environment and admins only. */
export async function POST(req: NextRequest) {
  const json = await req.clone().json().catch(() => null);
  // A refused trigger is audited with what it asked for.
  const asked = Array.isArray(json?.tables) ? json.tables.map(String) : "all enabled";
  const what = `trigger refresh of ${Array.isArray(asked) ? asked.join(", ") : asked}`;
  // Signed in and same-origin first; the role is the one the user has in the environment asked for.
  const signedIn = await requireApiCaller(req, "viewer", what, { mutation: true, details: { tables: asked } });
  if (signedIn instanceof NextResponse) return signedIn;
  const parsed = body.safeParse(json);
  if (!parsed.success) return NextResponse.json({ error: "invalid request", issues: formatIssues(parsed.error) }, { status: 400 });
  const { tables, dryRun } = parsed.data;
  // Named in the body or as ?env=NAME, as every other route takes it (and as the refusal to guess one says).
  const query = req.nextUrl.searchParams.get("env");
  if (query && parsed.data.environment && query !== parsed.data.environment)
    return NextResponse.json({ error: `the body names environment ${parsed.data.environment} and ?env= names ${query}: name one` }, { status: 400 });
  const environment = await apiEnvironment(parsed.data.environment ?? query);
  if (environment instanceof NextResponse) return environment;
  const user = await requireEnvironmentRole(signedIn, "operator", environment, what, { tables: asked });
  if (user instanceof NextResponse) return user;
  return startRunAnswering(user, { environment, tables, dryRun });
}

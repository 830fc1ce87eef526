import { NextResponse, type NextRequest } from "next/server";
import { triggerRequest } from "@/lib/http/api";
import { audit } from "@/lib/audit";
import { ConfigError, formatIssues } from "@/lib/config/schema";
import { RefreshError } from "@/lib/engine/errors";
import { BlackoutError } from "@/lib/engine/errors";
import { TableBusyError } from "@/lib/engine/runner";
import { startRun } from "@/server/jobs";
import { requireApiCaller, requireEnvironmentRole } from "@/server/session";
import { apiEnvironment } from "@/server/environment";
import { redact } from "@/lib/redact";
import { EnvironmentChoiceError } from "@/lib/config/environments";

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
  try {
    const runId = await startRun({ environment, tables, dryRun, trigger: "web", triggeredBy: user.label });
    await audit({ actor: user.label, action: dryRun ? "refresh.dry_run" : "refresh.trigger", environment, target: runId, details: { tables: tables?.length ? tables : "all enabled" } });
    return NextResponse.json({ runId }, { status: 202 });
  } catch (e) {
    const status = e instanceof TableBusyError || e instanceof BlackoutError ? 409 : e instanceof RefreshError || e instanceof ConfigError || e instanceof EnvironmentChoiceError ? 400 : 500;
    await audit({ actor: user.label, action: "refresh.trigger", environment, outcome: "failed", details: { tables: tables ?? "all enabled", error: (e as Error).message } });
    const busy = e instanceof TableBusyError ? { busy: e.busy.map((b) => ({ ...b, url: b.runId ? `/runs/${b.runId}` : undefined })) } : {};
    if (e instanceof BlackoutError) Object.assign(busy, { blackout: { window: e.window, until: e.until.toISOString() } });
    return NextResponse.json({ error: redact((e as Error).message), ...busy }, { status });
  }
}

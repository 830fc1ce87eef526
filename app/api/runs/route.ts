import { NextResponse, type NextRequest } from "next/server";
import { z } from "zod";
import { audit } from "@/lib/audit";
import { ConfigError, formatIssues } from "@/lib/config/schema";
import { RefreshError } from "@/lib/engine/context";
import { TableBusyError } from "@/lib/engine/runner";
import { startRun } from "@/server/jobs";
import { requireMutation } from "@/server/session";
import { redact } from "@/lib/redact";
import { EnvironmentChoiceError } from "@/lib/config/environments";
import { metadata } from "@/lib/metadata/client";

const body = z.object({ environment: z.string().min(1).max(40).optional(), tables: z.array(z.string().min(1)).max(500).optional(), dryRun: z.boolean().optional() }).strict();

/** Triggers a refresh of some tables (or all enabled ones). Operators and admins only. */
export async function POST(req: NextRequest) {
  const json = await req.clone().json().catch(() => null);
  // A refused trigger is audited with what it asked for.
  const asked = Array.isArray(json?.tables) ? json.tables.map(String) : "all enabled";
  const user = await requireMutation(req, "operator", `trigger refresh of ${Array.isArray(asked) ? asked.join(", ") : asked}`, { tables: asked });
  if (user instanceof NextResponse) return user;
  const parsed = body.safeParse(json);
  if (!parsed.success) return NextResponse.json({ error: "invalid request", issues: formatIssues(parsed.error) }, { status: 400 });
  const { tables, dryRun } = parsed.data;
  const environment = parsed.data.environment;
  try {
    const runId = await startRun({ environment, tables, dryRun, trigger: "web", triggeredBy: user.label });
    const run = await metadata().refreshRun.findUnique({ where: { id: runId }, select: { environment: true } });
    await audit({ actor: user.label, action: dryRun ? "refresh.dry_run" : "refresh.trigger", environment: run?.environment ?? null, target: runId, details: { tables: tables?.length ? tables : "all enabled" } });
    return NextResponse.json({ runId }, { status: 202 });
  } catch (e) {
    const status = e instanceof TableBusyError ? 409 : e instanceof RefreshError || e instanceof ConfigError || e instanceof EnvironmentChoiceError ? 400 : 500;
    await audit({ actor: user.label, action: "refresh.trigger", environment: environment ?? null, outcome: "failed", details: { tables: tables ?? "all enabled", error: (e as Error).message } });
    const busy = e instanceof TableBusyError ? { busy: e.busy.map((b) => ({ ...b, url: b.runId ? `/runs/${b.runId}` : undefined })) } : {};
    return NextResponse.json({ error: redact((e as Error).message), ...busy }, { status });
  }
}

// Starting a run from an HTTP request, answered alike by every route that starts one (a trigger, a retry): 202 with
// the run's id, 409 for a busy table or a blackout window, 400 for what the configuration refuses; each outcome
// audited with what was asked.
import { NextResponse } from "next/server";
import { audit } from "@/lib/audit";
import { ConfigError } from "@/lib/config/schema";
import { EnvironmentChoiceError } from "@/lib/config/environments";
import { BlackoutError, RefreshError } from "@/lib/engine/errors";
import { TableBusyError } from "@/lib/engine/runner";
import type { EnqueueRequest } from "@/lib/queue/runs";
import { redact } from "@/lib/redact";
import type { AppUser } from "./session";
import { startRun } from "./jobs";

export async function startRunAnswering(user: AppUser, req: Omit<EnqueueRequest, "trigger" | "triggeredBy"> & { environment: string }): Promise<NextResponse> {
  const tables = req.tables?.length ? req.tables : "all enabled";
  const also = req.retryOf ? { retryOf: req.retryOf } : {};
  try {
    const runId = await startRun({ ...req, trigger: "web", triggeredBy: user.label });
    await audit({ actor: user.label, action: req.dryRun ? "refresh.dry_run" : "refresh.trigger", environment: req.environment, target: runId, details: { tables, ...also } });
    return NextResponse.json({ runId }, { status: 202 });
  } catch (e) {
    const status = e instanceof TableBusyError || e instanceof BlackoutError ? 409 : e instanceof RefreshError || e instanceof ConfigError || e instanceof EnvironmentChoiceError ? 400 : 500;
    await audit({ actor: user.label, action: "refresh.trigger", environment: req.environment, outcome: "failed", details: { tables, ...also, error: (e as Error).message } });
    const busy = e instanceof TableBusyError ? { busy: e.busy.map((b) => ({ ...b, url: b.runId ? `/runs/${b.runId}` : undefined })) } : {};
    if (e instanceof BlackoutError) Object.assign(busy, { blackout: { window: e.window, until: e.until.toISOString() } });
    return NextResponse.json({ error: redact((e as Error).message), ...busy }, { status });
  }
}

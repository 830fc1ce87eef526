// The CLI against a running app instead of the metadata database: `--api URL` with a service token in
// UAT_REFRESH_TOKEN (never a flag: flags show in process lists). For pipelines: trigger a refresh of an environment
// and, with --wait, follow it to its end and exit with its outcome. The operations are looked up in the app's own
// OpenAPI description (/api/openapi.json) by operationId, so the CLI and the description cannot drift apart.
import type { z } from "zod";
import { FINAL_STATUSES, runState, triggerAccepted } from "../http/api";
import { modeLabel } from "../mode";

export interface RemoteArgs {
  api: string;
  environment?: string;
  tables?: string[];
  dryRun: boolean;
  wait: boolean;
  status: boolean;
  json: boolean;
  /** Refresh again what this run did not finish (the server reads its tables and kind). */
  retry?: string;
  /** How often --wait asks for the run's state (ms). */
  pollMs?: number;
}

const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3, blackout: 4 } as const;

interface Operation {
  method: string;
  path: string;
}

async function operations(api: string): Promise<Map<string, Operation>> {
  const res = await fetch(new URL("/api/openapi.json", api));
  if (!res.ok) throw new Error(`${api} did not serve its API description (/api/openapi.json answered HTTP ${res.status})`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
  const ops = new Map<string, Operation>();
  for (const [path, methods] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(methods)) if (op.operationId) ops.set(op.operationId, { method: method.toUpperCase(), path });
  return ops;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; blackout?: unknown; busy?: unknown; issues?: string[] },
  ) {
    super(`HTTP ${status}: ${body.error ?? "no error message"}${body.issues?.length ? ` (${body.issues.join("; ")})` : ""}`);
  }
}

export async function remoteMain(a: RemoteArgs): Promise<number> {
  const token = process.env.UAT_REFRESH_TOKEN;
  if (!token) {
    console.error("error: --api needs a service token in UAT_REFRESH_TOKEN (an admin creates one on Admin > Tokens)");
    return EXIT.usage;
  }
  let ops: Map<string, Operation>;
  try {
    ops = await operations(a.api);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return EXIT.failed;
  }
  const call = async (operationId: string, params: { id?: string; query?: Record<string, string>; body?: unknown } = {}) => {
    const op = ops.get(operationId);
    if (!op) throw new Error(`the API at ${a.api} has no operation ${operationId}`);
    const url = new URL(op.path.replace("{id}", encodeURIComponent(params.id ?? "")), a.api);
    for (const [k, v] of Object.entries(params.query ?? {})) url.searchParams.set(k, v);
    const res = await fetch(url, { method: op.method, headers: { authorization: `Bearer ${token}`, ...(params.body !== undefined ? { "content-type": "application/json" } : {}) }, body: params.body === undefined ? undefined : JSON.stringify(params.body) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ApiError(res.status, body);
    return body as unknown;
  };
  try {
    if (a.status) {
      const status = await call("getStatus", { query: a.environment ? { env: a.environment } : {} });
      console.log(JSON.stringify(status, null, 2));
      return EXIT.ok;
    }
    const accepted = a.retry
      ? await call("retryRun", { id: a.retry, body: {} })
      : await call("triggerRun", { body: { environment: a.environment, tables: a.tables?.length ? a.tables : undefined, dryRun: a.dryRun || undefined } });
    const { runId } = triggerAccepted.parse(accepted);
    console.log(`run ${runId} accepted: ${new URL(`/runs/${runId}`, a.api)}`);
    if (!a.wait) return EXIT.ok;
    let said = "";
    for (;;) {
      const run = runState.parse(await call("getRun", { id: runId }));
      if (run.status !== said) console.log(`run ${runId}: ${run.status.replace("_", " ")}`);
      said = run.status;
      if (FINAL_STATUSES.includes(run.status)) {
        if (a.json) console.log(JSON.stringify(run, null, 2));
        else for (const t of run.tables) console.log(run.dryRun ? planned(t) : `  ${t.ended === "succeeded" ? "✓" : "✗"} ${t.table}: ${t.ended}, ${t.rowsCommitted} rows committed${t.verification ? `; ${t.verification}` : ""}${t.error ? `; ${t.error}` : ""}`);
        return run.status === "succeeded" ? EXIT.ok : EXIT.failed;
      }
      await new Promise((r) => setTimeout(r, a.pollMs ?? 2000));
    }
  } catch (e) {
    if (!(e instanceof ApiError)) {
      console.error(`error: ${(e as Error).message}`);
      return EXIT.failed;
    }
    console.error(`error: ${e.message}`);
    // 409 is also a retry of a run that has not ended, or left nothing to do: a usage error like the local CLI's.
    if (e.status === 409) return e.body.blackout ? EXIT.blackout : e.body.busy || !a.retry ? EXIT.busy : EXIT.usage;
    return e.status >= 500 ? EXIT.failed : EXIT.usage;
  }
}

/** A dry run's table as the run recorded its plan (what the local CLI's --dry-run prints, but the source query). */
function planned(t: z.infer<typeof runState>["tables"][number]): string {
  if (t.error) return `  ✗ ${t.table}: ${t.error}`;
  const rows = t.rowsExpected === null || t.rowsExpected === undefined ? "" : `\n    rows expected: ${t.rowsEstimated ? "≈" : ""}${t.rowsExpected}`;
  return `  ✓ ${t.table}: ${t.strategy} / ${modeLabel(t.configuredMode, t.mode)} (${t.modeReason ?? ""})${rows}${t.verificationPlan ? `\n    verifies: ${t.verificationPlan}` : ""}`;
}

"use client";

// Follows a run over server-sent events. EventSource reconnects by itself; each message is the run's full current
// state, so a reload or a dropped connection resumes exactly where the run is.
import { useEffect, useState } from "react";
import type { RunSnapshot } from "@/lib/runs";
import { StatusBadge } from "@/components/ui/status-badge";
import { RunSteps } from "./run-steps";
import { formatDuration, formatRows, formatTime } from "@/components/ui/format";
import { modeLabel } from "@/lib/mode";
import { useHydrated } from "@/components/ui/use-hydrated";
import { retryRefusal } from "@/lib/run-retry";
import { RetryButton } from "./retry-button";

const active = (status: string) => status === "running" || status === "queued";

/** `operator`: the user may act on the run's environment (cancel it, retry what it did not finish). */
export function RunProgress({ initial, operator }: { initial: RunSnapshot; operator: boolean }) {
  const hydrated = useHydrated();
  const [run, setRun] = useState(initial);
  const [live, setLive] = useState(active(initial.status));
  const [cancelError, setCancelError] = useState<string | null>(null);
  const cancel = async () => {
    setCancelError(null);
    const r = await fetch(`/api/runs/${initial.id}/cancel`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    if (!r.ok) setCancelError((await r.json().catch(() => ({}))).error ?? `HTTP ${r.status}`);
  };

  useEffect(() => {
    if (!active(initial.status)) return;
    const es = new EventSource(`/api/runs/${initial.id}/events`);
    es.addEventListener("progress", (e) => setRun(JSON.parse((e as MessageEvent).data)));
    es.addEventListener("end", () => {
      setLive(false);
      es.close();
    });
    return () => es.close();
  }, [initial.id, initial.status]);

  return (
    <div className="space-y-4">
      <dl className="grid grid-cols-2 gap-3 rounded-lg border border-slate-200 bg-white p-4 text-sm sm:grid-cols-5">
        <div><dt className="text-slate-500">Status</dt><dd data-testid="run-status"><StatusBadge status={run.status} />{run.dryRun && <span className="ml-1 text-xs">(dry run)</span>}</dd></div>
        <div>
          <dt className="text-slate-500">Triggered by</dt>
          <dd>
            {run.triggeredBy} ({run.trigger})
            {run.executor && <span className="block text-xs text-slate-500" data-testid="run-executor">executed by {run.executor}</span>}
          </dd>
        </div>
        <div><dt className="text-slate-500">Started</dt><dd>{formatTime(run.startedAt)}</dd></div>
        <div><dt className="text-slate-500">Duration</dt><dd>{formatDuration(run.durationMs)}</dd></div>
        <div>
          <dt className="text-slate-500">Rows committed</dt>
          <dd data-testid="run-rows">
            {formatRows(run.rowsCommitted)}
            {run.status === "running" && run.rowsStreamed > run.rowsCommitted ? <span className="block text-xs text-slate-500">{formatRows(run.rowsStreamed)} streamed so far</span> : null}
          </dd>
        </div>
      </dl>
      {live && (
        <div className="flex flex-wrap items-center gap-3">
          <p className="text-sm text-blue-800" role="status" aria-live="polite">
            {run.status === "queued" ? "Queued: waiting for a free worker." : "Live: updates stream in as the run progresses."}
            {run.cancelRequestedBy && run.status === "running" ? ` Stop requested by ${run.cancelRequestedBy}.` : ""}
          </p>
          {operator && (
            <button type="button" disabled={!hydrated} onClick={cancel} className="rounded border border-red-300 px-2 py-0.5 text-sm text-red-800 disabled:opacity-50">
              Cancel run
            </button>
          )}
          {cancelError && <p role="alert" className="text-sm text-red-800">{cancelError}</p>}
        </div>
      )}
      {run.error && run.status !== "succeeded" && <p role="alert" className="rounded bg-red-50 p-3 text-sm text-red-800">{run.error}</p>}
      {operator && retryRefusal(run.status, run.tables.map((t) => t.status)) === null && (
        <RetryButton runId={run.id} dryRun={run.dryRun} tables={run.tables.filter((t) => t.status !== "succeeded").map((t) => t.table)} />
      )}
      <ol className="space-y-3">
        {run.tables.map((t) => {
          const shown = t.status === "running" ? t.rowsWritten : t.rowsCommitted;
          const pct = t.status === "succeeded" ? 100 : t.rowsExpected ? Math.min(100, Math.round((shown / Math.max(t.rowsExpected, 1)) * 100)) : 0;
          return (
            <li key={t.id} className="rounded-lg border border-slate-200 bg-white p-4" data-testid={`run-table-${t.table}`}>
              <div className="flex flex-wrap items-center gap-2">
                <h3 className="font-medium">{t.table}</h3>
                <StatusBadge status={t.ended} />
                <span className="text-sm text-slate-600" data-testid="run-table-mode">{t.strategy} / {modeLabel(t.configuredMode, t.mode)}</span>
                {t.phase && t.status === "running" && <span className="text-sm text-blue-800">{t.phase}</span>}
              </div>
              {t.modeReason && <p className="mt-1 text-sm text-slate-600">{t.modeReason}</p>}
              {t.maskedColumns.length > 0 && <p className="mt-1 text-sm text-slate-600" data-testid="masked-columns">Masked: {t.maskedColumns.join(", ")}</p>}
              {/* Until the verification's result (a dry run: what it would compare); a failure says its own. */}
              {!t.verification && t.verificationPlan && t.status !== "failed" && (
                <p className="mt-1 text-sm text-slate-600" data-testid="verification-plan">
                  Verifies: {t.verificationPlan}
                </p>
              )}
              {t.verification && (
                <p className={`mt-1 text-sm ${t.verified ? "text-emerald-800" : "text-red-800"}`} data-testid="verification">
                  {t.verified ? "" : "Verification failed: "}
                  {t.verification}
                </p>
              )}
              <div className="mt-2 h-2 w-full overflow-hidden rounded bg-slate-100" role="progressbar" aria-label={`${t.table} progress`} aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100}>
                <div className={`h-full ${t.status === "failed" ? "bg-red-500" : "bg-emerald-500"} transition-all`} style={{ width: `${pct}%` }} />
              </div>
              <dl className="mt-2 grid grid-cols-2 gap-2 text-xs sm:grid-cols-6">
                <div>
                  {/* Running: rows streamed so far (of those expected) and what is committed already. Ended: what
                      stayed in the target, and for a stopped table what streamed and was rolled back. */}
                  <dt className="text-slate-500">{t.status === "running" ? "Rows streamed" : "Rows committed"}</dt>
                  <dd className="tabular-nums" data-testid="table-rows">
                    {t.status === "running" ? formatRows(t.rowsWritten) : formatRows(t.rowsCommitted)}
                    {/* A load by key (a merge, an identity window re-read) commits the rows it changed, of the source's
                        rows it compared. */}
                    {t.status === "succeeded" && (t.mode === "merge" || t.rowsRead > t.rowsCommitted)
                      ? ` changed of ${formatRows(t.rowsRead || (t.mode === "merge" ? t.rowsExpected : 0))}`
                      : t.status !== "failed" && t.rowsExpected !== null ? ` / ${t.rowsEstimated ? "≈" : ""}${formatRows(t.rowsExpected)}` : ""}
                    {t.status === "running" && t.rowsCommitted > 0 ? ` (${formatRows(t.rowsCommitted)} committed)` : ""}
                    {t.status === "failed" && t.rowsWritten > t.rowsCommitted ? ` (${formatRows(t.rowsWritten - t.rowsCommitted)} more streamed, rolled back)` : ""}
                  </dd>
                </div>
                <div><dt className="text-slate-500">Rows/s</dt><dd className="tabular-nums">{formatRows(t.rowsPerSec)}</dd></div>
                <div><dt className="text-slate-500">Duration</dt><dd>{formatDuration(t.durationMs)}</dd></div>
                <div><dt className="text-slate-500">Watermark</dt><dd className="font-mono">{t.watermarkBefore ?? "–"} → {t.watermarkAfter ?? "–"}</dd></div>
                <div><dt className="text-slate-500">Partitions created</dt><dd>{t.partitionsCreated.length ? t.partitionsCreated.join(", ") : "–"}</dd></div>
                <div><dt className="text-slate-500">Partitions switched</dt><dd>{t.partitionsSwitched.length || "–"}</dd></div>
              </dl>
              {t.error && (
                <div role="alert" className="mt-2 rounded bg-red-50 p-2 text-sm text-red-800">
                  <p className="font-mono">{t.error}</p>
                  {t.errorHint && <p className="mt-1">Hint: {t.errorHint}</p>}
                </div>
              )}
            </li>
          );
        })}
      </ol>
      <RunSteps steps={run.steps} />
    </div>
  );
}

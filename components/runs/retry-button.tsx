"use client";

// "Refresh again what did not finish" on an ended run's page: the server reads which tables (lib/run-retry), starts
// the new run in the same environment as the same kind (a dry run's retry plans again), and this page follows it.
import { useState } from "react";
import { useRouter } from "next/navigation";
import { useHydrated } from "@/components/ui/use-hydrated";

export function RetryButton({ runId, tables, dryRun }: { runId: string; tables: string[]; dryRun: boolean }) {
  const hydrated = useHydrated();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const retry = async () => {
    setError(null);
    setSending(true);
    const r = await fetch(`/api/runs/${runId}/retry`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const body = await r.json().catch(() => ({}));
    setSending(false);
    if (r.status === 202) router.push(`/runs/${body.runId}`);
    else setError(body.error ?? `HTTP ${r.status}`);
  };
  const what = `${tables.length} table${tables.length === 1 ? "" : "s"} that did not finish`;
  return (
    <div className="flex flex-wrap items-center gap-3" data-testid="retry">
      <button type="button" disabled={!hydrated || sending} onClick={retry} title={tables.join(", ")} className="rounded border border-slate-300 px-3 py-1 text-sm disabled:opacity-50">
        {dryRun ? `Plan again the ${what}` : `Refresh again the ${what}`}
      </button>
      <span className="text-sm text-slate-600">{tables.join(", ")}</span>
      {error && <p role="alert" className="text-sm text-red-800">{error}</p>}
    </div>
  );
}

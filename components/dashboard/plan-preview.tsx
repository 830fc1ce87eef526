"use client";

// The confirmation's plan: a dry run of exactly what the operator is about to start (recorded like every dry run),
// summarised per table: the mode chosen and why (groups, merges, partitions), rows expected, what the verification
// will compare, or why it is refused.
import { useQuery } from "@tanstack/react-query";
import { FINAL_STATUSES } from "@/lib/http/api";
import { formatRows } from "@/components/ui/format";
import { modeLabel } from "@/lib/mode";

interface PlannedTable {
  table: string;
  ended: string;
  configuredMode: string | null;
  mode: string | null;
  modeReason: string | null;
  rowsExpected: number | null;
  verificationPlan: string | null;
  error: string | null;
}

async function dryRun(environment: string, tables: string[]): Promise<PlannedTable[]> {
  const r = await fetch("/api/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ environment, tables: tables.length ? tables : undefined, dryRun: true }) });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
  for (;;) {
    const run = await (await fetch(`/api/runs/${body.runId}`, { cache: "no-store" })).json();
    if (FINAL_STATUSES.includes(run.status)) return run.tables;
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
}

/** `tables`: the tables asked for (empty: every enabled one); null while the dialog is closed. */
export function usePlan(environment: string, tables: string[] | null, opened: number) {
  return useQuery({ queryKey: ["plan", environment, tables, opened], queryFn: () => dryRun(environment, tables ?? []), enabled: tables !== null, retry: false, gcTime: 0, staleTime: Infinity });
}

export function PlanPreview({ plan }: { plan: ReturnType<typeof usePlan> }) {
  if (plan.isPending) return <p className="mt-3 text-sm text-slate-600" role="status" data-testid="plan">Checking the plan (a dry run: nothing is written)…</p>;
  if (plan.isError) return <p className="mt-3 rounded bg-amber-50 p-2 text-sm text-amber-900" role="alert" data-testid="plan">The plan could not be made: {plan.error.message}</p>;
  return (
    <ul className="mt-3 max-h-72 space-y-2 overflow-y-auto text-sm" data-testid="plan" aria-label="Plan">
      {plan.data.map((t) => (
        <li key={t.table} data-testid={`plan-${t.table}`}>
          {t.ended === "succeeded" ? (
            <>
              <span className="font-medium">{t.table}</span>: {modeLabel(t.configuredMode, t.mode)}
              {t.rowsExpected !== null ? `, about ${formatRows(t.rowsExpected)} rows` : ""}
              {t.modeReason && <span className="block text-xs text-slate-600">{t.modeReason}</span>}
              {t.verificationPlan && <span className="block text-xs text-slate-600">Verifies: {t.verificationPlan}</span>}
            </>
          ) : (
            <span className="text-red-800">
              <span className="font-medium">{t.table}</span>: refused: {t.error}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

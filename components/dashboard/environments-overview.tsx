"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { EnvironmentSummary } from "@/lib/engine/overview";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatTime } from "@/components/ui/format";

async function fetchOverview(): Promise<EnvironmentSummary[]> {
  const r = await fetch("/api/environments", { cache: "no-store" });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error ?? `status ${r.status}`);
  return r.json();
}

/** A card per environment: reachable, tables behind production, last run, what runs now; each links to its page. */
export function EnvironmentsOverview({ current }: { current: string }) {
  const q = useQuery({ queryKey: ["environments"], queryFn: fetchOverview, refetchInterval: 30_000 });
  if (q.isPending) return <p className="text-sm text-slate-600" role="status">Checking every environment…</p>;
  if (q.isError) return <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">Could not load the environments: {q.error.message}</p>;
  return (
    <section aria-label="Environments overview" className="mb-6 grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
      {q.data.map((e) => (
        <Link key={e.environment} href={`/?env=${encodeURIComponent(e.environment)}`} data-testid={`overview-${e.environment}`} className={`rounded-lg border bg-white p-4 text-sm hover:border-slate-400 ${e.environment === current ? "border-slate-800" : "border-slate-200"}`}>
          <div className="flex items-center justify-between">
            <h2 className="font-medium">{e.environment}</h2>
            <StatusBadge status={e.reachable ? "ok" : "failed"} />
          </div>
          {e.problem && <p className="mt-1 text-red-700">{e.problem}</p>}
          <p className="mt-1" data-testid="overview-behind">{e.behind === 0 ? `all ${e.tables} table(s) up to date` : `${e.behind} of ${e.tables} table(s) behind production`}</p>
          <p className="mt-1 text-slate-600">
            {e.lastRun ? <>last run <StatusBadge status={e.lastRun.status} /> {formatTime(e.lastRun.startedAt)} by {e.lastRun.triggeredBy}</> : "never refreshed"}
            {e.running > 0 && <span className="ml-1 text-blue-800">· {e.running} running now</span>}
          </p>
        </Link>
      ))}
    </section>
  );
}

"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useRef, useState } from "react";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatRows, formatTime } from "@/components/ui/format";
import { useHydrated } from "@/components/ui/use-hydrated";
import { PlanPreview, usePlan } from "./plan-preview";
import { modeLabel } from "@/lib/mode";
import type { LockWait } from "@/lib/dialects/types";

interface Side { rows: number | null; estimated?: boolean; watermark: string | null; error?: string; refreshing?: boolean; asOf?: string; note?: string }

function rowsOf(s: Side) {
  if (s.error) return <span className="text-red-700">{s.error}</span>;
  const rows = (
    <span title={s.note ?? (s.estimated ? "planner estimate: big tables are not counted for the dashboard" : undefined)}>
      {s.estimated && s.rows !== null ? "≈" : ""}
      {s.rows === null && s.note ? "?" : formatRows(s.rows)}
    </span>
  );
  if (!s.refreshing) return rows;
  // The refresh holds the table: these are the figures from before it, not read now.
  return (
    <span className="flex flex-col" title={s.asOf ? `last read ${formatTime(s.asOf)}` : "not read while the refresh holds the table"}>
      {rows}
      <span className="text-xs text-blue-700" data-testid="being-refreshed">being refreshed</span>
    </span>
  );
}
interface TableRow {
  name: string; strategy: string; mode: string; enabled: boolean; watermarkColumn: string | null;
  source: Side; target: Side; lag: string | null; running: boolean; queued: boolean;
  lastRun: { status: string; finishedAt: string | null; rowsCommitted: number; error: string | null; runId: string; mode: string | null } | null;
}
interface StatusResponse {
  source: { server: string; database: string; engine: string };
  target: { server: string; database: string; engine: string };
  connections: { role: string; ok: boolean; latencyMs?: number; version?: string; error?: string }[];
  tables: TableRow[];
  active: { id: string; status: string; triggeredBy: string; trigger: string; startedAt: string; tables: { tableName: string; status: string; phase: string | null }[]; lockWaits?: LockWait[] }[];
  checkedAt: string;
}

type SortKey = "name" | "mode" | "source" | "target" | "lastRun";

/** A session in a refresh's way as an operator can find it: who, with what, from where, doing what. */
function blockerText(b: LockWait["blockers"][number]) {
  const detail = [b.application, b.client, b.state].filter(Boolean).join(", ");
  return `${b.user ?? "another session"}${detail ? ` (${detail})` : ""}`;
}

async function fetchStatus(environment: string): Promise<StatusResponse> {
  const r = await fetch(`/api/status?env=${encodeURIComponent(environment)}`, { cache: "no-store" });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error ?? `status ${r.status}`);
  return r.json();
}

/** `initial`: the last status the server computed (rendered at once, marked stale so that it is read again now). */
export function Dashboard({ canTrigger, environment, initial }: { canTrigger: boolean; environment: string; initial?: unknown }) {
  const router = useRouter();
  const hydrated = useHydrated();
  const status = useQuery({
    queryKey: ["status", environment],
    queryFn: () => fetchStatus(environment),
    initialData: initial as StatusResponse | undefined,
    initialDataUpdatedAt: 0,
    refetchInterval: (q) => (q.state.data?.active.length ? 3_000 : 30_000),
  });
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; asc: boolean }>({ key: "name", asc: true });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<string[] | null>(null);
  // Each opening of the dialog makes a fresh plan.
  const [opened, setOpened] = useState(0);
  const plan = usePlan(environment, pending, opened);
  const dialog = useRef<HTMLDialogElement>(null);

  const trigger = useMutation({
    mutationFn: async (tables: string[]) => {
      const r = await fetch("/api/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ environment, tables }) });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
      return body.runId as string;
    },
    onSuccess: (runId) => router.push(`/runs/${runId}`),
  });

  const rows = useMemo(() => {
    const list = (status.data?.tables ?? []).filter((t) => t.name.toLowerCase().includes(filter.toLowerCase()) || t.mode.includes(filter.toLowerCase()));
    const value = (t: TableRow) =>
      sort.key === "name" ? t.name : sort.key === "mode" ? t.mode : sort.key === "source" ? (t.source.rows ?? -1) : sort.key === "target" ? (t.target.rows ?? -1) : (t.lastRun?.finishedAt ?? "");
    return [...list].sort((a, b) => {
      const [x, y] = [value(a), value(b)];
      return (x < y ? -1 : x > y ? 1 : 0) * (sort.asc ? 1 : -1);
    });
  }, [status.data, filter, sort]);

  const ask = (tables: string[]) => {
    setPending(tables);
    setOpened((n) => n + 1);
    trigger.reset();
    dialog.current?.showModal();
  };
  const header = (key: SortKey, label: string) => (
    <th scope="col" className="px-3 py-2 text-left font-medium" aria-sort={sort.key === key ? (sort.asc ? "ascending" : "descending") : "none"}>
      <button type="button" disabled={!hydrated} className="hover:underline" onClick={() => setSort({ key, asc: sort.key === key ? !sort.asc : true })}>
        {label}
        {sort.key === key ? (sort.asc ? " ▲" : " ▼") : ""}
      </button>
    </th>
  );

  if (status.isPending) return <p className="text-slate-600" role="status">Checking connections and counting rows…</p>;
  if (status.isError) return <p role="alert" className="rounded bg-red-50 p-3 text-red-800">Could not load the status: {status.error.message}</p>;
  const data = status.data;
  const target = `${data.target.server}/${data.target.database}`;

  return (
    <div className="space-y-6">
      <section aria-label="Connections" className="grid gap-3 sm:grid-cols-2">
        {data.connections.map((c) => (
          <div key={c.role} className="rounded-lg border border-slate-200 bg-white p-4" data-testid={`connection-${c.role}`}>
            <div className="flex items-center justify-between">
              <h2 className="font-medium capitalize">{c.role}</h2>
              <StatusBadge status={c.ok ? "ok" : "failed"} />
            </div>
            <p className="mt-1 text-sm text-slate-600">
              {c.role === "source" ? `${data.source.server}/${data.source.database}` : target} · {c.role === "source" ? data.source.engine : data.target.engine}
            </p>
            <p className="mt-1 text-sm">{c.ok ? `${c.version} · ${c.latencyMs} ms` : <span className="text-red-700">{c.error}</span>}</p>
          </div>
        ))}
      </section>

      {data.active.length > 0 && (
        <section aria-label="Running now" className="rounded-lg border border-blue-200 bg-blue-50 p-4">
          <h2 className="font-medium">Running and queued</h2>
          <ul className="mt-2 space-y-1 text-sm">
            {data.active.map((r) => (
              <li key={r.id}>
                <Link className="text-blue-800 underline" href={`/runs/${r.id}`}>
                  {r.tables.map((t) => t.tableName).join(", ")}
                </Link>{" "}
                {r.status === "queued" ? "queued" : "running"} · by {r.triggeredBy} ({r.trigger}) since {formatTime(r.startedAt)}
                {r.lockWaits?.map((w, i) => (
                  <p key={i} className="text-amber-800" data-testid="lock-wait">
                    waiting since {formatTime(w.since)} for a lock on UAT held by {w.blockers.map(blockerText).join("; ")}
                  </p>
                ))}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-label="Tables" className="rounded-lg border border-slate-200 bg-white">
        <div className="flex flex-wrap items-center gap-3 border-b border-slate-200 p-3">
          <label className="text-sm">
            <span className="sr-only">Filter tables</span>
            <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="Filter tables…" className="rounded border border-slate-300 px-2 py-1 text-sm" />
          </label>
          <span className="text-xs text-slate-500">checked {formatTime(data.checkedAt)}</span>
          {canTrigger && (
            <div className="ml-auto flex gap-2">
              <button type="button" disabled={!hydrated || selected.size === 0} onClick={() => ask([...selected])} className="rounded border border-slate-300 px-3 py-1 text-sm disabled:opacity-50">
                Refresh selected ({selected.size})
              </button>
              <button type="button" disabled={!hydrated} onClick={() => ask([])} className="rounded bg-slate-900 px-3 py-1 text-sm text-white disabled:opacity-50">
                Refresh all
              </button>
            </div>
          )}
        </div>
        {rows.length === 0 ? (
          <p className="p-4 text-sm text-slate-600">{data.tables.length ? "No table matches the filter." : "No tables configured yet. An admin can add them under Tables."}</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm">
              <thead className="bg-slate-50 text-slate-600">
                <tr>
                  {canTrigger && <th className="w-8 px-3 py-2"><span className="sr-only">Select</span></th>}
                  {header("name", "Table")}
                  {header("mode", "Strategy / mode")}
                  {header("source", "Source rows")}
                  {header("target", "Target rows")}
                  <th className="px-3 py-2 text-left font-medium">Max watermark (source / target)</th>
                  <th className="px-3 py-2 text-left font-medium">Lag</th>
                  {header("lastRun", "Last run")}
                  {canTrigger && <th className="px-3 py-2"><span className="sr-only">Actions</span></th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.name} className="border-t border-slate-100" data-testid={`table-row-${t.name}`}>
                    {canTrigger && (
                      <td className="px-3 py-2">
                        <input
                          type="checkbox"
                          aria-label={`Select ${t.name}`}
                          disabled={!hydrated}
                          checked={selected.has(t.name)}
                          onChange={(e) => {
                            const next = new Set(selected);
                            if (e.target.checked) next.add(t.name);
                            else next.delete(t.name);
                            setSelected(next);
                          }}
                        />
                      </td>
                    )}
                    <td className="px-3 py-2 font-medium">
                      <Link href={`/tables/${encodeURIComponent(t.name)}?env=${encodeURIComponent(environment)}`} className="hover:underline">{t.name}</Link>
                      {!t.enabled && <span className="ml-1 text-xs text-slate-500">(disabled)</span>}
                    </td>
                    <td className="px-3 py-2 text-slate-700" data-testid="table-mode">
                      {/* Configured, then what the last refresh did where that differs: "full_replace → merge". */}
                      {t.strategy} / {modeLabel(t.mode, t.lastRun?.mode)}
                    </td>
                    <td className="px-3 py-2 tabular-nums" data-testid="source-rows">{rowsOf(t.source)}</td>
                    <td className="px-3 py-2 tabular-nums" data-testid="target-rows">{rowsOf(t.target)}</td>
                    <td className="px-3 py-2 font-mono text-xs">{t.watermarkColumn ? `${t.watermarkColumn}: ${t.source.watermark ?? "–"} / ${t.target.watermark ?? "–"}` : "–"}</td>
                    <td className="px-3 py-2">{t.lag ?? "–"}</td>
                    <td className="px-3 py-2">
                      {t.running || t.queued ? (
                        <StatusBadge status={t.running ? "running" : "queued"} />
                      ) : t.lastRun ? (
                        <Link href={`/runs/${t.lastRun.runId}`} className="flex flex-col">
                          <StatusBadge status={t.lastRun.status} />
                          <span className="text-xs text-slate-500">{formatTime(t.lastRun.finishedAt)}</span>
                        </Link>
                      ) : (
                        <span className="text-slate-500">never</span>
                      )}
                    </td>
                    {canTrigger && (
                      <td className="px-3 py-2">
                        <button type="button" disabled={!hydrated || t.running || t.queued} onClick={() => ask([t.name])} className="rounded border border-slate-300 px-2 py-0.5 text-xs disabled:opacity-50" aria-label={`Refresh ${t.name}`}>
                          {t.running ? "Running…" : t.queued ? "Queued…" : "Refresh"}
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <dialog ref={dialog} className="m-auto max-w-md rounded-lg p-6 shadow-xl backdrop:bg-black/30" aria-labelledby="confirm-title">
        <h2 id="confirm-title" className="text-lg font-semibold">Refresh {pending?.length ? pending.join(", ") : "all enabled tables"}?</h2>
        <p className="mt-2 text-sm">
          This overwrites data in the <strong>target {target}</strong> ({data.target.engine}, environment <strong>{environment}</strong>) from the source {data.source.server}/{data.source.database}. The source is only read.
        </p>
        <PlanPreview plan={plan} />
        {trigger.isError && <p role="alert" className="mt-3 rounded bg-red-50 p-2 text-sm text-red-800">{trigger.error.message}</p>}
        <div className="mt-5 flex justify-end gap-2">
          <button type="button" className="rounded border border-slate-300 px-3 py-1 text-sm" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="button" disabled={trigger.isPending || plan.isPending} className="rounded bg-red-700 px-3 py-1 text-sm text-white disabled:opacity-50" onClick={() => pending && trigger.mutate(pending)}>
            {trigger.isPending ? "Starting…" : `Refresh ${target}`}
          </button>
        </div>
      </dialog>
    </div>
  );
}

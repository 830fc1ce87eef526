const COLORS: Record<string, string> = {
  succeeded: "bg-emerald-100 text-emerald-800",
  running: "bg-blue-100 text-blue-800",
  queued: "bg-indigo-100 text-indigo-800",
  awaiting_approval: "bg-violet-100 text-violet-800",
  rejected: "bg-slate-200 text-slate-800",
  expired: "bg-slate-200 text-slate-800",
  cancelled: "bg-slate-200 text-slate-800",
  interrupted: "bg-orange-100 text-orange-800",
  pending: "bg-slate-100 text-slate-700",
  failed: "bg-red-100 text-red-800",
  partial: "bg-amber-100 text-amber-800",
  skipped: "bg-slate-100 text-slate-600",
  ok: "bg-emerald-100 text-emerald-800",
  forbidden: "bg-red-100 text-red-800",
  denied: "bg-red-100 text-red-800",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`inline-block rounded px-1.5 py-0.5 text-xs font-medium ${COLORS[status] ?? "bg-slate-100 text-slate-700"}`}>{status}</span>;
}

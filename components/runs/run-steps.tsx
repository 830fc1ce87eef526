// The post-refresh steps of a run: where each ran, what it did, and why one did not.
import type { RunSnapshot } from "@/lib/runs";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatDuration, formatRows } from "@/components/ui/format";

const said: Record<string, string> = { planned: "would run", rolled_back: "rolled back" };

export function RunSteps({ steps }: { steps: RunSnapshot["steps"] }) {
  if (!steps.length) return null;
  return (
    <section className="rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="steps-heading">
      <h2 id="steps-heading" className="font-medium">Post-refresh steps</h2>
      <table className="mt-2 w-full text-sm">
        <thead className="text-left text-slate-500">
          <tr><th className="py-1">Step</th><th>Runs</th><th>Status</th><th className="text-right">Rows affected</th><th className="text-right">Duration</th></tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.name} className="border-t border-slate-100 align-top" data-testid={`step-${s.name}`}>
              <td className="py-1 font-medium">{s.name}</td>
              <td className="text-slate-600">{s.tables.length ? `in the transaction of ${s.tables.join(", ")}` : "after the tables"}{s.executions > 1 ? ` (${s.executions} times)` : ""}</td>
              <td>
                {said[s.status] ? <span>{said[s.status]}</span> : <StatusBadge status={s.status} />}
                {s.error && <p className={`text-xs ${s.status === "failed" ? "text-red-800" : "text-slate-600"}`}>{s.error}</p>}
              </td>
              <td className="text-right tabular-nums">
                {!s.executions ? "–" : s.rowsAffected === null ? <span title="The server gave no row count: statements that change no rows, or SQL Server under SET NOCOUNT ON">no row count</span> : formatRows(s.rowsAffected)}
              </td>
              <td className="text-right">{s.executions ? formatDuration(s.durationMs) : "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

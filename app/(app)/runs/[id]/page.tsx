import Link from "next/link";
import { notFound } from "next/navigation";
import { RunNotifications } from "@/components/runs/run-notifications";
import { RunProgress } from "@/components/runs/run-progress";
import { ApprovalPanel } from "@/components/runs/approval-panel";
import { metadata } from "@/lib/metadata/client";
import { getRun, runDeliveries, runSnapshot } from "@/lib/runs";
import { hasRole, roleIn } from "@/lib/roles";
import { requirePageRole } from "@/server/session";

/** What a run refreshes and who asked: "Refresh of customers, orders by oscar@example.test (web)". */
function runTitle(run: { dryRun: boolean; tables: { tableName: string }[]; triggeredBy: string; trigger: string }) {
  const names = run.tables.map((t) => t.tableName);
  const what = names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ") || "no table";
  return `${run.dryRun ? "Dry run" : "Refresh"} of ${what} by ${run.triggeredBy} (${run.trigger})`;
}

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageRole("viewer", "run detail");
  const run = await getRun(metadata(), (await params).id);
  if (!run) notFound();
  const retries = await metadata().refreshRun.findMany({ where: { retryOf: run.id }, select: { id: true, status: true }, orderBy: { startedAt: "asc" } });
  return (
    <section>
      <p className="text-sm"><Link href="/runs" className="text-slate-600 hover:underline">← Runs</Link></p>
      <h1 className="text-2xl font-semibold" data-testid="run-title">{runTitle(run)}</h1>
      <p className="mb-4 text-xs text-slate-500">
        Run <span className="font-mono">{run.id}</span> · environment <span data-testid="run-environment">{run.environment}</span>
        {run.retryOf && (
          <span data-testid="retry-of">
            {" "}· refreshes again what run <Link href={`/runs/${run.retryOf}`} className="font-mono hover:underline">{run.retryOf}</Link> did not finish
          </span>
        )}
      </p>
      {retries.length > 0 && (
        <p className="mb-4 text-sm text-slate-600" data-testid="retried-by">
          Refreshed again by{" "}
          {retries.map((r, i) => (
            <span key={r.id}>
              {i > 0 && ", "}run <Link href={`/runs/${r.id}`} className="font-mono hover:underline">{r.id}</Link> ({r.status.replace("_", " ")})
            </span>
          ))}
        </p>
      )}
      {run.status === "awaiting_approval" && (
        <ApprovalPanel
          runId={run.id}
          expiresAt={run.approvalExpiresAt?.toISOString() ?? null}
          requestedBy={run.triggeredBy}
          canDecide={hasRole(roleIn(user, run.environment), "operator") && user.label !== run.triggeredBy}
          why={user.label === run.triggeredBy ? "You asked for this run: another operator decides on it." : "Operators of this environment decide on it."}
        />
      )}
      {run.decidedBy && <p className="mb-4 text-sm text-slate-600" data-testid="decision">{run.status === "rejected" ? "Rejected" : "Approved"} by {run.decidedBy}{run.decisionNote ? `: ${run.decisionNote}` : ""}</p>}
      <RunProgress initial={runSnapshot(run)} operator={hasRole(roleIn(user, run.environment), "operator")} />
      <RunNotifications runId={run.id} initial={await runDeliveries(metadata(), run.id)} runEndedAt={run.finishedAt?.toISOString() ?? null} />
    </section>
  );
}

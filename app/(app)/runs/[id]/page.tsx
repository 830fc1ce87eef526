import Link from "next/link";
import { notFound } from "next/navigation";
import { RunNotifications } from "@/components/runs/run-notifications";
import { RunProgress } from "@/components/runs/run-progress";
import { metadata } from "@/lib/metadata/client";
import { getRun, runDeliveries, runSnapshot } from "@/lib/runs";
import { hasRole } from "@/lib/roles";
import { requirePageRole } from "@/server/session";

export default async function RunPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requirePageRole("viewer", "run detail");
  const run = await getRun(metadata(), (await params).id);
  if (!run) notFound();
  return (
    <section>
      <p className="text-sm"><Link href="/runs" className="text-slate-600 hover:underline">← Runs</Link></p>
      <h1 className="mb-4 text-2xl font-semibold">Run <span className="font-mono text-lg">{run.id}</span></h1>
      <RunProgress initial={runSnapshot(run)} canCancel={hasRole(user.role, "operator")} />
      <RunNotifications runId={run.id} initial={await runDeliveries(metadata(), run.id)} runEndedAt={run.finishedAt?.toISOString() ?? null} />
    </section>
  );
}

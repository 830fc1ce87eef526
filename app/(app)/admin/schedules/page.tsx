import Link from "next/link";
import { ScheduleForm } from "@/components/admin/schedule-form";
import { formatTime } from "@/components/ui/format";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { describeCron, nextRuns } from "@/lib/scheduler/cron";
import { deleteScheduleAction, saveScheduleAction, setScheduleEnabledAction } from "./actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment } from "@/server/environment";
import { ConfirmButton } from "@/components/ui/confirm-button";

export const metadata = { title: "Schedules" };

export default async function SchedulesPage({ searchParams }: { searchParams: Promise<{ env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "schedules");

  const db = metadataDb();
  const { current, all } = await pageEnvironment((await searchParams).env);
  const environment = current ?? "";
  const [schedules, tables] = await Promise.all([
    db.schedule.findMany({ where: { environment }, orderBy: { name: "asc" }, include: { fires: { orderBy: { dueAt: "desc" }, take: 5 } } }),
    db.tableConfig.findMany({ where: { environment }, select: { name: true }, orderBy: { name: "asc" } }),
  ]);
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Schedules{all.length > 1 ? `: ${environment}` : ""}</h1>
      {schedules.length === 0 ? <p className="text-slate-600">No schedules yet.</p> : (
        <ul className="space-y-3">
          {schedules.map((s) => (
            <li key={s.id} className="rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid={`schedule-${s.name}`}>
              <div className="flex flex-wrap items-center gap-3">
                <h2 className="font-medium">{s.name}</h2>
                <code className="rounded bg-slate-100 px-1">{s.cron}</code>
                <span>{describeCron(s.cron)} ({s.timezone})</span>
                <span className="text-slate-600">{s.scope === "all" ? "all enabled tables" : s.tables.join(", ")}</span>
                <span>{s.enabled ? "enabled" : "disabled"}</span>
                {s.preApproved && <span className="text-violet-800">pre-approved</span>}
                <form action={setScheduleEnabledAction.bind(null, s.id, !s.enabled)} className="ml-auto"><button className="text-xs underline">{s.enabled ? "Disable" : "Enable"}</button></form>
                <form action={deleteScheduleAction.bind(null, s.id)}><ConfirmButton className="text-xs text-red-700 underline" message={`Delete the schedule ${s.name}?`}>Delete</ConfirmButton></form>
              </div>
              {s.enabled && <p className="mt-1 text-xs text-slate-600">Next: {nextRuns(s.cron, s.timezone, 5).map((d) => formatTime(d)).join(" · ")}</p>}
              {s.fires.length > 0 && (
                <ul className="mt-2 text-xs">
                  {s.fires.map((f) => (
                    <li key={f.id}>
                      {formatTime(f.dueAt)}: {f.missed ? <span className="text-amber-700">missed (no instance was running)</span> : f.skipped ? <span className="text-slate-600">skipped: {f.skipped}</span> : f.runId ? <Link className="underline" href={`/runs/${f.runId}`}>run</Link> : "claimed, did not start (see audit trail)"}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
      {current && <ScheduleForm action={saveScheduleAction} environment={current} tables={tables.map((t) => t.name)} />}
    </section>
  );
}

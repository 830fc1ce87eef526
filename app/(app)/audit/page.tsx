import Link from "next/link";
import { DateRange, FilterBar, FilterSelect, FilterText } from "@/components/ui/filters";
import { Pager } from "@/components/ui/pager";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatTime } from "@/components/ui/format";
import { auditFiltersFrom, listAudit } from "@/lib/audit";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { requirePageRole } from "@/server/session";
import { environmentNames } from "@/lib/config/store";
import { retention } from "@/lib/ops/retention";

export const metadata = { title: "Audit trail" };

type Search = Record<string, string | undefined>;

// These actions name a run as their target (a cuid) when one was created.
const RUN_ACTIONS = new Set(["refresh.trigger", "refresh.dry_run", "refresh.finished", "refresh.cancel", "schedule.run"]);
const targetsRun = (e: { action: string; target: string | null }) => RUN_ACTIONS.has(e.action) && /^c[a-z0-9]{20,}$/.test(e.target ?? "");

export default async function AuditPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requirePageRole("viewer", "audit trail");
  const sp = await searchParams;
  const [{ events, total, page, pages }, environments, kept] = await Promise.all([listAudit(metadataDb(), auditFiltersFrom(sp)), environmentNames(metadataDb()), retention(metadataDb())]);
  const query = (extra: Record<string, string>) => new URLSearchParams({ ...Object.fromEntries(Object.entries(sp).filter(([, v]) => v) as [string, string][]), ...extra }).toString();
  return (
    <section>
      <div className="mb-4 flex items-center gap-4">
        <h1 className="text-2xl font-semibold">Audit trail</h1>
        <a href={`/api/audit/csv?${query({})}`} className="ml-auto rounded border border-slate-300 px-3 py-1 text-sm" download>
          Export CSV
        </a>
      </div>
      <p className="-mt-2 mb-4 text-sm text-slate-600" data-testid="audit-retention">
        {kept.auditDays ? `Events older than ${kept.auditDays} days are removed once a day.` : "Events are kept for good."}
      </p>
      <FilterBar clearHref="/audit">
        {environments.length > 1 && <FilterSelect name="env" label="Environment" value={sp.env} options={environments} />}
        <FilterText name="actor" label="Actor" value={sp.actor} />
        <FilterSelect name="action" label="Action" value={sp.action} options={["login", "refresh", "forbidden", "config", "table", "schedule", "user", "audit"]} />
        <FilterSelect name="outcome" label="Outcome" value={sp.outcome} options={["ok", "forbidden", "denied", "failed", "cancelled"]} />
        <DateRange from={sp.from} to={sp.to} />
      </FilterBar>
      {events.length === 0 ? (
        <p className="text-slate-600">No events match.</p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr><th className="px-3 py-2">Time</th><th className="px-3 py-2">Actor</th><th className="px-3 py-2">Action</th>{environments.length > 1 && <th className="px-3 py-2">Environment</th>}<th className="px-3 py-2">Target</th><th className="px-3 py-2">Outcome</th><th className="px-3 py-2">Details</th></tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.id} className="border-t border-slate-100 align-top" data-testid="audit-row">
                  <td className="whitespace-nowrap px-3 py-2">{formatTime(e.at)}</td>
                  <td className="px-3 py-2">{e.actor}</td>
                  <td className="px-3 py-2 font-mono text-xs">{e.action}</td>
                  {environments.length > 1 && <td className="px-3 py-2">{e.environment ?? "–"}</td>}
                  <td className="px-3 py-2 font-mono text-xs">{targetsRun(e) ? <Link className="underline" href={`/runs/${e.target}`}>{e.target}</Link> : e.target}</td>
                  <td className="px-3 py-2"><StatusBadge status={e.outcome} /></td>
                  <td className="max-w-md px-3 py-2"><pre className="whitespace-pre-wrap break-all font-mono text-xs">{JSON.stringify(e.details)}</pre></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager total={total} noun="event" page={page} pages={pages} href={(p) => `/audit?${query({ page: String(p) })}`} />
    </section>
  );
}

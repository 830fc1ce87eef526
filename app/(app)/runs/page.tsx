import Link from "next/link";
import { DateRange, FilterBar, FilterSelect, FilterText } from "@/components/ui/filters";
import { Pager } from "@/components/ui/pager";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatDuration, formatRows, formatTime } from "@/components/ui/format";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { dateParam } from "@/lib/params";
import { listRuns, runRows } from "@/lib/runs";
import { requirePageRole } from "@/server/session";
import { environmentNames } from "@/lib/config/store";
import { retention } from "@/lib/ops/retention";

export const metadata = { title: "Runs" };

type Search = { env?: string; table?: string; status?: string; who?: string; from?: string; to?: string; page?: string };

export default async function RunsPage({ searchParams }: { searchParams: Promise<Search> }) {
  await requirePageRole("viewer", "run history");
  const sp = await searchParams;
  const db = metadataDb();
  const [{ runs, total, page, pages }, tables, environments, kept] = await Promise.all([
    listRuns(db, { environment: sp.env || undefined, table: sp.table || undefined, status: sp.status || undefined, who: sp.who || undefined, from: dateParam(sp.from), to: dateParam(sp.to), page: Number(sp.page) || 1 }),
    db.tableConfig.findMany({ where: sp.env ? { environment: sp.env } : {}, select: { name: true }, distinct: ["name"], orderBy: { name: "asc" } }),
    environmentNames(db),
    retention(db),
  ]);
  const many = environments.length > 1;
  const link = (p: number) => `/runs?${new URLSearchParams({ ...Object.fromEntries(Object.entries(sp).filter(([, v]) => v)), page: String(p) })}`;
  return (
    <section>
      <h1 className="mb-1 text-2xl font-semibold">Runs</h1>
      <p className="mb-4 text-sm text-slate-600" data-testid="runs-retention">
        Runs that finished more than {kept.historyDays} days ago are removed once a day; each table&apos;s last results stay.
      </p>
      <FilterBar clearHref="/runs">
        {many && <FilterSelect name="env" label="Environment" value={sp.env} options={environments} />}
        <FilterSelect name="table" label="Table" value={sp.table} options={tables.map((t) => t.name)} />
        <FilterSelect name="status" label="Status" value={sp.status} options={["awaiting_approval", "queued", "running", "succeeded", "partial", "failed", "cancelled", "interrupted", "rejected", "expired"]} />
        <FilterText name="who" label="Who" value={sp.who} placeholder="email, schedule, host" />
        <DateRange from={sp.from} to={sp.to} />
      </FilterBar>
      {runs.length === 0 ? (
        <p className="text-slate-600">No runs match. Trigger one from the dashboard or the CLI.</p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr><th className="px-3 py-2">Started</th><th className="px-3 py-2">Status</th>{many && <th className="px-3 py-2">Environment</th>}<th className="px-3 py-2">Tables</th><th className="px-3 py-2">Triggered by</th><th className="px-3 py-2">Rows committed</th><th className="px-3 py-2">Duration</th></tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} className="border-t border-slate-100">
                  <td className="px-3 py-2"><Link href={`/runs/${r.id}`} className="text-blue-800 hover:underline">{formatTime(r.startedAt)}</Link></td>
                  <td className="px-3 py-2"><StatusBadge status={r.status} />{r.dryRun && <span className="ml-1 text-xs text-slate-500">dry run</span>}</td>
                  {many && <td className="px-3 py-2">{r.environment}</td>}
                  <td className="px-3 py-2">{r.tables.map((t) => t.tableName).join(", ")}</td>
                  <td className="px-3 py-2">{r.triggeredBy} <span className="text-xs text-slate-500">({r.trigger})</span></td>
                  <td className="px-3 py-2 tabular-nums" data-testid="runs-rows">{formatRows(runRows(r.tables).committed)}</td>
                  <td className="px-3 py-2">{formatDuration(r.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager total={total} noun="run" page={page} pages={pages} href={link} />
    </section>
  );
}

import Link from "next/link";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { deleteTableAction, setTableEnabledAction } from "./actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment, withEnvironment } from "@/server/environment";
import { ConfirmButton } from "@/components/ui/confirm-button";

export const metadata = { title: "Tables" };

export default async function TablesAdminPage({ searchParams }: { searchParams: Promise<{ saved?: string; env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "table configuration");

  const { saved, env } = await searchParams;
  const { current, all } = await pageEnvironment(env);
  const environment = current ?? "";
  const tables = await metadataDb().tableConfig.findMany({ where: { environment }, orderBy: [{ position: "asc" }, { name: "asc" }] });
  return (
    <section>
      <div className="mb-4 flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Table configs{all.length > 1 ? `: ${environment}` : ""}</h1>
        <Link href="/admin/config" className="text-sm underline">YAML import / export, connections</Link>
        <Link href={withEnvironment("/admin/tables/new", current)} className="ml-auto rounded bg-slate-900 px-3 py-1.5 text-sm text-white">Add table</Link>
      </div>
      {saved && <p role="status" className="mb-3 rounded bg-emerald-50 p-2 text-sm text-emerald-800">Saved {saved}.</p>}
      {tables.length === 0 ? (
        <p className="text-slate-600">No tables yet. Add one, or import a config.yaml.</p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr><th className="px-3 py-2">Table</th><th className="px-3 py-2">Strategy / mode</th><th className="px-3 py-2">Watermark</th><th className="px-3 py-2">Batch</th><th className="px-3 py-2">Enabled</th><th className="px-3 py-2"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {tables.map((t) => (
                <tr key={t.id} className="border-t border-slate-100" data-testid={`admin-table-${t.name}`}>
                  <td className="px-3 py-2 font-medium"><Link href={withEnvironment(`/admin/tables/${encodeURIComponent(t.name)}`, current)} className="hover:underline">{t.schema ? `${t.schema}.` : ""}{t.name}</Link></td>
                  <td className="px-3 py-2">{t.strategy}{t.strategy === "simple_copy" ? ` / ${t.syncMode}` : ""}</td>
                  <td className="px-3 py-2 font-mono text-xs">{t.incrementalColumn ? `${t.incrementalColumn} (${t.incrementalType})` : t.partitionColumn ?? "–"}</td>
                  <td className="px-3 py-2">{t.batchSize ?? "default"}</td>
                  <td className="px-3 py-2">{t.enabled ? "yes" : "no"}</td>
                  <td className="flex gap-2 px-3 py-2">
                    <form action={setTableEnabledAction.bind(null, environment, t.name, !t.enabled)}><button className="text-xs underline">{t.enabled ? "Disable" : "Enable"}</button></form>
                    <form action={deleteTableAction.bind(null, environment, t.name)}><ConfirmButton className="text-xs text-red-700 underline" label={`Delete ${t.name}`} message={`Delete the configuration of ${t.name}${environment ? ` in ${environment}` : ""}, with its masking rules and decisions? Its runs stay in the history; UAT's data is not touched.`}>Delete</ConfirmButton></form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

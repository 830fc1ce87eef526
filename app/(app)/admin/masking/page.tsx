import Link from "next/link";
import { MaskingActionForm, ProposalActions } from "@/components/admin/masking-forms";
import { unresolvedPersonalData } from "@/lib/config/masking";
import { rowToTable } from "@/lib/config/store";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { acceptProposalAction, noMaskingNeededAction, scanAction } from "./actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment, withEnvironment } from "@/server/environment";

export const metadata = { title: "Masking" };

/** Every table's masking at a glance, the PII scan, and its open proposals to accept or decide on. */
export default async function MaskingPage({ searchParams }: { searchParams: Promise<{ env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "masking");

  const { current, all } = await pageEnvironment((await searchParams).env);
  const environment = current ?? "";
  const tables = (await metadataDb().tableConfig.findMany({ where: { environment }, orderBy: [{ position: "asc" }, { name: "asc" }] })).map(rowToTable);
  const proposals = tables.flatMap((t) => {
    const open = new Set(unresolvedPersonalData(t).map((c) => c.toLowerCase()));
    return (t.personal_data ?? []).filter((p) => open.has(p.column.toLowerCase())).map((p) => ({ table: t.name, ...p }));
  });
  return (
    <section className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Masking and personal data{all.length > 1 ? `: ${environment}` : ""}</h1>
        <MaskingActionForm action={scanAction} hidden={{ env: environment }} submit="Scan source for personal data" className="ml-auto flex flex-wrap items-center gap-2" />
      </div>
      <p className="max-w-3xl text-sm text-slate-600">
        The scan reads column names, types and a sample of source values (read-only) and flags columns that look like personal data. A table with a
        flagged column that has no masking rule is refused by every refresh until the column gets a rule or an admin records why it needs none.
        Sampled values are never stored or logged.
      </p>

      <div>
        <h2 className="mb-2 text-lg font-semibold">Open proposals</h2>
        {proposals.length === 0 ? (
          <p className="text-sm text-slate-600">None: every flagged column is masked or has a recorded decision.</p>
        ) : (
          <ul className="space-y-2" aria-label="Open proposals">
            {proposals.map((p) => (
              <li key={`${p.table}.${p.column}`} data-testid={`proposal-${p.table}-${p.column}`} className="rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm">
                <p>
                  <span className="font-medium">{p.table}.{p.column}</span> <span className="text-slate-600">— {p.found ?? "flagged by hand"}</span>
                </p>
                <ProposalActions environment={environment} table={p.table} column={p.column} suggested={p.suggested_rule} accept={acceptProposalAction} decide={noMaskingNeededAction}>
                  <Link href={withEnvironment(`/admin/masking/${encodeURIComponent(p.table)}?column=${encodeURIComponent(p.column)}&rule=${encodeURIComponent(p.suggested_rule ?? "")}`, current)} className="self-center text-xs underline">
                    Edit the rule first
                  </Link>
                </ProposalActions>
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="min-w-full text-sm">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr><th className="px-3 py-2">Table</th><th className="px-3 py-2">Masked columns</th><th className="px-3 py-2">Flagged personal data</th><th className="px-3 py-2">Refresh</th></tr>
          </thead>
          <tbody>
            {tables.map((t) => {
              const open = unresolvedPersonalData(t);
              return (
                <tr key={t.name} className="border-t border-slate-100" data-testid={`masking-${t.name}`}>
                  <td className="px-3 py-2 font-medium"><Link href={withEnvironment(`/admin/masking/${encodeURIComponent(t.name)}`, current)} className="hover:underline">{t.name}</Link></td>
                  <td className="px-3 py-2 font-mono text-xs">{t.masking?.map((m) => `${m.column} (${m.rule})`).join(", ") || "–"}</td>
                  <td className="px-3 py-2">{t.personal_data?.length ?? 0}</td>
                  <td className="px-3 py-2">{open.length ? <span className="text-red-700">refused: {open.join(", ")} not masked</span> : "allowed"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

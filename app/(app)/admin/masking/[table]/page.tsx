import Link from "next/link";
import { notFound } from "next/navigation";
import { MaskingActionForm, ProposalActions } from "@/components/admin/masking-forms";
import { MaskingRulesEditor } from "@/components/admin/masking-rules-editor";
import { RULES, unresolvedPersonalData } from "@/lib/config/masking";
import { rowToTable } from "@/lib/config/store";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { targetColumns } from "@/server/masking";
import { acceptProposalAction, noMaskingNeededAction, saveRulesAction, scanAction } from "../actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment, withEnvironment } from "@/server/environment";

/** One table's masking: its flagged personal data and decisions, the rules editor with the preview, a scan. */
export default async function TableMaskingPage({ params, searchParams }: { params: Promise<{ table: string }>; searchParams: Promise<{ column?: string; rule?: string; saved?: string; env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "masking");

  const name = decodeURIComponent((await params).table);
  const { column, rule, saved, env } = await searchParams;
  const environment = (await pageEnvironment(env)).current;
  const row = environment ? await metadataDb().tableConfig.findUnique({ where: { environment_name: { environment, name } } }) : null;
  if (!row || !environment) notFound();
  const table = rowToTable(row);
  const open = new Set(unresolvedPersonalData(table).map((c) => c.toLowerCase()));
  const rules = table.masking ?? [];
  // "Edit the rule first" from a proposal: the editor opens with that column's rule added (not saved yet)
  const initial = column && !rules.some((r) => r.column.toLowerCase() === column.toLowerCase()) ? [...rules, { column, rule: rule ?? "" }] : rules;
  const stringify = (r: object) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]));
  return (
    <section className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold">Masking of {name}</h1>
        <Link href={withEnvironment("/admin/masking", environment)} className="text-sm underline">All tables</Link>
        <MaskingActionForm action={scanAction} hidden={{ env: environment, table: name }} submit="Scan this table" className="ml-auto flex flex-wrap items-center gap-2" />
      </div>

      {saved === "rules" && <p role="status" className="rounded bg-emerald-50 p-2 text-sm text-emerald-800">Masking rules saved.</p>}

      <div>
        <h2 className="mb-2 text-lg font-semibold">Personal data</h2>
        {!table.personal_data?.length ? (
          <p className="text-sm text-slate-600">No column is flagged as personal data. Run the scan, or flag one by recording a rule for it.</p>
        ) : (
          <ul className="space-y-2">
            {table.personal_data.map((p) => {
              const masked = rules.find((r) => r.column.toLowerCase() === p.column.toLowerCase());
              return (
                <li key={p.column} className={`rounded border p-3 text-sm ${open.has(p.column.toLowerCase()) ? "border-amber-200 bg-amber-50" : "border-slate-200 bg-white"}`}>
                  <p>
                    <span className="font-medium">{p.column}</span> <span className="text-slate-600">— {p.found ?? "flagged by hand"}</span>
                  </p>
                  {masked && <p className="text-xs text-emerald-800">masked with {masked.rule}</p>}
                  {p.no_masking_needed && <p className="text-xs text-slate-700">no masking needed: “{p.no_masking_needed}” ({p.decided_by ?? "unknown"})</p>}
                  {open.has(p.column.toLowerCase()) && <ProposalActions environment={environment} table={name} column={p.column} suggested={p.suggested_rule} accept={acceptProposalAction} decide={noMaskingNeededAction} />}
                </li>
              );
            })}
          </ul>
        )}
      </div>

      <div>
        <h2 className="mb-2 text-lg font-semibold">Rules</h2>
        <MaskingRulesEditor key={JSON.stringify(rules)} environment={environment} table={name} initial={initial.map(stringify)} columns={await targetColumns(environment, name)} rules={RULES} action={saveRulesAction} />
      </div>
    </section>
  );
}

"use client";

import { useActionState, useState } from "react";
import type { MaskingActionState } from "@/app/(app)/admin/masking/actions";
import type { MaskingPreview } from "@/lib/engine/masking/preview";
import { useHydrated } from "@/components/ui/use-hydrated";

type Action = (prev: MaskingActionState, form: FormData) => Promise<MaskingActionState>;

/** One rule as the editor holds it: every field as typed. */
type Draft = Record<"column" | "rule" | "value" | "length" | "keep_first" | "keep_last" | "mask_char" | "days" | "expression", string>;

const EMPTY: Draft = { column: "", rule: "", value: "", length: "", keep_first: "", keep_last: "", mask_char: "", days: "", expression: "" };
const NUMBERS = new Set(["length", "keep_first", "keep_last", "days"]);
/** The parameters each rule takes (the schema says which are required). */
const PARAMS: Record<string, (keyof Draft)[]> = { fixed: ["value"], hash: ["length"], partial: ["keep_first", "keep_last", "mask_char"], date_shift: ["days"], sql: ["expression"] };

/** The draft as config.yaml would say it: empty fields left out, numbers as numbers (the server validates). */
function toRules(drafts: Draft[]) {
  return drafts.map((d) =>
    Object.fromEntries(
      Object.entries(d)
        .filter(([, v]) => v !== "")
        .map(([k, v]) => [k, NUMBERS.has(k) && /^-?\d+$/.test(v) ? Number(v) : v]),
    ),
  );
}

export function MaskingRulesEditor({
  environment,
  table,
  initial,
  columns,
  rules,
  action,
}: {
  environment: string;
  table: string;
  initial: Partial<Draft>[];
  /** Columns of the target table, when the catalog could be read. */
  columns: string[];
  rules: readonly string[];
  action: Action;
}) {
  const hydrated = useHydrated();
  const [drafts, setDrafts] = useState<Draft[]>(initial.map((r) => ({ ...EMPTY, ...r })));
  const [state, formAction, pending] = useActionState(action, { errors: [] });
  const [preview, setPreview] = useState<{ data?: MaskingPreview; error?: string; loading?: boolean }>({});
  const set = (i: number, k: keyof Draft, v: string) => setDrafts((ds) => ds.map((d, j) => (j === i ? { ...d, [k]: v } : d)));

  async function runPreview() {
    setPreview({ loading: true });
    const res = await fetch(`/api/tables/${encodeURIComponent(table)}/masking/preview?env=${encodeURIComponent(environment)}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ rules: toRules(drafts) }) });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    setPreview(res.ok ? { data: body as MaskingPreview } : { error: (body as { error?: string }).error ?? `HTTP ${res.status}` });
  }

  return (
    <div className="space-y-4">
      <form action={formAction} className="space-y-3 rounded-lg border border-slate-200 bg-white p-4">
        <input type="hidden" name="env" value={environment} />
        <input type="hidden" name="table" value={table} />
        <input type="hidden" name="rules" value={JSON.stringify(toRules(drafts))} />
        <datalist id="masking-columns">{columns.map((c) => <option key={c} value={c} />)}</datalist>
        {drafts.length === 0 && <p className="text-sm text-slate-600">No masking rules: rows are copied as they are.</p>}
        {drafts.map((d, i) => (
          <fieldset key={i} className="flex flex-wrap items-end gap-2 border-b border-slate-100 pb-3 text-sm" aria-label={`Rule ${i + 1}`}>
            <label className="flex flex-col gap-1">
              <span className="text-xs text-slate-600">Column</span>
              <input list="masking-columns" value={d.column} onChange={(e) => set(i, "column", e.target.value)} aria-label={`Rule ${i + 1} column`} className="w-40 rounded border border-slate-300 px-2 py-1" />
            </label>
            <label className="flex flex-col gap-1">
              <span className="text-xs text-slate-600">Rule</span>
              <select value={d.rule} onChange={(e) => set(i, "rule", e.target.value)} aria-label={`Rule ${i + 1} rule`} className="rounded border border-slate-300 px-2 py-1">
                <option value="">choose…</option>
                {rules.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </label>
            {(PARAMS[d.rule] ?? []).map((k) => (
              <label key={k} className="flex flex-col gap-1">
                <span className="text-xs text-slate-600">{k}</span>
                <input value={d[k]} onChange={(e) => set(i, k, e.target.value)} aria-label={`Rule ${i + 1} ${k}`} className={`${k === "expression" ? "w-96 font-mono" : "w-28"} rounded border border-slate-300 px-2 py-1`} />
              </label>
            ))}
            <button type="button" disabled={!hydrated} onClick={() => setDrafts((ds) => ds.filter((_, j) => j !== i))} className="text-xs text-red-700 underline">Remove</button>
          </fieldset>
        ))}
        <div className="flex flex-wrap gap-2">
          <button type="button" disabled={!hydrated} onClick={() => setDrafts((ds) => [...ds, { ...EMPTY }])} className="rounded border border-slate-300 px-3 py-1.5 text-sm">Add rule</button>
          <button type="button" onClick={runPreview} disabled={!hydrated || preview.loading} className="rounded border border-slate-300 px-3 py-1.5 text-sm">{preview.loading ? "Reading source…" : "Preview"}</button>
          <button disabled={pending} className="ml-auto rounded bg-slate-900 px-3 py-1.5 text-sm text-white disabled:opacity-50">{pending ? "Checking…" : "Save rules"}</button>
        </div>
        {state.errors.length > 0 && (
          <ul role="alert" className="list-disc rounded bg-red-50 py-2 pl-6 pr-2 text-sm text-red-800">{state.errors.map((e) => <li key={e}>{e}</li>)}</ul>
        )}
        {state.done && <p role="status" className="text-sm text-emerald-800">{state.done}</p>}
      </form>

      {preview.error && <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">Preview: {preview.error}</p>}
      {preview.data && (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <p className="px-3 pt-2 text-xs text-slate-500">The first {preview.data.rows.length} source rows by {preview.data.keyColumn}, before and after masking. Computed now, not stored.</p>
          <table className="min-w-full text-sm" aria-label="Masking preview">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr>
                <th className="px-3 py-2">{preview.data.keyColumn}</th>
                {preview.data.columns.map((c) => <th key={c.name} className="px-3 py-2">{c.name} <span className="font-normal">({c.rule})</span></th>)}
              </tr>
            </thead>
            <tbody>
              {preview.data.rows.map((r, i) => (
                <tr key={i} className="border-t border-slate-100 align-top">
                  <td className="px-3 py-2 font-mono text-xs">{r.key ?? "NULL"}</td>
                  {r.values.map((v, j) => (
                    <td key={j} className="px-3 py-2 font-mono text-xs">
                      <div className="text-slate-500 line-through" data-testid="before">{v.before ?? "NULL"}</div>
                      <div data-testid="after">{v.after ?? "NULL"}</div>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

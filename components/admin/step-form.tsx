"use client";

import { useActionState, useState } from "react";
import type { StepFormState } from "@/app/(app)/admin/steps/actions";
import type { StepTemplate } from "@/lib/config/step-templates";

type Action = (prev: StepFormState, form: FormData) => Promise<StepFormState>;

export interface StepDraft {
  name: string;
  sql: string;
  tables: string[];
  enabled: boolean;
  description: string;
}

const EMPTY: StepDraft = { name: "", sql: "", tables: [], enabled: true, description: "" };

/** A new step (optionally started from a template of the target's engine), or an existing one edited. */
export function StepForm({ action, environment, tables, templates, editing }: { action: Action; environment: string; tables: string[]; templates: StepTemplate[]; editing?: StepDraft }) {
  const [state, formAction, pending] = useActionState(action, { errors: [] });
  const [draft, setDraft] = useState<StepDraft>(editing ?? EMPTY);
  const applyTemplate = (id: string) => {
    const t = templates.find((x) => x.id === id);
    if (t) setDraft({ name: t.title, sql: t.sql, tables: (t.tables ?? []).filter((x) => tables.includes(x)), enabled: true, description: t.description });
  };
  return (
    <form action={formAction} className="space-y-4 rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid="step-form">
      <h2 className="font-medium">{editing ? `Edit step ${editing.name}` : "New step"}</h2>
      {state.errors.length > 0 && (
        <ul role="alert" className="list-disc pl-5 text-red-700">
          {state.errors.map((e) => <li key={e}>{e}</li>)}
        </ul>
      )}
      {state.saved && <p role="status" className="text-emerald-800">Saved step {state.saved}.</p>}
      <input type="hidden" name="env" value={environment} />
      {editing && <input type="hidden" name="original" value={editing.name} />}
      {!editing && templates.length > 0 && (
        <label className="flex flex-col gap-1">
          Start from a template (edit the names in it before saving)
          <select defaultValue="" onChange={(e) => applyTemplate(e.target.value)} className="rounded border border-slate-300 px-2 py-1" aria-label="Template">
            <option value="">(none)</option>
            {templates.map((t) => <option key={t.id} value={t.id}>{t.title}</option>)}
          </select>
        </label>
      )}
      <label className="flex flex-col gap-1">Name<input name="name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} className="rounded border border-slate-300 px-2 py-1" /></label>
      <label className="flex flex-col gap-1">Description<input name="description" value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} className="rounded border border-slate-300 px-2 py-1" /></label>
      <label className="flex flex-col gap-1">
        SQL, run on the target (UAT). Parameters: @run_id, @run_started_at, @triggered_by
        <textarea name="sql" rows={10} value={draft.sql} onChange={(e) => setDraft({ ...draft, sql: e.target.value })} className="rounded border border-slate-300 px-2 py-1 font-mono text-xs" spellCheck={false} />
      </label>
      <fieldset className="flex flex-wrap items-center gap-4">
        <legend className="mb-1">Run inside the refresh transaction of (none ticked: after the run&apos;s tables)</legend>
        {tables.map((t) => (
          <label key={t} className="flex items-center gap-1">
            <input type="checkbox" name="tables" value={t} checked={draft.tables.includes(t)} onChange={(e) => setDraft({ ...draft, tables: e.target.checked ? [...draft.tables, t] : draft.tables.filter((x) => x !== t) })} /> {t}
          </label>
        ))}
      </fieldset>
      <label className="flex items-center gap-2"><input type="checkbox" name="enabled" checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })} /> Enabled</label>
      <button disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-white">Save step</button>
    </form>
  );
}

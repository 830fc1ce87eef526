"use client";

import { useActionState, useState } from "react";
import type { ImportState } from "@/app/(app)/admin/config/actions";

type Action = (prev: ImportState, form: FormData) => Promise<ImportState>;

/** The server refuses a configuration above 1 MiB; said here before anything is sent. */
const MAX_BYTES = 1024 * 1024;

export function YamlImport({ action }: { action: Action }) {
  const [state, formAction, pending] = useActionState(action, { yaml: "" });
  const [yaml, setYaml] = useState(state.yaml);
  const [tooLarge, setTooLarge] = useState<string | null>(null);
  const d = state.diff;
  const nothing = d && !d.added.length && !d.removed.length && !d.changed.length && !d.databases.length && !d.settings.length && !d.steps?.length && !d.rules?.length;
  return (
    <form action={formAction} className="space-y-3">
      <label className="block text-sm">
        <span className="font-medium">Upload a config.yaml</span>{" "}
        <input
          type="file"
          accept=".yaml,.yml,text/yaml"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            if (f.size > MAX_BYTES) {
              setTooLarge(`${f.name} is ${(f.size / 1024 / 1024).toFixed(1)} MiB; a configuration may be at most 1 MiB`);
              return;
            }
            setTooLarge(null);
            setYaml(await f.text());
          }}
        />
      </label>
      <textarea name="yaml" value={yaml} onChange={(e) => setYaml(e.target.value)} rows={12} aria-label="Configuration YAML" className="w-full rounded border border-slate-300 p-2 font-mono text-xs" placeholder="…or paste it here" />
      {tooLarge && <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">{tooLarge}</p>}
      {state.error && <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">{state.error}</p>}
      {state.issues && (
        <div role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">
          <p className="font-medium">The configuration is invalid:</p>
          <ul className="list-disc pl-5 font-mono text-xs">{state.issues.map((i) => <li key={i}>{i}</li>)}</ul>
        </div>
      )}
      {d && (
        <div className="rounded border border-slate-200 bg-slate-50 p-3 text-sm" data-testid="config-diff">
          {state.applied && <p role="status" className="mb-2 font-medium text-emerald-800">Applied.</p>}
          {nothing ? <p>No changes.</p> : (
            <ul className="space-y-1">
              {d.added.map((n) => <li key={`a${n}`} className="text-emerald-800">+ table {n}</li>)}
              {d.removed.map((n) => <li key={`r${n}`} className="text-red-800">− table {n}</li>)}
              {d.changed.map((c) => <li key={`c${c.name}`}>~ table {c.name}: {c.fields.map((f) => `${f.field} ${JSON.stringify(f.before)} → ${JSON.stringify(f.after)}`).join("; ")}</li>)}
              {d.databases.map((c) => <li key={`d${c.side}${c.field}`}>~ {c.side}.{c.field}: {JSON.stringify(c.before)} → {JSON.stringify(c.after)}</li>)}
              {d.settings.map((c) => <li key={`s${c.field}`}>~ settings.{c.field}: {JSON.stringify(c.before)} → {JSON.stringify(c.after)}</li>)}
              {d.rules?.map((c) => <li key={`r${c.field}`}>~ {c.field}: {JSON.stringify(c.before)} → {JSON.stringify(c.after)}</li>)}
              {d.steps?.map((c) => <li key={`p${c.name}`}>{c.before ? (c.after ? "~" : "−") : "+"} post-refresh step {c.name}{c.before && c.after ? `: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}` : ""}</li>)}
            </ul>
          )}
        </div>
      )}
      {state.connectionChanges && !state.applied && (
        <label className="flex items-start gap-2 rounded border border-amber-300 bg-amber-50 p-2 text-sm text-amber-900">
          <input type="checkbox" name="confirm_connections" value="yes" className="mt-1" />
          <span>
            I confirm these connection changes; credentials will be sent to what they name:
            <ul className="list-disc pl-5 font-mono text-xs">{state.connectionChanges.map((c) => <li key={c}>{c}</li>)}</ul>
          </span>
        </label>
      )}
      <div className="flex gap-2">
        <button name="intent" value="preview" disabled={pending || !yaml || yaml.length > MAX_BYTES} className="rounded border border-slate-300 px-3 py-1.5 text-sm">Preview changes</button>
        <button name="intent" value="apply" disabled={pending || !d || !!nothing || state.applied} className="rounded bg-slate-900 px-3 py-1.5 text-sm text-white disabled:opacity-50">Apply</button>
      </div>
    </form>
  );
}

"use client";

import { useActionState, useState } from "react";
import type { TableFormState } from "@/app/(app)/admin/tables/actions";
import { formatRows } from "@/components/ui/format";

type Action = (prev: TableFormState, form: FormData) => Promise<TableFormState>;

function Field({ name, label, error, children, hint }: { name: string; label: string; error?: string; children: React.ReactNode; hint?: string }) {
  return (
    <div className="flex flex-col gap-1 text-sm">
      <label htmlFor={name} className="font-medium">{label}</label>
      {children}
      {hint && !error && <p className="text-xs text-slate-500">{hint}</p>}
      {error && <p id={`${name}-error`} role="alert" className="text-xs text-red-700">{error}</p>}
    </div>
  );
}

const input = "rounded border border-slate-300 px-2 py-1 aria-[invalid=true]:border-red-500";

export function TableForm({ action, initial, original, environment }: { action: Action; initial: TableFormState; original?: string; environment: string }) {
  const [state, formAction, pending] = useActionState(action, initial);
  const v = state.values;
  const [strategy, setStrategy] = useState(String(v.strategy || "simple_copy"));
  const [mode, setMode] = useState(String(v.sync_mode || "full_replace"));
  const err = (k: string) => state.errors[k];
  const text = (name: string, label: string, hint?: string) => (
    <Field name={name} label={label} error={err(name)} hint={hint}>
      <input id={name} name={name} defaultValue={String(v[name] ?? "")} className={input} aria-invalid={!!err(name)} aria-describedby={err(name) ? `${name}-error` : undefined} />
    </Field>
  );
  return (
    <form action={formAction} className="space-y-5 rounded-lg border border-slate-200 bg-white p-5" key={JSON.stringify(initial.values)}>
      <input type="hidden" name="env" value={environment} />
      {original && <input type="hidden" name="original" value={original} />}
      {err("_") && <p role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">{err("_")}</p>}
      {/* masking rules and personal data are edited on the masking page, but a change here can break them */}
      {(["masking", "personal_data"] as const).map((k) => err(k) && <p key={k} role="alert" className="rounded bg-red-50 p-2 text-sm text-red-800">{err(k)} (see the table&apos;s masking page)</p>)}
      <div className="grid gap-4 sm:grid-cols-3">
        {text("name", "Table name")}
        {text("schema", "Schema", "empty: the engine's default (public / dbo)")}
        <Field name="strategy" label="Strategy" error={err("strategy")}>
          <select id="strategy" name="strategy" value={strategy} onChange={(e) => setStrategy(e.target.value)} className={input}>
            <option value="simple_copy">simple_copy</option>
            <option value="staging_partition_switch">staging_partition_switch</option>
          </select>
        </Field>
      </div>
      {strategy === "simple_copy" && (
        <div className="grid gap-4 sm:grid-cols-3">
          <Field name="sync_mode" label="Sync mode" error={err("sync_mode")}>
            <select id="sync_mode" name="sync_mode" value={mode} onChange={(e) => setMode(e.target.value)} className={input}>
              <option value="full_replace">full_replace</option>
              <option value="incremental">incremental</option>
              <option value="smart_sync">smart_sync</option>
            </select>
          </Field>
          {mode !== "full_replace" && text("incremental_column", "Incremental column")}
          {mode !== "full_replace" && (
            <Field name="incremental_type" label="Incremental type" error={err("incremental_type")}>
              <select id="incremental_type" name="incremental_type" defaultValue={String(v.incremental_type ?? "")} className={input} aria-invalid={!!err("incremental_type")}>
                <option value="">choose…</option>
                <option value="identity">identity</option>
                <option value="date">date</option>
                <option value="datetime">datetime</option>
              </select>
            </Field>
          )}
        </div>
      )}
      {strategy === "staging_partition_switch" && (
        <div className="grid gap-4 sm:grid-cols-3">
          {text("partition_column", "Partition column", "empty: the table's partition key")}
          {text("partition_function", "Partition function", "SQL Server; default pf_{table}")}
          {text("partition_scheme", "Partition scheme", "SQL Server; default ps_{table}")}
        </div>
      )}
      <div className="grid gap-4 sm:grid-cols-3">
        {text("date_buffer_days", "Date buffer days", "re-sync this many days before the target's max")}
        {text("batch_size", "Batch size", "empty: settings.default_batch_size")}
        <div className="flex flex-col justify-end gap-2 text-sm">
          <label className="flex items-center gap-2"><input type="checkbox" name="truncate_target" defaultChecked={v.truncate_target !== false} aria-describedby="truncate_target-applies" /> Truncate target (else DELETE)</label>
          <p id="truncate_target-applies" className="-mt-1 text-xs text-slate-500" data-testid="truncate-applies">{truncateApplies(strategy, mode)}</p>
          <label className="flex items-center gap-2"><input type="checkbox" name="fire_triggers" defaultChecked={v.fire_triggers === true} /> Fire the target&apos;s triggers during the load</label>
          <label className="flex items-center gap-2"><input type="checkbox" name="enabled" defaultChecked={v.enabled !== false} /> Enabled</label>
          {strategy === "simple_copy" && (
            <label className="flex items-center gap-2" title="A full replace is refused where production holds far fewer rows than UAT's copy (settings.min_source_rows_percent): set this after a purge on purpose">
              <input type="checkbox" name="allow_shrink" defaultChecked={v.allow_shrink === true} /> Allow production&apos;s table to shrink (a purge)
            </label>
          )}
        </div>
      </div>
      <fieldset className="space-y-3 rounded border border-slate-200 p-3">
        <legend className="px-1 text-sm font-medium">What UAT keeps</legend>
        <div className="grid gap-4 sm:grid-cols-2">
          {text("keep_rows", "Rows to keep", "a condition over UAT's columns, e.g. created_by = 'tester' OR id >= 2000000000: never deleted or overwritten")}
          {text("keep_columns", "Columns to keep", "comma-separated: UAT's values stay on rows production also has (a settings row's URL)")}
        </div>
        <div className="grid gap-4 sm:grid-cols-3">
          {text("uat_ids_from", "UAT ids from", "UAT's own new rows take ids from here up; empty: the key type's default (int 2e9, bigint 9e18)")}
          {/* smart_sync copies incrementally once UAT has rows: the buffer applies there too (hidden, a save would drop it). */}
          {strategy === "simple_copy" && mode !== "full_replace" && text("identity_buffer", "Identity buffer", "ids re-read below the watermark (rows production committed out of order); empty: 10000")}
          <label className="flex items-center gap-2 self-end text-sm"><input type="checkbox" name="keep_table" defaultChecked={v.keep_table === true} /> Keep the whole table (never refreshed; its references keep their parents)</label>
        </div>
      </fieldset>
      {/* keep hidden mode fields posted so the schema sees them when sections are collapsed */}
      {strategy !== "simple_copy" && <input type="hidden" name="sync_mode" value="full_replace" />}

      {state.plan && (
        <section aria-label="Dry-run plan" className="rounded border border-emerald-200 bg-emerald-50 p-3 text-sm" data-testid="plan">
          <h2 className="font-medium">Dry-run plan: checked against the live source and target</h2>
          <p className="mt-1">{state.plan.mode}: {state.plan.reason}</p>
          <p className="mt-1">Rows expected: <strong>{state.plan.rowsEstimated ? "≈" : ""}{formatRows(state.plan.rowsExpected)}</strong>{state.plan.watermark !== null ? ` · target watermark ${state.plan.watermark}` : ""}</p>
          {state.plan.verifies && <p className="mt-1" data-testid="plan-verifies">Verifies: {state.plan.verifies}</p>}
          {state.plan.missingDays && <p className="mt-1">New partitions: {state.plan.missingDays.join(", ") || "none"}</p>}
          <pre className="mt-2 whitespace-pre-wrap break-all font-mono text-xs">{state.plan.sql}{state.plan.params.length ? `\n-- params: ${JSON.stringify(state.plan.params)}` : ""}</pre>
        </section>
      )}
      <div className="flex gap-2">
        <button type="submit" name="intent" value="preview" disabled={pending} className="rounded border border-slate-300 px-3 py-1.5 text-sm">
          {pending ? "Checking…" : "Check & preview"}
        </button>
        <button type="submit" name="intent" value="save" disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-sm text-white">
          Save
        </button>
      </div>
    </form>
  );
}

/** When the truncate option is used at all, so an option that does not apply says so. */
function truncateApplies(strategy: string, mode: string): string {
  if (strategy !== "simple_copy") return "Does not apply: partitions are switched in, never emptied.";
  if (mode === "incremental") return "Does not apply: an incremental copy never empties the table.";
  if (mode === "smart_sync") return "Applies only when smart_sync does a full replace; never to a parent merged by key or rows UAT keeps.";
  return "Applies to the full replace; a parent merged by key and rows UAT keeps are never emptied.";
}

"use client";

import { useActionState, useMemo, useState } from "react";
import type { ScheduleFormState } from "@/app/(app)/admin/schedules/actions";
import { describeCron, nextRuns, cronError } from "@/lib/scheduler/cron";

type Action = (prev: ScheduleFormState, form: FormData) => Promise<ScheduleFormState>;

const ZONES = ["UTC", "Europe/London", "Europe/Amsterdam", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney"];

export function ScheduleForm({ action, tables, environment }: { action: Action; tables: string[]; environment: string }) {
  const [state, formAction, pending] = useActionState(action, { errors: {} });
  const [cron, setCron] = useState("0 2 * * *");
  const [tz, setTz] = useState("UTC");
  const [scope, setScope] = useState("all");
  const preview = useMemo(() => {
    const err = cronError(cron, tz);
    if (err) return { err };
    return { text: describeCron(cron), next: nextRuns(cron, tz, 5) };
  }, [cron, tz]);
  const err = (k: string) => state.errors[k];
  return (
    <form action={formAction} className="space-y-4 rounded-lg border border-slate-200 bg-white p-4 text-sm">
      <input type="hidden" name="env" value={environment} />
      <h2 className="font-medium">New schedule</h2>
      {err("_") && <p role="alert" className="text-red-700">{err("_")}</p>}
      {state.saved && <p role="status" className="text-emerald-800">Saved schedule {state.saved}.</p>}
      <div className="grid gap-4 sm:grid-cols-3">
        <label className="flex flex-col gap-1">Name<input name="name" className="rounded border border-slate-300 px-2 py-1" aria-invalid={!!err("name")} />{err("name") && <span role="alert" className="text-xs text-red-700">{err("name")}</span>}</label>
        <label className="flex flex-col gap-1">Cron expression<input name="cron" value={cron} onChange={(e) => setCron(e.target.value)} className="rounded border border-slate-300 px-2 py-1 font-mono" aria-invalid={!!err("cron")} />{err("cron") && <span role="alert" className="text-xs text-red-700">{err("cron")}</span>}</label>
        <label className="flex flex-col gap-1">Time zone
          <select name="timezone" value={tz} onChange={(e) => setTz(e.target.value)} className="rounded border border-slate-300 px-2 py-1">{ZONES.map((z) => <option key={z}>{z}</option>)}</select>
        </label>
      </div>
      <div className="rounded bg-slate-50 p-2" data-testid="cron-preview" aria-live="polite">
        {preview.err ? <span className="text-red-700">{preview.err}</span> : (
          <>
            <p className="font-medium">{preview.text} ({tz})</p>
            <p className="text-xs text-slate-600">Next: {preview.next!.map((d) => d.toLocaleString("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "short" })).join(" · ")}</p>
          </>
        )}
      </div>
      <fieldset className="flex flex-wrap items-center gap-4">
        <legend className="sr-only">Scope</legend>
        <label className="flex items-center gap-1"><input type="radio" name="scope" value="all" checked={scope === "all"} onChange={() => setScope("all")} /> all enabled tables</label>
        <label className="flex items-center gap-1"><input type="radio" name="scope" value="tables" checked={scope === "tables"} onChange={() => setScope("tables")} /> these tables:</label>
        {scope === "tables" && tables.map((t) => <label key={t} className="flex items-center gap-1"><input type="checkbox" name="tables" value={t} /> {t}</label>)}
        {err("tables") && <span role="alert" className="text-xs text-red-700">{err("tables")}</span>}
      </fieldset>
      <label className="flex items-center gap-2"><input type="checkbox" name="enabled" defaultChecked /> Enabled</label>
      <label className="flex items-center gap-2"><input type="checkbox" name="pre_approved" /> Pre-approved (its runs need no approval where the environment requires one)</label>
      <button disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-white">Save schedule</button>
    </form>
  );
}

"use client";

import { useActionState, useState } from "react";
import type { ChannelFormState } from "@/app/(app)/admin/notifications/actions";
import { EVENT_LABELS, NOTIFY_EVENTS } from "@/lib/notify/events";

type Action = (prev: ChannelFormState, form: FormData) => Promise<ChannelFormState>;

const TARGET_HINT: Record<string, string> = {
  email: "ops@example.com, dba@example.com",
  slack: "https://hooks.slack.com/services/… or env:SLACK_WEBHOOK_URL",
  teams: "https://…webhook.office.com/… or env:TEAMS_WEBHOOK_URL",
  webhook: "https://alerts.example.com/uat-refresh or env:ALERT_WEBHOOK_URL",
};

export function ChannelForm({ action, environments }: { action: Action; environments: string[] }) {
  const [state, formAction, pending] = useActionState(action, { errors: {} });
  const [kind, setKind] = useState("email");
  const err = (k: string) => state.errors[k];
  const field = (k: string) => err(k) && <span role="alert" className="text-xs text-red-700">{err(k)}</span>;
  return (
    <form action={formAction} className="space-y-4 rounded-lg border border-slate-200 bg-white p-4 text-sm">
      <h2 className="font-medium">New channel</h2>
      {err("_") && <p role="alert" className="text-red-700">{err("_")}</p>}
      {state.saved && <p role="status" className="text-emerald-800">Saved channel {state.saved}.</p>}
      <div className="grid gap-4 sm:grid-cols-3">
        <label className="flex flex-col gap-1">Name<input name="name" className="rounded border border-slate-300 px-2 py-1" aria-invalid={!!err("name")} />{field("name")}</label>
        <label className="flex flex-col gap-1">Kind
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value)} className="rounded border border-slate-300 px-2 py-1">
            <option value="email">email</option>
            <option value="slack">Slack</option>
            <option value="teams">Microsoft Teams</option>
            <option value="webhook">generic webhook (JSON)</option>
          </select>
        </label>
        <label className="flex flex-col gap-1">{kind === "email" ? "Recipients" : "Webhook URL"}<input name="target" placeholder={TARGET_HINT[kind]} className="rounded border border-slate-300 px-2 py-1" aria-invalid={!!err("target")} />{field("target")}</label>
      </div>
      <fieldset className="space-y-1">
        <legend className="font-medium">Events</legend>
        {NOTIFY_EVENTS.map((e) => <label key={e} className="flex items-center gap-2"><input type="checkbox" name="events" value={e} /> {EVENT_LABELS[e]}</label>)}
        {field("events")}
      </fieldset>
      {environments.length > 1 && (
        <fieldset className="flex flex-wrap gap-3">
          <legend className="font-medium">Environments (none ticked: every environment)</legend>
          {environments.map((e) => <label key={e} className="flex items-center gap-1"><input type="checkbox" name="environments" value={e} /> {e}</label>)}
        </fieldset>
      )}
      <div className="grid gap-4 sm:grid-cols-3">
        <label className="flex flex-col gap-1">N minutes (run still going)<input name="longRunMinutes" type="number" min={1} className="rounded border border-slate-300 px-2 py-1" />{field("longRunMinutes")}</label>
        <label className="flex flex-col gap-1">N hours (table not refreshed)<input name="lagHours" type="number" min={1} className="rounded border border-slate-300 px-2 py-1" />{field("lagHours")}</label>
      </div>
      <label className="flex items-center gap-2"><input type="checkbox" name="enabled" defaultChecked /> Enabled</label>
      <button disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-white">Save channel</button>
    </form>
  );
}

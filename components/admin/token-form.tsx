"use client";

import { useActionState } from "react";
import type { TokenFormState } from "@/app/(app)/admin/tokens/actions";

type Action = (prev: TokenFormState, form: FormData) => Promise<TokenFormState>;

/** New service token: name, role, environments, expiry; the token is shown once, right here. */
export function TokenForm({ action, environments }: { action: Action; environments: string[] }) {
  const [state, formAction, pending] = useActionState(action, { errors: [] });
  return (
    <form action={formAction} className="space-y-3 rounded-lg border border-slate-200 bg-white p-4 text-sm">
      <h2 className="font-medium">New service token</h2>
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col gap-1">Name<input name="name" required className="rounded border border-slate-300 px-2 py-1" placeholder="qa-pipeline" /></label>
        <label className="flex flex-col gap-1">
          Role
          <select name="role" defaultValue="operator" className="rounded border border-slate-300 px-2 py-1">
            <option value="operator">operator (trigger, cancel, read)</option>
            <option value="viewer">viewer (read)</option>
          </select>
        </label>
        <label className="flex flex-col gap-1">Expires in (days)<input name="expires_in_days" type="number" min={1} max={366} defaultValue={90} className="w-24 rounded border border-slate-300 px-2 py-1" /></label>
      </div>
      <fieldset className="flex flex-wrap gap-3">
        <legend className="mb-1">Environments (none ticked: every environment)</legend>
        {environments.map((e) => (
          <label key={e} className="flex items-center gap-1"><input type="checkbox" name="environments" value={e} /> {e}</label>
        ))}
      </fieldset>
      <button disabled={pending} className="rounded bg-slate-900 px-3 py-1.5 text-white disabled:opacity-50">Create token</button>
      {state.errors.map((e) => <p key={e} role="alert" className="text-red-700">{e}</p>)}
      {state.created && (
        <div role="status" className="rounded bg-emerald-50 p-3" data-testid="new-token">
          <p>Token <strong>{state.created.name}</strong>: copy it now, it is not shown again (only its hash is kept).</p>
          <code className="mt-1 block break-all font-mono text-xs" data-testid="token-value">{state.created.token}</code>
        </div>
      )}
    </form>
  );
}

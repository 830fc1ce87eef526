"use client";

import { useActionState } from "react";
import type { MaskingActionState } from "@/app/(app)/admin/masking/actions";

type Action = (prev: MaskingActionState, form: FormData) => Promise<MaskingActionState>;

/** A small form for one masking action: hidden fields, its own inputs, and the outcome (errors or what was done). */
export function MaskingActionForm({
  action,
  hidden,
  submit,
  children,
  className = "flex flex-wrap items-center gap-2",
}: {
  action: Action;
  hidden: Record<string, string>;
  submit: string;
  children?: React.ReactNode;
  className?: string;
}) {
  const [state, formAction, pending] = useActionState(action, { errors: [] });
  return (
    <form action={formAction} className={className}>
      {Object.entries(hidden).map(([k, v]) => (
        <input key={k} type="hidden" name={k} value={v} />
      ))}
      {children}
      <button disabled={pending} className="rounded border border-slate-300 bg-white px-2 py-1 text-xs hover:bg-slate-50 disabled:opacity-50">
        {pending ? "Working…" : submit}
      </button>
      {state.errors.length > 0 && (
        <ul role="alert" className="w-full list-disc rounded bg-red-50 py-1 pl-6 pr-2 text-xs text-red-800">
          {state.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
      {state.done && <p role="status" className="w-full text-xs text-emerald-800">{state.done}</p>}
    </form>
  );
}

/** What an admin can do about a flagged column without a rule: accept the proposed rule, or record why it needs none. */
export function ProposalActions({
  environment,
  table,
  column,
  suggested,
  accept,
  decide,
  children,
}: {
  environment: string;
  table: string;
  column: string;
  suggested?: string;
  accept: Action;
  decide: Action;
  /** More choices between the two (the overview links to the rules editor). */
  children?: React.ReactNode;
}) {
  return (
    <div className="mt-2 flex flex-wrap items-start gap-4">
      {suggested && <MaskingActionForm action={accept} hidden={{ env: environment, table, column, rule: suggested }} submit={`Accept ${suggested}`} />}
      {children}
      <MaskingActionForm action={decide} hidden={{ env: environment, table, column }} submit="No masking needed">
        <input name="reason" aria-label={`Why ${table}.${column} needs no masking`} placeholder="reason (at least 10 characters)" className="w-72 rounded border border-slate-300 px-2 py-1 text-xs" />
      </MaskingActionForm>
    </div>
  );
}

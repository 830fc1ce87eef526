// The foreign keys into a table from tables outside the configuration, and the admins' decision on each: a refresh
// refuses such a table until the referencing table is configured or its rows are recorded as kept.
import { keepReferencingAction } from "@/app/(app)/admin/tables/actions";
import { MaskingActionForm } from "@/components/admin/masking-forms";
import { outsideReferences, type OutsideReference } from "@/server/relations";

export async function OutsideReferences({ environment, table }: { environment: string; table: string }) {
  let refs: OutsideReference[];
  try {
    refs = await outsideReferences(environment, table);
  } catch (e) {
    return <p className="text-sm text-slate-600">The target&apos;s foreign keys could not be read: {(e as Error).message}</p>;
  }
  return (
    <section className="mt-8" data-testid="outside-references">
      <h2 className="mb-2 text-lg font-semibold">Tables outside the configuration that reference {table}</h2>
      {refs.length === 0 ? (
        <p className="text-sm text-slate-600">None: every table with a foreign key into {table} is configured.</p>
      ) : (
        <ul className="space-y-3">
          {refs.map((r) => (
            <li key={`${r.table}.${r.foreignKey}`} className="rounded border border-slate-200 bg-white p-3 text-sm" data-testid={`outside-${r.foreignKey}`}>
              <p>
                <span className="font-mono">{r.table}</span> ({r.columns.join(", ")}) via <span className="font-mono">{r.foreignKey}</span>:{" "}
                {r.kept ? (
                  <span className="text-emerald-800">UAT&apos;s rows are kept ({r.kept.reason}; {r.kept.decided_by ?? "recorded in config.yaml"}). {table} is merged, never emptied.</span>
                ) : (
                  <span className="text-red-800">refuses the refresh of {table} until it is configured or its rows are kept.</span>
                )}
              </p>
              <MaskingActionForm action={keepReferencingAction} hidden={{ env: environment, table, foreign_key: r.foreignKey, referencing: r.table, intent: r.kept ? "withdraw" : "keep" }} submit={r.kept ? "Withdraw" : "Keep UAT's rows"} className="mt-2 flex flex-wrap items-center gap-2">
                {!r.kept && <input name="reason" required minLength={10} placeholder="why UAT's rows there may stay" aria-label={`Reason to keep ${r.table}`} className="w-80 rounded border border-slate-300 px-2 py-1 text-xs" />}
              </MaskingActionForm>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

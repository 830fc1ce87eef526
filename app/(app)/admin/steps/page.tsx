import Link from "next/link";
import { StepForm } from "@/components/admin/step-form";
import { templatesFor } from "@/lib/config/step-templates";
import { exportConfig } from "@/lib/config/store";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { deleteStepAction, moveStepAction, saveStepAction, setStepEnabledAction } from "./actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment, withEnvironment } from "@/server/environment";
import { ConfirmButton } from "@/components/ui/confirm-button";

export const metadata = { title: "Post-refresh steps" };

export default async function StepsPage({ searchParams }: { searchParams: Promise<{ edit?: string; env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "post-refresh steps");
  const { edit, env } = await searchParams;
  const { current, all } = await pageEnvironment(env);
  const environment = current ?? "";
  const config = current ? await exportConfig(metadataDb(), current).catch(() => null) : null;
  if (!config) return <p className="text-slate-600">Import a configuration first (Admin → Configuration).</p>;
  const steps = config.post_refresh_steps ?? [];
  const editing = steps.find((s) => s.name === edit);
  const tables = config.tables.map((t) => t.name);
  return (
    <section className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Post-refresh steps{all.length > 1 ? `: ${environment}` : ""}</h1>
        <p className="mt-1 text-sm text-slate-600">
          SQL run on the target ({config.databases.target.engine === "sqlserver" ? "SQL Server" : "PostgreSQL"} {config.databases.target.database}) after a refresh, in this order.
          A step for tables runs inside each transaction that refreshes one of them, just before the commit: if it fails, that table stays as it was.
          The other steps run after the run&apos;s tables, together in one transaction: if one fails, none of them is kept and the run fails.
        </p>
      </div>
      {steps.length === 0 ? <p className="text-slate-600">No steps yet.</p> : (
        <ol className="space-y-3">
          {steps.map((s, i) => (
            <li key={s.name} className="rounded-lg border border-slate-200 bg-white p-4 text-sm" data-testid={`step-${s.name}`}>
              <div className="flex flex-wrap items-center gap-3">
                <span className="tabular-nums text-slate-500">{i + 1}.</span>
                <h2 className="font-medium">{s.name}</h2>
                <span className="text-slate-600">{s.tables?.length ? `in the transaction of ${s.tables.join(", ")}` : "after the tables"}</span>
                <span>{s.enabled ? "enabled" : "disabled"}</span>
                <span className="ml-auto flex gap-3 text-xs">
                  {i > 0 && <form action={moveStepAction.bind(null, environment, s.name, -1)}><button className="underline">Up</button></form>}
                  {i < steps.length - 1 && <form action={moveStepAction.bind(null, environment, s.name, 1)}><button className="underline">Down</button></form>}
                  <Link className="underline" href={withEnvironment(`/admin/steps?edit=${encodeURIComponent(s.name)}`, current)}>Edit</Link>
                  <form action={setStepEnabledAction.bind(null, environment, s.name, !s.enabled)}><button className="underline">{s.enabled ? "Disable" : "Enable"}</button></form>
                  <form action={deleteStepAction.bind(null, environment, s.name)}><ConfirmButton className="text-red-700 underline" message={`Delete the post-refresh step ${s.name}?`}>Delete</ConfirmButton></form>
                </span>
              </div>
              {s.description && <p className="mt-1 text-slate-600">{s.description}</p>}
              <pre className="mt-2 overflow-x-auto rounded bg-slate-50 p-2 font-mono text-xs">{s.sql}</pre>
            </li>
          ))}
        </ol>
      )}
      <StepForm
        key={editing?.name ?? "new"}
        action={saveStepAction}
        environment={environment}
        tables={tables}
        templates={templatesFor(config.databases.target.engine)}
        editing={editing && { name: editing.name, sql: editing.sql, tables: editing.tables ?? [], enabled: editing.enabled, description: editing.description ?? "" }}
      />
    </section>
  );
}

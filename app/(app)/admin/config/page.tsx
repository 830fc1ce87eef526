import { YamlImport } from "@/components/admin/yaml-import";
import { StatusBadge } from "@/components/ui/status-badge";
import { rowToDatabase } from "@/lib/config/store";
import { credentialStatus } from "@/lib/engine/connections";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { importYamlAction } from "./actions";
import { requirePageRole } from "@/server/session";

export const metadata = { title: "Configuration" };

export default async function ConfigPage() {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "configuration");

  const connections = await metadataDb().connection.findMany({ orderBy: [{ env: { position: "asc" } }, { environment: "asc" }, { role: "asc" }] });
  const environments = [...new Set(connections.map((c) => c.environment))];
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Configuration</h1>
      <div className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">Connections</h2>
        <p className="mb-3 text-sm text-slate-600">Credentials live in environment variables of the app server, never in the database. Only whether each variable is set is shown.</p>
        {environments.map((environment) => (
          <div key={environment} className="mb-3" data-testid={`environment-${environment}`}>
            {environments.length > 1 && <h3 className="mb-1 text-sm font-medium">{environment}</h3>}
            <div className="grid gap-3 sm:grid-cols-2">
              {connections
                .filter((c) => c.environment === environment)
                .map((c) => {
                  const db = rowToDatabase(c);
                  return (
                    <div key={c.id} className="rounded border border-slate-200 p-3 text-sm" data-testid={`connection-config-${c.role}`}>
                      <p className="font-medium capitalize">{c.role}</p>
                      <p>{c.engine} · {c.host}{c.port ? `:${c.port}` : ""} / {c.database}{db.auth_type ? ` · auth_type ${db.auth_type}` : ""}</p>
                      <ul className="mt-1">
                        {credentialStatus(db, c.role).map((v) => (
                          <li key={v.name} className="font-mono text-xs">{v.name} <StatusBadge status={v.set ? "ok" : "failed"} /> {v.set ? "set" : "not set"}</li>
                        ))}
                      </ul>
                      {Object.keys(db.options).length > 0 && <p className="mt-1 font-mono text-xs text-slate-600">options: {JSON.stringify(db.options)}</p>}
                    </div>
                  );
                })}
            </div>
          </div>
        ))}
      </div>
      <div className="rounded-lg border border-slate-200 bg-white p-4">
        <div className="mb-2 flex items-center">
          <h2 className="font-medium">YAML import</h2>
          <a href="/api/config/yaml" className="ml-auto rounded border border-slate-300 px-3 py-1 text-sm" download>Export config.yaml</a>
        </div>
        <YamlImport action={importYamlAction} />
      </div>
    </section>
  );
}

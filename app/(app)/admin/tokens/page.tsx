import { TokenForm } from "@/components/admin/token-form";
import { formatTime } from "@/components/ui/format";
import { environmentNames } from "@/lib/config/store";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { requirePageRole } from "@/server/session";
import { createTokenAction, revokeTokenAction } from "./actions";

export const metadata = { title: "Service tokens" };

/** Service tokens for pipelines: who made each, its scope, expiry, last use; revocation. */
export default async function TokensPage() {
  await requirePageRole("admin", "service tokens");
  const db = metadataDb();
  const [tokens, environments] = await Promise.all([db.apiToken.findMany({ orderBy: { createdAt: "desc" } }), environmentNames(db)]);
  const now = new Date();
  return (
    <section className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold">Service tokens</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-600">
          For pipelines that refresh an environment before their tests: <code>Authorization: Bearer &lt;token&gt;</code> on the REST API
          (<a className="underline" href="/api/openapi.json">OpenAPI description</a>), or <code>uat-refresh --api URL --env NAME --force --wait</code> with the
          token in <code>UAT_REFRESH_TOKEN</code>. Every use is in the audit trail under the token&apos;s name.
        </p>
      </div>
      {tokens.length === 0 ? <p className="text-slate-600">No tokens yet.</p> : (
        <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
          <table className="min-w-full text-sm">
            <thead className="bg-slate-50 text-left text-slate-600">
              <tr><th className="px-3 py-2">Name</th><th className="px-3 py-2">Role</th><th className="px-3 py-2">Environments</th><th className="px-3 py-2">Expires</th><th className="px-3 py-2">Last used</th><th className="px-3 py-2">State</th><th className="px-3 py-2"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} className="border-t border-slate-100" data-testid={`token-${t.name}`}>
                  <td className="px-3 py-2"><span className="font-medium">{t.name}</span> <span className="font-mono text-xs text-slate-500">{t.prefix}…</span><span className="block text-xs text-slate-500">by {t.createdBy}</span></td>
                  <td className="px-3 py-2">{t.role}</td>
                  <td className="px-3 py-2">{t.environments.join(", ") || "every environment"}</td>
                  <td className="px-3 py-2">{formatTime(t.expiresAt)}</td>
                  <td className="px-3 py-2">{t.lastUsedAt ? formatTime(t.lastUsedAt) : "never"}</td>
                  <td className="px-3 py-2">{t.revokedAt ? `revoked by ${t.revokedBy}` : t.expiresAt <= now ? "expired" : "active"}</td>
                  <td className="px-3 py-2">{!t.revokedAt && <form action={revokeTokenAction.bind(null, t.id)}><button className="text-xs text-red-700 underline">Revoke</button></form>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <TokenForm action={createTokenAction} environments={environments} />
    </section>
  );
}

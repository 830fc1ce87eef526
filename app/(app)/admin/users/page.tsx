import { formatTime } from "@/components/ui/format";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { ROLES } from "@/lib/roles";
import { currentUser, requirePageRole } from "@/server/session";
import { setActiveAction, setGrantAction, setRoleAction } from "./actions";
import { environmentNames } from "@/lib/config/store";

export const metadata = { title: "Users" };

export default async function UsersPage() {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "users");
  const me = await currentUser();
  const users = await metadataDb().user.findMany({ orderBy: [{ email: "asc" }, { createdAt: "asc" }], include: { identities: { orderBy: { createdAt: "asc" } }, grants: { orderBy: { environment: "asc" } } } });
  const environments = await environmentNames(metadataDb());
  return (
    <section>
      <h1 className="mb-2 text-2xl font-semibold">Users</h1>
      <p className="mb-4 text-sm text-slate-600">People appear here at their first sign-in, as viewers (or admins, for a verified address in INITIAL_ADMIN_EMAILS). A user is an identity provider account (issuer + subject); a second provider joins the same user only when it asserts the email verified.</p>
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <table className="min-w-full text-sm">
          <thead className="bg-slate-50 text-left text-slate-600">
            <tr><th className="px-3 py-2">User</th><th className="px-3 py-2">Role</th>{environments.length > 0 && <th className="px-3 py-2">Per environment</th>}<th className="px-3 py-2">Last sign-in</th><th className="px-3 py-2">Status</th></tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} className="border-t border-slate-100" data-testid={`user-${u.email ?? u.id}`}>
                <td className="px-3 py-2">
                  {u.name ?? "–"} <span className="text-slate-500">{u.email ?? "no verified email"}</span>
                  <ul className="text-xs text-slate-500" data-testid="identities">
                    {u.identities.map((i) => (
                      <li key={i.id}>
                        {i.subject} at {i.issuer}
                        {i.email && !i.emailVerified ? ` (claims ${i.email}, not verified)` : ""}
                      </li>
                    ))}
                  </ul>
                </td>
                <td className="px-3 py-2">
                  <form action={setRoleAction.bind(null, u.id)} className="flex gap-2">
                    <select name="role" defaultValue={u.role} aria-label={`Role of ${u.email ?? u.name ?? u.id}`} className="rounded border border-slate-300 px-1 py-0.5" disabled={u.id === me?.id}>
                      {ROLES.map((r) => <option key={r}>{r}</option>)}
                    </select>
                    {u.id !== me?.id && <button className="text-xs underline">Save</button>}
                  </form>
                </td>
                {environments.length > 0 && (
                  <td className="px-3 py-2" data-testid="grants">
                    {u.role === "admin" ? (
                      <span className="text-xs text-slate-500">admin in every environment</span>
                    ) : (
                      <form action={setGrantAction.bind(null, u.id)} className="flex flex-wrap items-center gap-2">
                        <ul className="mr-2 text-xs">
                          {u.grants.map((g) => <li key={g.environment}>{g.environment}: {g.role}</li>)}
                          {u.grants.length === 0 && <li className="text-slate-500">{u.role} everywhere</li>}
                        </ul>
                        <select name="environment" aria-label={`Environment for ${u.email ?? u.name ?? u.id}`} className="rounded border border-slate-300 px-1 py-0.5">
                          {environments.map((e) => <option key={e}>{e}</option>)}
                        </select>
                        <select name="role" aria-label={`Grant role to ${u.email ?? u.name ?? u.id}`} className="rounded border border-slate-300 px-1 py-0.5" defaultValue="operator">
                          <option value="operator">operator</option>
                          <option value="viewer">viewer</option>
                          <option value="default">{u.role} (their role)</option>
                        </select>
                        <button className="text-xs underline">Grant</button>
                      </form>
                    )}
                  </td>
                )}
                <td className="px-3 py-2">{formatTime(u.lastLoginAt)}</td>
                <td className="px-3 py-2">
                  {u.id === me?.id ? "you" : (
                    <form action={setActiveAction.bind(null, u.id, !u.active)}>
                      <span className="mr-2">{u.active ? "active" : "deactivated"}</span>
                      <button className="text-xs underline">{u.active ? "Deactivate" : "Activate"}</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

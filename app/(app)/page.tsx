import Link from "next/link";
import { Dashboard } from "@/components/dashboard/dashboard";
import { EnvironmentsOverview } from "@/components/dashboard/environments-overview";
import { hasRole, roleIn } from "@/lib/roles";
import { lastKnownStatus } from "@/lib/engine/status";
import { pageEnvironment, withEnvironment } from "@/server/environment";
import { requirePageRole } from "@/server/session";

export const metadata = { title: "Dashboard" };

export default async function DashboardPage({ searchParams }: { searchParams: Promise<{ env?: string | string[] }> }) {
  const user = await requirePageRole("viewer", "dashboard");
  const { current, all } = await pageEnvironment((await searchParams).env);
  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Dashboard{all.length > 1 && current ? `: ${current}` : ""}</h1>
      {all.length > 1 && current && <EnvironmentsOverview current={current} />}
      {all.length > 1 && (
        <nav aria-label="Environments" className="mb-4 flex gap-2 text-sm">
          {all.map((name) => (
            <Link key={name} href={withEnvironment("/", name)} aria-current={name === current ? "page" : undefined} className={`rounded border px-2 py-1 ${name === current ? "border-slate-800 bg-slate-800 text-white" : "border-slate-300 text-slate-700"}`}>
              {name}
            </Link>
          ))}
        </nav>
      )}
      {current ? <Dashboard key={current} environment={current} initial={lastKnownStatus(current)} canTrigger={hasRole(roleIn(user, current), "operator")} /> : <p className="text-slate-600">No environment is configured yet: an admin imports a config.yaml on Admin &gt; Configuration.</p>}
    </section>
  );
}

import { Dashboard } from "@/components/dashboard/dashboard";
import { hasRole } from "@/lib/roles";
import { requirePageRole } from "@/server/session";

export const metadata = { title: "Dashboard" };

export default async function DashboardPage() {
  const user = await requirePageRole("viewer", "dashboard");
  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Dashboard</h1>
      <Dashboard canTrigger={hasRole(user.role, "operator")} />
    </section>
  );
}

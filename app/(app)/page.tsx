import { requirePageRole } from "@/server/session";
import { metadata } from "@/lib/metadata/client";

export const dynamic = "force-dynamic";

export default async function DashboardPage() {
  const user = await requirePageRole("viewer", "dashboard");
  const tables = await metadata().tableConfig.findMany({ orderBy: [{ position: "asc" }, { name: "asc" }] });
  return (
    <section>
      <h1 className="text-2xl font-semibold">Dashboard</h1>
      <p className="mt-1 text-sm text-slate-600">Signed in as {user.email}.</p>
      <ul className="mt-4 list-disc pl-6">
        {tables.map((t) => (
          <li key={t.id}>
            {t.name}: {t.strategy} / {t.syncMode}
          </li>
        ))}
      </ul>
    </section>
  );
}

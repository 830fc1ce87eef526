import { TableForm } from "@/components/admin/table-form";
import { saveTableAction } from "../actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment } from "@/server/environment";
import { notFound } from "next/navigation";

export const metadata = { title: "Add table" };

export default async function NewTablePage({ searchParams }: { searchParams: Promise<{ env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "table configuration");
  const environment = (await pageEnvironment((await searchParams).env)).current;
  if (!environment) notFound();

  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Add a table</h1>
      <TableForm action={saveTableAction} environment={environment} initial={{ values: { strategy: "simple_copy", sync_mode: "full_replace", truncate_target: true, enabled: true }, errors: {} }} />
    </section>
  );
}

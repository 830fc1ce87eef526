import { TableForm } from "@/components/admin/table-form";
import { saveTableAction } from "../actions";
import { requirePageRole } from "@/server/session";

export const metadata = { title: "Add table" };

export default async function NewTablePage() {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "table configuration");

  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Add a table</h1>
      <TableForm action={saveTableAction} initial={{ values: { strategy: "simple_copy", sync_mode: "full_replace", truncate_target: true, enabled: true }, errors: {} }} />
    </section>
  );
}

import { TableForm } from "@/components/admin/table-form";
import { saveTableAction } from "../actions";

export const metadata = { title: "Add table" };

export default function NewTablePage() {
  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Add a table</h1>
      <TableForm action={saveTableAction} initial={{ values: { strategy: "simple_copy", sync_mode: "full_replace", truncate_target: true, enabled: true }, errors: {} }} />
    </section>
  );
}

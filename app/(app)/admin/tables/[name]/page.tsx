import { notFound } from "next/navigation";
import { OutsideReferences } from "@/components/admin/outside-references";
import { TableForm } from "@/components/admin/table-form";
import { valuesFromTable } from "@/lib/config/form";
import { rowToTable } from "@/lib/config/store";
import { metadata as metadataDb } from "@/lib/metadata/client";
import { saveTableAction } from "../actions";
import { requirePageRole } from "@/server/session";
import { pageEnvironment } from "@/server/environment";

export default async function EditTablePage({ params, searchParams }: { params: Promise<{ name: string }>; searchParams: Promise<{ env?: string }> }) {
  // Each page checks the role itself (the admin layout does too, but a page must not rely on being nested there).
  await requirePageRole("admin", "table configuration");

  const name = decodeURIComponent((await params).name);
  const environment = (await pageEnvironment((await searchParams).env)).current;
  const row = environment ? await metadataDb().tableConfig.findUnique({ where: { environment_name: { environment, name } } }) : null;
  if (!row || !environment) notFound();
  return (
    <section>
      <h1 className="mb-4 text-2xl font-semibold">Edit {name}</h1>
      <TableForm action={saveTableAction} environment={environment} original={name} initial={{ values: valuesFromTable(rowToTable(row)), errors: {} }} />
      <OutsideReferences environment={environment} table={name} />
    </section>
  );
}

"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { audit } from "@/lib/audit";
import { parseTableForm, tableFormValues, withStoredFields, type FormValues } from "@/lib/config/form";
import { exportConfig, rowToTable, tableToRow } from "@/lib/config/store";
import { formEnvironment, withEnvironment } from "@/server/environment";
import { registerBuiltInDialects } from "@/lib/dialects/builtin";
import { checkAgainstCatalog } from "@/lib/engine/validate";
import { metadata } from "@/lib/metadata/client";
import { decideKeepReferencing } from "@/server/relations";
import { requireActionRole } from "@/server/session";

registerBuiltInDialects();

export interface TableFormState {
  values: FormValues;
  errors: Record<string, string>;
  plan?: { mode: string; reason: string; sql: string; params: string[]; rowsExpected: number; rowsEstimated: boolean; watermark: string | null; verifies?: string; days?: number[]; missingDays?: number[] };
}

export async function saveTableAction(prev: TableFormState, form: FormData): Promise<TableFormState> {
  const values = tableFormValues(form);
  const original = String(form.get("original") ?? "");
  const user = await requireActionRole("admin", "edit table config");
  const { table: parsed, errors } = parseTableForm(values);
  if (!parsed) return { values, errors };
  const db = metadata();
  const environment = await formEnvironment(user, form);
  const before = original ? await db.tableConfig.findUnique({ where: { environment_name: { environment, name: original } } }) : null;
  const table = before ? withStoredFields(parsed, rowToTable(before)) : parsed;
  const clash = await db.tableConfig.findUnique({ where: { environment_name: { environment, name: table.name } } });
  if (clash && clash.name !== original) return { values, errors: { name: `name: a table config named ${table.name} already exists` } };

  const config = await exportConfig(db, environment);
  const check = await checkAgainstCatalog(config, table);
  if (Object.keys(check.issues).length) return { values, errors: check.issues };
  const p = check.plan!;
  const plan = { mode: p.mode, reason: p.reason, sql: p.sourceQuery.sql, params: p.sourceQuery.params.map(String), rowsExpected: p.rowsExpected, rowsEstimated: !!p.rowsEstimated, watermark: p.watermarkBefore ?? null, verifies: p.verifies, days: p.days, missingDays: p.missingDays };
  if (form.get("intent") !== "save") return { values, errors: {}, plan };

  const position = before?.position ?? (await db.tableConfig.count({ where: { environment } }));
  const data = tableToRow(table, position);
  if (before) await db.tableConfig.update({ where: { id: before.id }, data });
  else await db.tableConfig.create({ data: { ...data, env: { connect: { name: environment } } } });
  await audit({
    actor: user.label,
    environment,
    action: before ? "table.update" : "table.create",
    target: table.name,
    details: { before: before ? JSON.parse(JSON.stringify(rowToTable(before))) : null, after: JSON.parse(JSON.stringify(table)) },
  });
  revalidatePath("/admin/tables");
  redirect(withEnvironment(`/admin/tables?saved=${encodeURIComponent(table.name)}`, environment));
}

export async function setTableEnabledAction(environment: string, name: string, enabled: boolean) {
  const user = await requireActionRole("admin", "edit table config");
  const db = metadata();
  const where = { environment_name: { environment, name } };
  const before = await db.tableConfig.findUniqueOrThrow({ where });
  await db.tableConfig.update({ where, data: { enabled } });
  await audit({ actor: user.label, environment, action: enabled ? "table.enable" : "table.disable", target: name, details: { before: { enabled: before.enabled }, after: { enabled } } });
  revalidatePath("/admin/tables");
}

export async function deleteTableAction(environment: string, name: string) {
  const user = await requireActionRole("admin", "delete table config");
  const db = metadata();
  const where = { environment_name: { environment, name } };
  const before = await db.tableConfig.findUniqueOrThrow({ where });
  await db.tableConfig.delete({ where });
  await audit({ actor: user.label, environment, action: "table.delete", target: name, details: { before: JSON.parse(JSON.stringify(rowToTable(before))), after: null } });
  revalidatePath("/admin/tables");
}

export interface KeepState {
  errors: string[];
  done?: string;
}

/** Records, or withdraws, that UAT's rows behind a foreign key from a table outside the configuration are kept. */
export async function keepReferencingAction(_prev: KeepState, form: FormData): Promise<KeepState> {
  const table = String(form.get("table") ?? "");
  const user = await requireActionRole("admin", `decide on tables referencing ${table}`);
  const foreignKey = String(form.get("foreign_key") ?? "");
  const referencing = String(form.get("referencing") ?? "");
  const keep = form.get("intent") !== "withdraw";
  const environment = await formEnvironment(user, form);
  const result = await decideKeepReferencing(environment, table, foreignKey, referencing, keep ? String(form.get("reason") ?? "") : null, user.label);
  revalidatePath(`/admin/tables/${encodeURIComponent(table)}`);
  return { errors: result.errors, done: result.errors.length ? undefined : keep ? `${referencing} keeps its rows: ${table} is merged, never emptied.` : `Withdrawn: ${referencing} refuses the refresh again.` };
}

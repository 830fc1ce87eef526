"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { maskRuleSchema } from "@/lib/config/masking";
import { formatIssues } from "@/lib/config/schema";
import { withNoMaskingNeeded, withRule } from "@/lib/config/personal-data";
import { changeTableMasking, scanAndFlag } from "@/server/masking";
import { requireActionRole, type AppUser } from "@/server/session";
import { redact } from "@/lib/redact";
import { formEnvironment, withEnvironment } from "@/server/environment";

export interface MaskingActionState {
  errors: string[];
  /** What was done, for the status line. */
  done?: string;
}

/** The admin; anyone else gets a 403 (audited by requireActionRole). */
function admin(what: string): Promise<AppUser> {
  return requireActionRole("admin", what);
}

function refresh(table?: string) {
  revalidatePath("/admin/masking");
  if (table) revalidatePath(`/admin/masking/${encodeURIComponent(table)}`);
}

export async function scanAction(_prev: MaskingActionState, form: FormData): Promise<MaskingActionState> {
  const table = String(form.get("table") ?? "") || undefined;
  const user = await admin("scan for personal data");
  const environment = await formEnvironment(user, form);
  try {
    const { findings, errors } = await scanAndFlag(environment, user.label, table ? [table] : undefined);
    refresh(table);
    return { errors, done: `Scanned ${table ?? "every table"}: ${findings.length} column(s) look like personal data.` };
  } catch (e) {
    return { errors: [`the scan failed: ${redact((e as Error).message)}`] };
  }
}

export async function acceptProposalAction(_prev: MaskingActionState, form: FormData): Promise<MaskingActionState> {
  const table = String(form.get("table") ?? "");
  const parsed = maskRuleSchema.safeParse({ column: form.get("column"), rule: form.get("rule") });
  const user = await admin(`edit masking rules of ${table}`);
  if (!parsed.success) return { errors: formatIssues(parsed.error) };
  const result = await changeTableMasking(await formEnvironment(user, form), table, withRule(parsed.data), { actor: user.label, action: "masking.rules", details: { accepted: parsed.data } });
  refresh(table);
  return { errors: result.errors, done: result.errors.length ? undefined : `${parsed.data.column} is masked with ${parsed.data.rule}.` };
}

export async function noMaskingNeededAction(_prev: MaskingActionState, form: FormData): Promise<MaskingActionState> {
  const table = String(form.get("table") ?? "");
  const column = String(form.get("column") ?? "");
  const reason = String(form.get("reason") ?? "").trim();
  const user = await admin(`record a masking decision on ${table}`);
  const result = await changeTableMasking(await formEnvironment(user, form), table, withNoMaskingNeeded(column, reason, user.label), { actor: user.label, action: "masking.no_masking_needed", details: { column, reason } });
  refresh(table);
  return { errors: result.errors, done: result.errors.length ? undefined : `${column}: no masking needed, recorded.` };
}

/** Replaces a table's whole masking list with the edited one. */
export async function saveRulesAction(_prev: MaskingActionState, form: FormData): Promise<MaskingActionState> {
  const table = String(form.get("table") ?? "");
  const user = await admin(`edit masking rules of ${table}`);
  let rules: unknown;
  try {
    rules = JSON.parse(String(form.get("rules") ?? "[]"));
  } catch {
    return { errors: ["rules: is not JSON"] };
  }
  const environment = await formEnvironment(user, form);
  const result = await changeTableMasking(environment, table, (t) => ({ ...t, masking: rules as never }), { actor: user.label, action: "masking.rules" });
  if (result.errors.length) return { errors: result.errors };
  refresh(table);
  // the editor starts again from the saved rules; the page says they were saved
  redirect(withEnvironment(`/admin/masking/${encodeURIComponent(table)}?saved=rules`, environment));
}

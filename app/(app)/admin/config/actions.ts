"use server";

import { revalidatePath } from "next/cache";
import type { ConfigDiff } from "@/lib/config/diff";
import { importConfiguration } from "@/server/config-import";
import { requireActionRole } from "@/server/session";

export interface ImportState {
  yaml: string;
  issues?: string[];
  diff?: ConfigDiff;
  applied?: boolean;
  error?: string;
  /** The import changes where a connection points or how it signs in: applying it needs its own confirmation. */
  connectionChanges?: string[];
}

export async function importYamlAction(_prev: ImportState, form: FormData): Promise<ImportState> {
  const yaml = String(form.get("yaml") ?? "");
  const user = await requireActionRole("admin", "import configuration");
  const r = await importConfiguration(user.label, yaml, { apply: form.get("intent") === "apply", confirmConnections: form.get("confirm_connections") === "yes", via: "admin page" });
  // A refused file is not echoed back (it may be large).
  if ("issues" in r) return { yaml: r.status === 413 ? "" : yaml, issues: r.issues };
  if (r.status === 409) return { yaml, diff: r.diff, connectionChanges: r.connectionChanges, error: r.error };
  if (r.applied) revalidatePath("/admin/tables");
  return { yaml, diff: r.diff, connectionChanges: r.connectionChanges, applied: r.applied };
}

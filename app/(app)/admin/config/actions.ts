"use server";

import { revalidatePath } from "next/cache";
import { audit } from "@/lib/audit";
import { diffConfig, isEmptyDiff, type ConfigDiff } from "@/lib/config/diff";
import { ConfigError } from "@/lib/config/schema";
import { exportConfig, importConfig } from "@/lib/config/store";
import { parseConfigYaml } from "@/lib/config/yaml";
import { metadata } from "@/lib/metadata/client";
import { requireActionRole } from "@/server/session";

export interface ImportState {
  yaml: string;
  issues?: string[];
  diff?: ConfigDiff;
  applied?: boolean;
  error?: string;
}

export async function importYamlAction(prev: ImportState, form: FormData): Promise<ImportState> {
  const yaml = String(form.get("yaml") ?? "");
  const user = await requireActionRole("admin", "import configuration");
  let next;
  try {
    next = parseConfigYaml(yaml, "uploaded YAML");
  } catch (e) {
    if (e instanceof ConfigError) return { yaml, issues: e.issues };
    throw e;
  }
  const db = metadata();
  const current = await exportConfig(db).catch(() => null);
  const diff = diffConfig(current, next);
  if (form.get("intent") !== "apply" || isEmptyDiff(diff)) return { yaml, diff };
  await importConfig(db, next);
  await audit({ actor: user.label, action: "config.import", details: JSON.parse(JSON.stringify({ diff })) });
  revalidatePath("/admin/tables");
  return { yaml, diff, applied: true };
}

"use server";

import { revalidatePath } from "next/cache";
import { audit } from "@/lib/audit";
import { connectionChanges, describeConnectionChange, diffConfig, isEmptyDiff, type ConfigDiff } from "@/lib/config/diff";
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
  /** The import changes where a connection points or how it signs in: applying it needs its own confirmation. */
  connectionChanges?: string[];
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
  const connections = connectionChanges(current, diff);
  const pending = connections.length ? { connectionChanges: connections.map(describeConnectionChange) } : {};
  if (form.get("intent") !== "apply" || isEmptyDiff(diff)) return { yaml, diff, ...pending };
  if (connections.length && form.get("confirm_connections") !== "yes")
    return { yaml, diff, ...pending, error: "This import changes where a database connection points or how it signs in. Credentials are sent wherever it says: confirm the connection changes to apply it." };
  await importConfig(db, next);
  if (connections.length) await audit({ actor: user.label, action: "config.connection_change", details: JSON.parse(JSON.stringify({ changes: connections })) });
  await audit({ actor: user.label, action: "config.import", details: JSON.parse(JSON.stringify({ diff })) });
  revalidatePath("/admin/tables");
  return { yaml, diff, applied: true };
}

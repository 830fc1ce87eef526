// Importing a config.yaml, for the admin page's form and the API alike: parse and validate (size and alias limits
// included), show the diff, and apply it only when asked and, where it changes where a connection points or how it
// signs in, only with that confirmed. Applying is audited (connection changes on their own, field by field).
import "server-only";
import { audit } from "@/lib/audit";
import { connectionChanges, describeConnectionChange, diffConfig, isEmptyDiff, type ConfigDiff } from "@/lib/config/diff";
import { ConfigError } from "@/lib/config/schema";
import { exportConfig, importConfig } from "@/lib/config/store";
import { ConfigTooLargeError, parseConfigYaml } from "@/lib/config/yaml";
import { unknownKeepReferencing } from "@/lib/engine/validate";
import { metadata } from "@/lib/metadata/client";

export type ImportOutcome =
  | { status: 413 | 400; issues: string[] }
  | { status: 409; diff: ConfigDiff; connectionChanges: string[]; error: string }
  | { status: 200; diff: ConfigDiff; connectionChanges?: string[]; applied: boolean };

export async function importConfiguration(actor: string, yaml: string, opts: { apply: boolean; confirmConnections: boolean; via: string }): Promise<ImportOutcome> {
  let next;
  try {
    next = parseConfigYaml(yaml, "uploaded YAML");
  } catch (e) {
    if (e instanceof ConfigTooLargeError) return { status: 413, issues: e.issues };
    if (e instanceof ConfigError) return { status: 400, issues: e.issues };
    throw e;
  }
  // What the file names in the target's catalog (keep_referencing's keys) must exist there.
  const unknown = await unknownKeepReferencing(next);
  if (unknown.length) return { status: 400, issues: unknown };
  const db = metadata();
  const current = await exportConfig(db).catch(() => null);
  const diff = diffConfig(current, next);
  const connections = connectionChanges(current, diff).map(describeConnectionChange);
  const pending = connections.length ? { connectionChanges: connections } : {};
  if (!opts.apply || isEmptyDiff(diff)) return { status: 200, diff, ...pending, applied: false };
  if (connections.length && !opts.confirmConnections)
    return { status: 409, diff, connectionChanges: connections, error: "This import changes where a database connection points or how it signs in. Credentials are sent wherever it says: confirm the connection changes to apply it." };
  await importConfig(db, next);
  if (connections.length) await audit({ actor, action: "config.connection_change", details: JSON.parse(JSON.stringify({ changes: connectionChanges(current, diff), via: opts.via })) });
  await audit({ actor, action: "config.import", details: JSON.parse(JSON.stringify({ diff, via: opts.via })) });
  return { status: 200, diff, ...pending, applied: true };
}

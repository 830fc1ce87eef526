// Importing a config.yaml, for the admin page's form and the API alike: parse and validate (size and alias limits
// included), show the diff, and apply it only when asked and, where it changes where a connection points or how it
// signs in, only with that confirmed. Applying is audited (connection changes on their own, field by field).
import "server-only";
import { audit } from "@/lib/audit";
import { describeConnectionChange, diffEnvironments, isEmptyDiff, mergeDiffs, type ConfigDiff } from "@/lib/config/diff";
import { ConfigError } from "@/lib/config/schema";
import { environmentNames, exportConfig, importInstallation } from "@/lib/config/store";
import { ConfigTooLargeError, parseInstallationYaml } from "@/lib/config/yaml";
import { unknownKeepReferencing } from "@/lib/engine/validate";
import { metadata } from "@/lib/metadata/client";

export type ImportOutcome =
  | { status: 413 | 400; issues: string[] }
  | { status: 409; diff: ConfigDiff; connectionChanges: string[]; error: string }
  | { status: 200; diff: ConfigDiff; connectionChanges?: string[]; applied: boolean };

/** Imports either form of config.yaml: the original form is one environment (`environment`, or the one named after
 *  its target; the others are kept); the `environments:` form is the whole installation. */
export async function importConfiguration(actor: string, yaml: string, opts: { apply: boolean; confirmConnections: boolean; via: string; environment?: string }): Promise<ImportOutcome> {
  let next;
  try {
    next = parseInstallationYaml(yaml, "uploaded YAML");
  } catch (e) {
    if (e instanceof ConfigTooLargeError) return { status: 413, issues: e.issues };
    if (e instanceof ConfigError) return { status: 400, issues: e.issues };
    throw e;
  }
  const whole = next.form === "environments";
  if (!whole && opts.environment) next.environments[0].name = opts.environment;
  // What the file names in the target's catalog (keep_referencing's keys) must exist there.
  for (const e of next.environments) {
    const unknown = await unknownKeepReferencing(e.config);
    if (unknown.length) return { status: 400, issues: whole ? unknown.map((u) => `environments.${e.name}.${u}`) : unknown };
  }
  const db = metadata();
  const stored = await environmentNames(db);
  const current = new Map(await Promise.all(stored.map(async (name) => [name, await exportConfig(db, name).catch(() => null)] as const)));
  const per = diffEnvironments(current, next.environments);
  const diff = whole ? mergeDiffs(per.map((p) => ({ environment: p.environment, diff: p.diff }))) : per[0].diff;
  // Environments the file leaves out are removed with their tables (their runs stay in the history).
  if (whole) diff.removed.push(...stored.filter((n) => !next.environments.some((e) => e.name === n)).map((n) => `${n} (the whole environment)`));
  const connections = per.flatMap((p) => p.connections.map((c) => (whole ? `${p.environment}: ${describeConnectionChange(c)}` : describeConnectionChange(c))));
  const pending = connections.length ? { connectionChanges: connections } : {};
  if (!opts.apply || isEmptyDiff(diff)) return { status: 200, diff, ...pending, applied: false };
  if (connections.length && !opts.confirmConnections)
    return { status: 409, diff, connectionChanges: connections, error: "This import changes where a database connection points or how it signs in. Credentials are sent wherever it says: confirm the connection changes to apply it." };
  try {
    await importInstallation(db, next, { whole });
  } catch (e) {
    if (e instanceof ConfigError) return { status: 400, issues: e.issues };
    throw e;
  }
  for (const p of per.filter((x) => x.connections.length))
    await audit({ actor, action: "config.connection_change", environment: p.environment, details: JSON.parse(JSON.stringify({ changes: p.connections, via: opts.via })) });
  await audit({ actor, action: "config.import", environment: whole ? null : next.environments[0].name, details: JSON.parse(JSON.stringify({ diff, via: opts.via })) });
  return { status: 200, diff, ...pending, applied: true };
}

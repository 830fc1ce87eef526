// config.yaml <-> RefreshConfig. YAML syntax errors and schema errors both name where the problem is.
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { ConfigError, configSchema, formatIssues, type RefreshConfig } from "./schema";
import { environmentNameFor, installationSchema, type Installation } from "./environments";

/** A configuration is text an admin writes: anything bigger is refused before it is parsed. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** YAML aliases expand when read: a few lines can stand for gigabytes (a "billion laughs" document). */
export const MAX_CONFIG_ALIASES = 100;

export class ConfigTooLargeError extends ConfigError {}

/** The YAML document's value; syntax errors, size and alias limits reported as a ConfigError. */
function readYaml(text: string, source: string): unknown {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CONFIG_BYTES) throw new ConfigTooLargeError(source, [`(root): the file is ${(bytes / 1024 / 1024).toFixed(1)} MiB; a configuration may be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`]);
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? "?"}, column ${e.linePos?.[0]?.col ?? "?"}: ${e.message.split("\n")[0]}`),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_CONFIG_ALIASES });
  } catch (e) {
    throw new ConfigError(source, [`(root): ${(e as Error).message.split("\n")[0]} (at most ${MAX_CONFIG_ALIASES} alias expansions)`]);
  }
  return value ?? {};
}

/** The original form only (one `databases:` pair): one environment's configuration. */
export function parseConfigYaml(text: string, source = "config.yaml"): RefreshConfig {
  const parsed = configSchema.safeParse(readYaml(text, source));
  if (!parsed.success) throw new ConfigError(source, formatIssues(parsed.error));
  return parsed.data;
}

/** Either form: the original one (one environment, named after its target) or `environments:`. */
export function parseInstallationYaml(text: string, source = "config.yaml"): Installation & { form: "original" | "environments" } {
  const value = readYaml(text, source);
  const parsed = installationSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(source, formatIssues(parsed.error));
  return { ...parsed.data, form: value && typeof value === "object" && "environments" in value ? "environments" : "original" };
}

export function loadConfigFile(file: string): RefreshConfig {
  return parseConfigYaml(readFileSync(file, "utf8"), file);
}

export function loadInstallationFile(file: string): ReturnType<typeof parseInstallationYaml> {
  return parseInstallationYaml(readFileSync(file, "utf8"), file);
}

/** A table entry without defaults that carry no information, in the original key order. */
function tablesForYaml(config: RefreshConfig) {
  return config.tables.map((t) => {
    const out: Record<string, unknown> = { name: t.name };
    if (t.schema) out.schema = t.schema;
    out.strategy = t.strategy;
    if (t.strategy === "simple_copy" || t.sync_mode !== "full_replace") out.sync_mode = t.sync_mode;
    for (const key of ["incremental_column", "incremental_type", "truncate_target", "date_buffer_days", "identity_buffer", "batch_size", "partition_column", "partition_function", "partition_scheme", "uat_ids_from", "keep_rows", "keep_columns"] as const) {
      if (t[key] !== undefined && !(key === "truncate_target" && t[key] === true)) out[key] = t[key];
    }
    if (t.fire_triggers) out.fire_triggers = true;
    if (t.keep_table) out.keep_table = true;
    if (t.verify === false) out.verify = false;
    if (t.allow_shrink) out.allow_shrink = true;
    if (!t.enabled) out.enabled = false;
    if (t.masking?.length) out.masking = t.masking;
    // Flags and "no masking needed" decisions are policy: an export that dropped them would lift it on re-import.
    if (t.personal_data?.length) out.personal_data = t.personal_data;
    if (t.keep_referencing?.length) out.keep_referencing = t.keep_referencing;
    if (t.reviewed_columns?.length) out.reviewed_columns = t.reviewed_columns;
    return out;
  });
}

/** Serialises one environment in the original form. */
export function stringifyConfig(config: RefreshConfig): string {
  return YAML.stringify({ databases: config.databases, tables: tablesForYaml(config), settings: config.settings, ...environmentRules(config) });
}

/** An environment's steps, blackout windows and approval rule, where it has them. */
function environmentRules(config: RefreshConfig) {
  return {
    ...(config.post_refresh_steps?.length ? { post_refresh_steps: config.post_refresh_steps } : {}),
    ...(config.blackout_windows?.length ? { blackout_windows: config.blackout_windows } : {}),
    ...(config.approval ? { approval: config.approval } : {}),
  };
}

/** The installation: in the original form while it is one environment named after its target (the file loads back
 *  as it was), else in the `environments:` form. */
export function stringifyInstallation(installation: Installation): string {
  const [only, ...more] = installation.environments;
  if (only && !more.length && only.name === environmentNameFor(only.config)) return stringifyConfig(only.config);
  const environments = Object.fromEntries(
    installation.environments.map(({ name, config }) => [name, { databases: config.databases, tables: tablesForYaml(config), ...environmentRules(config) }]),
  );
  return YAML.stringify({ settings: installation.settings, environments });
}

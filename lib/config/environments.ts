// Several environments from one installation. config.yaml comes in two forms: the original one (one `databases:`
// pair, its tables and steps) is one environment, named after its target database; the `environments:` form names
// any number, each with its own pair, tables and steps, and one `settings:` block for the installation.
import { z } from "zod";
import { configSchema, settingsSchema, type DatabaseConfig, type RefreshConfig, type Settings } from "./schema";

/** An environment's name: it appears in URLs and in `--env`. */
export const environmentName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, "must be lowercase letters, digits, - and _, starting with a letter (at most 40 characters)");

export interface EnvironmentConfig {
  name: string;
  config: RefreshConfig;
}

export interface Installation {
  settings: Settings;
  environments: EnvironmentConfig[];
}

/** The name the original form's one environment gets (and an upgraded installation's): its target database's. */
export function environmentNameFor(config: Pick<RefreshConfig, "databases">): string {
  const name = config.databases.target.database
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z]+|-+$/g, "")
    .slice(0, 40);
  return name || "uat";
}

/** Where a connection points, as configured: engine, host, port and database, case-folded. Two environments'
 *  endpoints that are equal are the same database (the run also compares the servers' own identities). */
function endpoint(d: DatabaseConfig): string {
  const port = d.port ?? (d.engine === "sqlserver" ? 1433 : 5432);
  return `${d.engine}://${d.server.trim().toLowerCase()}:${port}/${d.database.toLowerCase()}`;
}

/** Across environments: no target is any environment's source, nor another environment's target. */
export function environmentGuardIssues(envs: EnvironmentConfig[]): { environment: string; message: string }[] {
  const issues: { environment: string; message: string }[] = [];
  for (const e of envs) {
    const target = endpoint(e.config.databases.target);
    const asSource = envs.find((o) => endpoint(o.config.databases.source) === target);
    if (asSource)
      issues.push({ environment: e.name, message: `is the source of environment ${asSource.name} (${target}): a database that is read as production is never written` });
    const twin = envs.find((o) => o !== e && endpoint(o.config.databases.target) === target);
    if (twin) issues.push({ environment: e.name, message: `is also the target of environment ${twin.name} (${target}): one target database belongs to one environment` });
  }
  return issues;
}

const environmentsForm = z
  .object({
    settings: settingsSchema.default(settingsSchema.parse({})),
    environments: z.record(environmentName, z.unknown()).refine((e) => Object.keys(e).length > 0, "must name at least one environment"),
  })
  .strict()
  .transform((file, ctx): Installation => {
    const environments: EnvironmentConfig[] = [];
    for (const [name, body] of Object.entries(file.environments)) {
      // Each environment is the original form without `settings:` (the installation has one).
      if (body && typeof body === "object" && "settings" in body) {
        ctx.addIssue({ code: "custom", path: ["environments", name, "settings"], message: "settings apply to the whole installation: write them once, at the top level" });
        continue;
      }
      const parsed = configSchema.safeParse({ ...(body as object), settings: file.settings });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: "custom", message: issue.message, path: ["environments", name, ...issue.path] });
        continue;
      }
      environments.push({ name, config: parsed.data });
    }
    for (const issue of environmentGuardIssues(environments)) ctx.addIssue({ code: "custom", path: ["environments", issue.environment, "databases", "target"], message: issue.message });
    return { settings: file.settings, environments };
  });

/** Either form of config.yaml, as an installation. */
export const installationSchema = z.unknown().transform((value, ctx): Installation => {
  if (value && typeof value === "object" && "environments" in value) {
    const parsed = environmentsForm.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: "custom", message: issue.message });
    return z.NEVER;
  }
  const parsed = configSchema.safeParse(value);
  if (parsed.success) return { settings: parsed.data.settings, environments: [{ name: environmentNameFor(parsed.data), config: parsed.data }] };
  for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: "custom", message: issue.message });
  return z.NEVER;
});

/** A name asked for that no environment has, or none asked for where several exist (a usage error: the CLI exits 2). */
export class EnvironmentChoiceError extends Error {
  name = "EnvironmentChoiceError";
}

/** The environment meant: `asked` (must exist), or the only one. */
export function chooseEnvironment(names: string[], asked?: string): string {
  if (asked) {
    const found = names.find((n) => n === asked.toLowerCase());
    if (!found) throw new EnvironmentChoiceError(`unknown environment ${asked}; environments: ${names.join(", ") || "(none)"}`);
    return found;
  }
  if (names.length === 1) return names[0];
  if (!names.length) throw new EnvironmentChoiceError("no environment configured yet: import a config.yaml first");
  throw new EnvironmentChoiceError(`this installation has ${names.length} environments (${names.join(", ")}): name one (--env NAME, or ?env=NAME)`);
}

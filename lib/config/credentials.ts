// Which environment variables a connection may read its credentials from. An admin (or an imported YAML) names the
// variables, and the product sends their values to the host the configuration names: without a limit, a
// configuration with `server: attacker` and `password_env: AUTH_SECRET` would send any secret of the process to
// any host. Credentials therefore come only from variables under an allowlisted prefix, which whoever deploys the
// product sets (UAT_REFRESH_CREDENTIAL_PREFIXES, comma-separated); the product's own secrets live outside it.
export const CREDENTIAL_PREFIXES_ENV = "UAT_REFRESH_CREDENTIAL_PREFIXES";

/** The original config.yaml's names (SOURCE_DB_USER, TARGET_DB_PASSWORD, ...) and the product's own prefix. */
export const DEFAULT_CREDENTIAL_PREFIXES = ["UAT_REFRESH_DB_", "SOURCE_DB_", "TARGET_DB_"];

/** The product's own secrets: never a credential variable, whatever the prefixes say. */
const NEVER = new Set(["AUTH_SECRET", "DATABASE_URL", "UAT_REFRESH_MASKING_KEY", "UAT_REFRESH_METRICS_TOKEN", "METRICS_TOKEN", "SMTP_URL", "AUTH_OIDC_SECRET"]);

type Env = Record<string, string | undefined>;

export function credentialPrefixes(env: Env = process.env): string[] {
  const raw = env[CREDENTIAL_PREFIXES_ENV];
  const list = raw ? raw.split(",").map((p) => p.trim()).filter(Boolean) : DEFAULT_CREDENTIAL_PREFIXES;
  // A prefix must name something: an empty or one-letter prefix would allow (nearly) every variable.
  return list.filter((p) => /^[A-Z][A-Z0-9_]{2,}$/i.test(p));
}

/** Why `name` may not hold a connection's credentials, or null. */
export function credentialVariableProblem(name: string, env: Env = process.env): string | null {
  const prefixes = credentialPrefixes(env);
  if (NEVER.has(name.toUpperCase())) return "holds one of the product's own secrets, never a connection's credentials";
  if (!prefixes.some((p) => name.toUpperCase().startsWith(p.toUpperCase())))
    return `must start with ${prefixes.join(", ")} (credentials are read only from variables under the allowed prefixes; ${CREDENTIAL_PREFIXES_ENV} sets them)`;
  return null;
}

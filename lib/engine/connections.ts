// From a configured database to a live session. Credentials are read from the environment variables the
// config names, at connect time, and never stored or logged.
import type { DatabaseConfig, Settings } from "../config/schema";
import { dialectFor } from "../dialects";
import type { ConnectOptions, ConnectionTarget, Session } from "../dialects/types";
import { RefreshError } from "./errors";
import { credentialVariableProblem } from "../config/credentials";

export class MissingCredentialError extends RefreshError {}

/** A database that could not be reached: one line that says which and why, never a driver stack. */
export class ConnectFailedError extends RefreshError {}

export type Role = "source" | "target";

/** Environment variables (process.env, or a given set in tests). */
export type Env = Record<string, string | undefined>;

/** The variables a database's credentials are read from. The original config.yaml names none: with its auth_type
 *  they are SOURCE_DB_USER / SOURCE_DB_PASSWORD (TARGET_DB_... for the target), plus SOURCE_DB_DOMAIN for windows. */
export function credentialVariables(db: DatabaseConfig, role: Role) {
  const prefix = role.toUpperCase();
  const original = db.auth_type !== undefined;
  return {
    user: db.username_env ?? (original ? `${prefix}_DB_USER` : undefined),
    password: db.password_env ?? (original ? `${prefix}_DB_PASSWORD` : undefined),
    domain: db.auth_type === "windows" ? (db.domain_env ?? `${prefix}_DB_DOMAIN`) : undefined,
  };
}

export function resolveTarget(db: DatabaseConfig, role: Role, env: Env = process.env): ConnectionTarget {
  const vars = credentialVariables(db, role);
  const where = `${role} ${db.server}/${db.database}`;
  // Checked again here, whatever wrote the configuration (an edited metadata row passes no schema).
  for (const name of [vars.user, vars.password, vars.domain]) {
    const problem = name ? credentialVariableProblem(name, env) : null;
    if (problem) throw new RefreshError(`${where}: credential variable ${name} ${problem}`, { field: "databases" });
  }
  if (db.auth_type === "windows") return windowsTarget(db, vars, where, env);
  const missing: string[] = [];
  const read = (name: string | undefined, what: string) => {
    if (!name) return undefined;
    const v = env[name];
    if (v === undefined || v === "") missing.push(`${name} (${what} for ${where})`);
    return v;
  };
  const target = {
    engine: db.engine,
    host: db.server,
    port: db.port,
    database: db.database,
    user: read(vars.user, "user name"),
    password: read(vars.password, "password"),
    options: db.options,
  };
  if (missing.length) throw new MissingCredentialError(`environment variable${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not set`);
  return target;
}

/** Every connection's credential variables checked at once: one message names every one that is missing. */
export function checkCredentials(config: { databases: Record<Role, DatabaseConfig> }, env: Env = process.env) {
  const problems: string[] = [];
  for (const role of ["source", "target"] as const) {
    try {
      resolveTarget(config.databases[role], role, env);
    } catch (e) {
      if (!(e instanceof MissingCredentialError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new MissingCredentialError(problems.join("; "));
}

/** auth_type windows: integrated (Kerberos/SSPI) sign-in needs a native driver; tedious, the SQL Server driver
 *  here, has none on any platform, so Windows logins sign in with NTLM and explicit domain credentials. A user
 *  variable of the form DOMAIN\user carries the domain itself. */
function windowsTarget(db: DatabaseConfig, vars: ReturnType<typeof credentialVariables>, where: string, env: Env): ConnectionTarget {
  const raw = { user: env[vars.user!], password: env[vars.password!], domain: env[vars.domain!] };
  const [domainInUser, userName] = raw.user?.includes("\\") ? raw.user.split("\\", 2) : [undefined, raw.user];
  const domain = raw.domain || domainInUser;
  const missing = [!domain && vars.domain, !userName && vars.user, !raw.password && vars.password].filter((v): v is string => !!v);
  if (missing.length)
    throw new MissingCredentialError(
      `auth_type windows for ${where}: integrated Windows authentication is not available to the SQL Server driver (tedious) on ${process.platform}; ` +
        `it signs in with NTLM instead: set ${vars.domain}, ${vars.user} and ${vars.password} (not set: ${missing.join(", ")})`,
    );
  return {
    engine: db.engine,
    host: db.server,
    port: db.port,
    database: db.database,
    user: userName,
    password: raw.password,
    options: { ...db.options, authentication: "ntlm", domain: domain! },
  };
}

/** What a session is for: named in the server's session list (`uat-refresh run <id> (target)`), so a DBA sees who
 *  holds what; status sessions also never wait long for a lock. */
export type Purpose = { kind: "run"; runId: string } | { kind: "status" } | { kind: "check" };

/** How every run's sessions are named first: a server's session list is searched by it (lock waits). */
export const RUN_SESSION_PREFIX = "uat-refresh run ";

export function applicationName(purpose: Purpose, role: Role): string {
  return purpose.kind === "run" ? `${RUN_SESSION_PREFIX}${purpose.runId} (${role})` : `uat-refresh ${purpose.kind} (${role})`;
}

/** The run a session named by applicationName belongs to (undefined: not a run's session). */
export function runOfSession(name: string): string | undefined {
  return name.startsWith(RUN_SESSION_PREFIX) ? name.slice(RUN_SESSION_PREFIX.length).split(" ")[0] : undefined;
}

/** How long a status read waits for a lock before it reports the table as busy. */
export const STATUS_LOCK_TIMEOUT_MS = 500;

/** Everything a session is opened from: another thread opens its own with it (the credentials stay in memory). */
export interface Endpoint {
  engine: DatabaseConfig["engine"];
  target: ConnectionTarget;
  options: ConnectOptions;
  /** For the error message: where it is. */
  where: string;
}

export function endpointFor(db: DatabaseConfig, role: Role, settings: Settings, purpose: Purpose, env: Env = process.env): Endpoint {
  return {
    engine: db.engine,
    target: resolveTarget(db, role, env),
    options: {
      readOnly: role === "source",
      connectionTimeoutSec: settings.connection_timeout,
      commandTimeoutSec: settings.command_timeout,
      applicationName: applicationName(purpose, role),
      lockTimeoutMs: purpose.kind === "status" ? STATUS_LOCK_TIMEOUT_MS : undefined,
    },
    where: `${role} ${db.server}:${db.port ?? (db.engine === "sqlserver" ? 1433 : 5432)}`,
  };
}

/** Opens a session to an endpoint, the driver's error said in a database team's words. */
export async function connectTo(ep: Endpoint): Promise<Session> {
  try {
    return await dialectFor(ep.engine).connect(ep.target, ep.options);
  } catch (e) {
    throw new ConnectFailedError(`cannot connect to ${ep.where}: ${connectReason(e, ep.options.connectionTimeoutSec)}`);
  }
}

export async function openSession(db: DatabaseConfig, role: Role, settings: Settings, purpose: Purpose, env: Env = process.env): Promise<Session> {
  return connectTo(endpointFor(db, role, settings, purpose, env));
}

/** The driver's error in a database team's words. */
export function connectReason(e: unknown, timeoutSec: number): string {
  const chain: { code?: string; message?: string; errors?: unknown[] }[] = [];
  for (let x = e as { code?: string; message?: string; cause?: unknown; errors?: unknown[] } | undefined; x && chain.length < 5; x = x.cause as typeof x) {
    chain.push(x);
    for (const inner of x.errors ?? []) chain.push(inner as (typeof chain)[number]);
  }
  const text = chain.map((x) => `${x.code ?? ""} ${x.message ?? ""}`).join(" ");
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(text)) return "host not found";
  if (/ECONNREFUSED/.test(text)) return "connection refused (is the server listening on that port?)";
  if (/ETIMEDOUT|ETIMEOUT|timeout/i.test(text)) return `no answer within connection_timeout (${timeoutSec} s)`;
  if (/EHOSTUNREACH|ENETUNREACH/.test(text)) return "host unreachable";
  const first = chain.find((x) => x.message)?.message ?? String(e);
  return first.split("\n")[0];
}

/** Whether each credential variable is set (values are never returned). */
export function credentialStatus(db: DatabaseConfig, role: Role, env: Env = process.env) {
  const vars = credentialVariables(db, role);
  return [vars.domain, vars.user, vars.password].filter((n): n is string => !!n).map((name) => ({ name, set: !!env[name] }));
}

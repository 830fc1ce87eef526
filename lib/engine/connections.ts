// From a configured database to a live session. Credentials are read from the environment variables the
// config names, at connect time, and never stored or logged.
import type { DatabaseConfig, Settings } from "../config/schema";
import { dialectFor } from "../dialects";
import type { ConnectionTarget, Session } from "../dialects/types";

export class MissingCredentialError extends Error {}

export function resolveTarget(db: DatabaseConfig, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  const read = (name: string | undefined, what: string) => {
    if (!name) return undefined;
    const v = env[name];
    if (v === undefined || v === "") throw new MissingCredentialError(`environment variable ${name} (${what} for ${db.server}/${db.database}) is not set`);
    return v;
  };
  return {
    engine: db.engine,
    host: db.server,
    port: db.port,
    database: db.database,
    user: read(db.username_env, "user name"),
    password: read(db.password_env, "password"),
    options: db.options,
  };
}

export async function openSession(db: DatabaseConfig, role: "source" | "target", settings: Settings): Promise<Session> {
  return dialectFor(db.engine).connect(resolveTarget(db), {
    readOnly: role === "source",
    connectionTimeoutSec: settings.connection_timeout,
    commandTimeoutSec: settings.command_timeout,
    applicationName: `uat-refresh (${role})`,
  });
}

/** Whether each credential variable is set (values are never returned). */
export function credentialStatus(db: DatabaseConfig, env: NodeJS.ProcessEnv = process.env) {
  return [db.username_env, db.password_env].filter((n): n is string => !!n).map((name) => ({ name, set: !!env[name] }));
}

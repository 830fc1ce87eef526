import type { Dialect, Engine } from "./types";
import { postgresDialect } from "./postgres";

const dialects: Partial<Record<Engine, Dialect>> = { postgres: postgresDialect };

export function registerDialect(d: Dialect) {
  dialects[d.engine] = d;
}

export function dialectFor(engine: Engine): Dialect {
  const d = dialects[engine];
  if (!d)
    throw new Error(
      engine === "sqlserver"
        ? "the SQL Server dialect is not part of this build yet: only engine: postgres can run (see README, 'What is verified where')"
        : `no dialect for engine ${engine}`,
    );
  return d;
}

import type { Dialect, Engine } from "./types";
import { postgresDialect } from "./postgres";

const dialects: Partial<Record<Engine, Dialect>> = { postgres: postgresDialect };

export function registerDialect(d: Dialect) {
  dialects[d.engine] = d;
}

export function dialectFor(engine: Engine): Dialect {
  const d = dialects[engine];
  if (!d) throw new Error(`no dialect registered for engine ${engine} (call registerBuiltInDialects)`);
  return d;
}

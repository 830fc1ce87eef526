// Registers the dialects shipped with the product. Called by the CLI, the web server and the scheduler; the engine
// itself only knows the interface.
import { registerDialect } from "./index";
import { postgresDialect } from "./postgres";
import { sqlServerDialect } from "./sqlserver";

export function registerBuiltInDialects() {
  registerDialect(postgresDialect);
  registerDialect(sqlServerDialect);
}

// Registers the dialects shipped with the product (kept apart so importing one never loads the other's driver).
import { registerDialect } from "./index";
import { postgresDialect } from "./postgres";

export function registerBuiltInDialects() {
  registerDialect(postgresDialect);
}

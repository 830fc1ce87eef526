// How the product names a table in every message: schema.name, as the catalog spells them.
import type { TableRef } from "../dialects/types";

export function displayName(t: TableRef) {
  return `${t.schema}.${t.name}`;
}

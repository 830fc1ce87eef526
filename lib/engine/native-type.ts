// A column's declared type as the catalog prints it (`numeric(12,2)`, `nvarchar(max)`, `timestamp(3) without time
// zone`): its name without the arguments, and the arguments. Drift and verification both compare the two sides' types.
import type { ColumnInfo } from "../dialects/types";

/** The type's name, lower case, without its arguments: `timestamp without time zone`, `nvarchar`. */
export const baseName = (c: ColumnInfo) => c.nativeType.toLowerCase().replace(/\(.*?\)/g, "").replace(/\s+/g, " ").trim();

/** The type's arguments, lower case (`["12", "2"]`, `["max"]`); undefined when it has none. */
export const args = (c: ColumnInfo) => /\(([^)]*)\)/.exec(c.nativeType)?.[1].split(",").map((x) => x.trim().toLowerCase());

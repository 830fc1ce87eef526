// A column's declared type as the catalog prints it (`numeric(12,2)`, `nvarchar(max)`, `timestamp(3) without time
// zone`): its name without the arguments, and the arguments. Drift, verification and the day bands compare the two
// sides' types.
import type { ColumnInfo } from "../dialects/types";

/** The type's name, lower case, without its arguments: `timestamp without time zone`, `nvarchar`. */
export const baseName = (c: ColumnInfo) => c.nativeType.toLowerCase().replace(/\(.*?\)/g, "").replace(/\s+/g, " ").trim();

/** The type's arguments, lower case (`["12", "2"]`, `["max"]`); undefined when it has none. */
export const args = (c: ColumnInfo) => /\(([^)]*)\)/.exec(c.nativeType)?.[1].split(",").map((x) => x.trim().toLowerCase());

/** Types whose length or precision UAT may widen (a release ahead) without changing how a value prints or hashes:
 *  a longer varchar / nvarchar / varbinary, a larger decimal precision at the same scale. Fixed-length types pad to
 *  their length, and a scale changes the digits printed, so those differ. */
const WIDENABLE = new Set(["varchar", "nvarchar", "varbinary", "character varying", "decimal", "numeric"]);

/** Whether a value of `source`'s type, copied into `target`'s, is checksummed alike on both sides. */
export function sameValueText(source: ColumnInfo, target: ColumnInfo): boolean {
  if (source.nativeType.toLowerCase() === target.nativeType.toLowerCase()) return true;
  const [name, a, b] = [baseName(source), args(source), args(target)];
  if (name !== baseName(target) || !WIDENABLE.has(name) || !a || !b) return false;
  return name === "decimal" || name === "numeric" ? (a[1] ?? "0") === (b[1] ?? "0") : true;
}

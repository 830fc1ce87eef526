// Whether a merge's staged row differs from the target's: per column, the cheapest comparison that is still exact
// (equal only when the values are the same, as text would say). Comparing whole rows as text was half of a merge's
// time on 1M rows (bench/merge.ts); the types' own equality is cheap, but some of it forgets what text keeps.
import { quoteIdent } from "./compiler";

/** Built-in types (format_type's spelling, typmod removed) whose equality holds only for identical values. */
const IDENTITY_EQUAL = new Set([
  "smallint", "integer", "bigint", "boolean", "uuid", "bytea", "date", "oid", "money",
  "time without time zone", "timestamp without time zone", "timestamp with time zone",
]);
/** Text types: equal under a collation may still differ (nondeterministic collations); "C" compares bytes. */
const TEXT = new Set(["text", "character varying", "character"]);

const base = (nativeType: string) => nativeType.replace(/\(.*?\)/, "").trim();

/** SQL that is true when column `name` differs between the rows aliased `a` and `b` (NULL-safe). */
export function columnChanged(name: string, nativeType: string, a = "t", b = "s"): string {
  const [x, y] = [`${a}.${quoteIdent(name)}`, `${b}.${quoteIdent(name)}`];
  const type = base(nativeType);
  if (IDENTITY_EQUAL.has(type)) return `${x} IS DISTINCT FROM ${y}`;
  if (TEXT.has(type)) return `${x} COLLATE "C" IS DISTINCT FROM ${y} COLLATE "C"`;
  // numeric without a scale keeps 1.0 and 1.00 apart; with one the column fixes it.
  if (type === "numeric") return nativeType.includes("(") ? `${x} IS DISTINCT FROM ${y}` : `(${x} IS DISTINCT FROM ${y} OR scale(${x}) IS DISTINCT FROM scale(${y}))`;
  // Floats: -0 = 0 by equality; their bytes tell them apart.
  if (type === "real") return `float4send(${x}) IS DISTINCT FROM float4send(${y})`;
  if (type === "double precision") return `float8send(${x}) IS DISTINCT FROM float8send(${y})`;
  // Everything else (intervals, json/jsonb, xml, arrays, enums, domains, user types) as the text it prints.
  return `${x}::text IS DISTINCT FROM ${y}::text`;
}

/** True when any of `columns` differs (an empty list: never). */
export function rowChanged(columns: string[], types: Record<string, string>, a = "t", b = "s"): string {
  return columns.length ? `(${columns.map((c) => columnChanged(c, types[c] ?? "", a, b)).join(" OR ")})` : "false";
}

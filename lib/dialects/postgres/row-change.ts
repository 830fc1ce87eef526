// Exact comparison of values: each column in the cheapest form whose equality (and hash) holds only for the same
// value, as its text would say. A merge finds changed rows with it and verification checksums rows with it; a type's
// own equality is cheap but forgets some differences (-0 and 0, 1.0 and 1.00, '1 day' and '24 hours', case under a
// case-insensitive collation), and comparing rows as text was half of a merge's time on 1M rows (bench/merge.ts).
/** Built-in types (format_type's spelling, typmod removed) whose equality holds only for identical values and which
 *  have a hash function (money has none). */
const IDENTITY_EQUAL = new Set([
  "smallint", "integer", "bigint", "boolean", "uuid", "bytea", "date", "oid",
  "time without time zone", "timestamp without time zone", "timestamp with time zone",
]);
/** Text types: equal under a collation may still differ (nondeterministic collations); "C" compares bytes. */
const TEXT = new Set(["text", "character varying", "character"]);

const base = (nativeType: string) => nativeType.replace(/\(.*?\)/, "").trim();

/** `expr` (a column of `nativeType`) as a value whose equality and hash are exact. `encoding`: the database's, where
 *  it is not UTF8: text is then hashed as its UTF-8 bytes (a text's hash under "C" is the hash of its bytes, so a
 *  UTF8 database's text and another's converted to UTF-8 hash alike, and UTF8 databases pay nothing). */
export function exactValue(expr: string, nativeType: string, encoding?: string): string {
  const type = base(nativeType);
  if (IDENTITY_EQUAL.has(type)) return expr;
  if (encoding && TEXT.has(type)) return `convert_to(${expr}, 'UTF8')`;
  if (TEXT.has(type)) return `${expr} COLLATE "C"`;
  // numeric with a scale: the column fixes it; without, 1.0 and 1.00 differ only in their text.
  if (type === "numeric") return nativeType.includes("(") ? expr : `${expr}::text`;
  // Floats: -0 = 0 by equality; their bytes tell them apart.
  if (type === "real") return `float4send(${expr})`;
  if (type === "double precision") return `float8send(${expr})`;
  // Everything else (intervals, json/jsonb, xml, arrays, enums, domains, user types) as the text it prints.
  return encoding ? `convert_to(${expr}::text, 'UTF8')` : `${expr}::text`;
}

/** SQL that is true when any of `columns` differs between the rows aliased `a` and `b` (NULL-safe; none: never). */
export function rowChanged(columns: string[], types: Record<string, string>, quote: (name: string) => string, a = "t", b = "s"): string {
  const changed = (c: string) => `${exactValue(`${a}.${quote(c)}`, types[c] ?? "")} IS DISTINCT FROM ${exactValue(`${b}.${quote(c)}`, types[c] ?? "")}`;
  return columns.length ? `(${columns.map(changed).join(" OR ")})` : "false";
}

// PII discovery: proposes masking rules from column names, types and a small sample of values read from the
// (read-only) source. Only names, counts and proposals leave this module, never a sampled value.
import type { MaskRule } from "../config/masking";
import type { RefreshConfig } from "../config/schema";
import { dialectFor } from "../dialects";
import type { ColumnInfo, Session } from "../dialects/types";
import { openSession } from "./connections";
import { ibanValid, luhnValid } from "./masking/checksums";

export interface PiiFinding {
  table: string;
  column: string;
  type: string;
  /** The proposed rule (for config.yaml's masking list). */
  rule: MaskRule;
  /** What gave it away: the column name, or how many sampled values matched a pattern. */
  reason: string;
  /** The column is already masked by the table's configuration. */
  masked: boolean;
}

const NAME_HINTS: [RegExp, MaskRule["rule"]][] = [
  [/e[-_]?mail/i, "fake_email"],
  [/(first|given|fore)[-_]?name|^fname$/i, "fake_first_name"],
  [/(last|sur|family)[-_]?name|^lname$/i, "fake_last_name"],
  [/^(full[-_]?)?name$|(customer|contact|person|client|holder|account)[-_]?name/i, "fake_full_name"],
  [/phone|mobile|cell|^tel|fax/i, "fake_phone"],
  [/iban/i, "fake_iban"],
  [/card[-_]?(no|num)|credit[-_]?card|^pan$|cc[-_]?num/i, "fake_card_number"],
  [/birth|^dob$/i, "fake_date_of_birth"],
  [/street|address[-_]?(line)?\d?$|^addr/i, "fake_street_address"],
  [/^city$|town/i, "fake_city"],
  [/zip|post[-_]?code|postal/i, "fake_postcode"],
  [/ssn|social[-_]?sec|national[-_]?id|passport|\bbsn\b|nino|tax[-_]?(id|no|number)/i, "hash"],
];

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{7,20}$/;
const EMBEDDED_EMAIL = /[^\s@]+@[^\s@]+\.[a-z]{2,}/i;

/** Value patterns, strongest first: a column where most sampled values match one is personal data. */
const VALUE_HINTS: [string, (s: string) => boolean, MaskRule["rule"]][] = [
  ["email addresses", (s) => EMAIL.test(s), "fake_email"],
  ["IBANs (valid check digits)", ibanValid, "fake_iban"],
  ["card numbers (Luhn-valid)", luhnValid, "fake_card_number"],
  ["phone numbers", (s) => PHONE.test(s) && (s.match(/\d/g)?.length ?? 0) >= 7, "fake_phone"],
];

/** Tables whose rows are people: there a bare `name` column is a person's name. Elsewhere (products, categories,
 *  cities, currencies, genres...) it names a thing. */
const PEOPLE_TABLES = /customer|client|person|people|user|member|employee|staff|contact|patient|student|subscriber|account[-_]?holder|guest|passenger|driver|owner|author|artist|applicant|candidate|worker|teacher|doctor/i;
const BARE_NAME = /^(full[-_]?)?name$/i;

/** The proposal for one column of `table`, or null. `unique`: under a unique index, where only unique-safe rules fit. */
export function proposeRule(column: ColumnInfo, sample: string[], unique: boolean, table = ""): { rule: MaskRule; reason: string } | null {
  const text = column.family === "text";
  const dated = column.family === "date" || column.family === "datetime";
  let found: { rule: MaskRule["rule"]; reason: string } | null = null;
  const byName = NAME_HINTS.find(([re]) => re.test(column.name));
  const thingName = BARE_NAME.test(column.name) && !PEOPLE_TABLES.test(table);
  if (byName && !thingName && (text || (dated && byName[1] === "fake_date_of_birth")))
    found = { rule: byName[1], reason: BARE_NAME.test(column.name) ? `column name ${column.name} in a table of people (${table})` : `column name ${column.name}` };
  if (text && sample.length) {
    for (const [what, test, rule] of VALUE_HINTS) {
      const hits = sample.filter(test).length;
      if (hits / sample.length >= 0.8) {
        found = { rule, reason: `${hits} of ${sample.length} sampled values are ${what}` };
        break;
      }
    }
    // Free text that carries addresses: nothing in it can be faked field by field, so propose emptying it.
    const embedded = sample.filter((s) => EMBEDDED_EMAIL.test(s)).length;
    if (!found && column.nullable && embedded / sample.length >= 0.3) found = { rule: "null", reason: `${embedded} of ${sample.length} sampled values contain email addresses` };
  }
  if (!found) return null;
  // A unique column keeps its uniqueness only under hash or fake_email.
  const rule: MaskRule["rule"] = unique && found.rule !== "fake_email" && found.rule !== "hash" ? "hash" : found.rule;
  return { rule: { column: column.name, rule }, reason: unique && rule !== found.rule ? `${found.reason}; unique column, so hash` : found.reason };
}

/** Scans every configured table of the source (read-only), `sampleSize` values per text column. */
export async function scanPii(config: RefreshConfig, sampleSize = 200): Promise<PiiFinding[]> {
  const source = await openSession(config.databases.source, "source", config.settings, { kind: "check" });
  const { compiler } = dialectFor(config.databases.source.engine);
  const findings: PiiFinding[] = [];
  try {
    for (const t of config.tables) {
      const ref = await source.introspector.findTable(t.name, t.schema);
      if (!ref) continue;
      // One request at a time on the one connection.
      const columns = await source.introspector.columns(ref);
      const indexes = await source.introspector.indexes(ref);
      const unique = new Set(indexes.filter((ix) => ix.unique || ix.primaryKey).flatMap((ix) => ix.columns.map((c) => c.toLowerCase())));
      const masked = new Set((t.masking ?? []).map((m) => m.column.toLowerCase()));
      for (const c of columns) {
        const sample = c.family === "text" ? await sampleValues(source, compiler.selectRows(ref, [c], undefined, undefined, sampleSize), c) : [];
        const p = proposeRule(c, sample, unique.has(c.name.toLowerCase()), t.name);
        if (p) findings.push({ table: t.name, column: c.name, type: c.nativeType, rule: p.rule, reason: p.reason, masked: masked.has(c.name.toLowerCase()) });
      }
    }
  } finally {
    await source.close();
  }
  return findings;
}

async function sampleValues(session: Session, q: { sql: string; params: readonly unknown[] }, c: ColumnInfo): Promise<string[]> {
  const rows = await session.query<Record<string, unknown>>(q);
  return rows.map((r) => r[c.name]).filter((v): v is string => typeof v === "string" && v.trim() !== "");
}

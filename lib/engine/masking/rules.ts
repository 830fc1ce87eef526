// Masking rules: what a column's values become on their way to UAT. Every output is derived from a keyed HMAC of the
// input value (the key: UAT_REFRESH_MASKING_KEY), so one value masks the same way in every table, run and batch:
// joins on masked keys still match, re-syncs are idempotent, UAT logins keep working between refreshes. Fakes draw
// on @faker-js/faker's data sets, picked by the hash (re-seeding faker per value is ~25 µs, too slow for millions).
import { createHmac } from "node:crypto";
import { en, Faker } from "@faker-js/faker";

import type { FakeKind, MaskRule } from "../../config/masking";
import { ibanCheckDigits, luhnDigit } from "./checksums";

/** Hex characters of the keyed digest in every masked email: 64 bits, so among 10 million distinct values the chance
 *  that any two collide is below 3e-6 (birthday bound n^2 / 2^65). Always there, not only on unique columns: the
 *  same address must mask the same way in every table, or joins on it would break. */
const EMAIL_DIGEST_HEX = 16;

const faker = new Faker({ locale: [en] });
const data = faker.definitions;
const FIRST = data.person.first_name.generic as string[];
const LAST = data.person.last_name.generic as string[];
const CITIES = data.location.city_name as string[];
const STREET_SUFFIX = data.location.street_suffix as string[];
const LEGAL = data.company.legal_entity_type as string[];

export class Hasher {
  constructor(private key: Buffer) {}
  digest(value: string): Buffer {
    return createHmac("sha256", this.key).update(value).digest();
  }
}

/** A value as the text the hash is taken of: the same value gives the same text from either dialect. */
export function canonical(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString("hex");
  return String(v);
}

const word = (d: Buffer, i: number) => d.readUInt32BE((i * 4) % 28);
const pick = <T>(arr: T[], d: Buffer, i: number) => arr[word(d, i) % arr.length];
const digits = (d: Buffer, i: number, n: number) => String(word(d, i) % 10 ** Math.min(n, 9)).padStart(n, "0");
const ascii = (s: string) => s.normalize("NFKD").replace(/[^A-Za-z0-9]/g, "").toLowerCase();

export function fake(kind: FakeKind, d: Buffer): string {
  switch (kind) {
    case "first_name":
      return pick(FIRST, d, 0);
    case "last_name":
      return pick(LAST, d, 1);
    case "full_name":
      return `${pick(FIRST, d, 0)} ${pick(LAST, d, 1)}`;
    case "email":
      return `${ascii(pick(FIRST, d, 0))}.${ascii(pick(LAST, d, 1))}.${d.toString("hex").slice(0, EMAIL_DIGEST_HEX)}@example.com`;
    case "phone":
      return `+1 555 ${digits(d, 3, 3)} ${digits(d, 4, 4)}`; // 555: the exchange reserved for fiction
    case "street_address":
      return `${(word(d, 2) % 9999) + 1} ${pick(LAST, d, 1)} ${pick(STREET_SUFFIX, d, 5)}`;
    case "city":
      return pick(CITIES, d, 6);
    case "postcode":
      return digits(d, 3, 5);
    case "company":
      return `${pick(LAST, d, 1)} ${pick(LEGAL, d, 5)}`;
    case "iban": {
      const bban = `TEST${digits(d, 3, 5)}${digits(d, 4, 5)}`; // NL layout: 4-letter bank code + 10 digits
      return `NL${ibanCheckDigits("NL", bban)}${bban}`;
    }
    case "card_number": {
      const body = `400000${digits(d, 3, 5)}${digits(d, 4, 4)}`; // 4000 00..: a test range, never issued
      return body + luhnDigit(body);
    }
    case "date_of_birth": {
      const day = Date.UTC(1940, 0, 1) + (word(d, 6) % (66 * 365)) * 86_400_000;
      return new Date(day).toISOString().slice(0, 10);
    }
  }
}

/** Keeps the first/last characters and masks the rest, preserving length. */
export function partial(s: string, first = 0, last = 0, maskChar = "*"): string {
  const chars = [...s];
  return chars.map((c, i) => (i < first || i >= chars.length - last ? c : maskChar)).join("");
}

/** Shifts a date or date-time value by a number of days in [-days, +days] derived from the value. */
export function dateShift(v: unknown, days: number, d: Buffer): unknown {
  const offset = (word(d, 7) % (2 * days + 1)) - days;
  if (v instanceof Date) return new Date(v.getTime() + offset * 86_400_000);
  const m = /^(\d{4})-(\d{2})-(\d{2})(.*)$/.exec(String(v));
  if (!m) return v;
  const shifted = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]) + offset * 86_400_000).toISOString().slice(0, 10);
  return shifted + m[4];
}

/** Rules whose outputs stay distinct for distinct inputs (up to the digest's collision bound), so a column under a
 *  primary key or unique index may use them. */
export const UNIQUE_SAFE = new Set(["hash", "fake_email", "null", "sql"]);

/** One rule as a function of a value (null stays null, except for `fixed`). */
export function compileRule(rule: MaskRule, hasher: Hasher): (v: unknown) => unknown {
  switch (rule.rule) {
    case "null":
      return () => null;
    case "fixed":
      return () => rule.value ?? "";
    case "sql":
      return (v) => v; // evaluated by the source
    case "hash":
      return (v) => (v === null ? null : hasher.digest(canonical(v)).toString("hex").slice(0, rule.length ?? 64));
    case "partial":
      return (v) => (v === null ? null : partial(canonical(v), rule.keep_first, rule.keep_last, rule.mask_char));
    case "date_shift":
      return (v) => (v === null ? null : dateShift(v, rule.days ?? 0, hasher.digest(canonical(v))));
    default: {
      const kind = rule.rule.slice("fake_".length) as FakeKind;
      return (v) => (v === null ? null : fake(kind, hasher.digest(canonical(v))));
    }
  }
}

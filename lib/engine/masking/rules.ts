// Masking rules: what a column's values become on their way to UAT. Every output is derived from a keyed hash of
// the input value (the key: UAT_REFRESH_MASKING_KEY), so one value masks the same way in every table, run and batch:
// joins on masked keys still match, re-syncs are idempotent, UAT logins keep working between refreshes. `hash`
// writes HMAC-SHA256 hex; fakes and date shifts are picked by SipHash-2-4-128 under a subkey of the same key (a
// keyed PRF six times cheaper per value). Fakes draw on @faker-js/faker's data sets, picked by the derived words
// (re-seeding faker per value is ~25 µs, too slow for millions).
import { createHmac } from "node:crypto";
// The English data set alone: the package's root module loads every locale (about 0.3 s of CPU where this is 0.05 s,
// paid by every CLI start and every stream thread).
import { faker } from "@faker-js/faker/locale/en";

import type { FakeKind, MaskRule } from "../../config/masking";
import { ibanCheckDigits, luhnDigit } from "./checksums";
import { SipHash128 } from "./siphash";

const data = faker.definitions;
const FIRST = data.person.first_name.generic as string[];
const LAST = data.person.last_name.generic as string[];
const ascii = (s: string) => s.normalize("NFKD").replace(/[^A-Za-z0-9]/g, "").toLowerCase();
const FIRST_ASCII = FIRST.map(ascii);
const LAST_ASCII = LAST.map(ascii);
const CITIES = data.location.city_name as string[];
const STREET_SUFFIX = data.location.street_suffix as string[];
const LEGAL = data.company.legal_entity_type as string[];

/** Four 32-bit words derived from a value under the key: what fakes and date shifts are picked by. */
export type Words = Uint32Array;

/** The masking key's two uses: HMAC-SHA256 for `hash` (its output is written out, so the standard construction),
 *  and SipHash under a subkey for the words fakes are picked by. */
export class MaskingKeys {
  private sip: SipHash128;
  private scratch = Buffer.alloc(1024);
  private words: Words = new Uint32Array(4);

  constructor(private key: Buffer) {
    this.sip = new SipHash128(createHmac("sha256", key).update("uat-refresh masking: derivation subkey v1").digest().subarray(0, 16));
  }

  hmac(value: string): Buffer {
    return createHmac("sha256", this.key).update(value).digest();
  }

  /** The words of a value. The array is reused by the next call: read it before deriving again. */
  derive(value: string): Words {
    // write() stops at the buffer's end: a value that may not fit (3 bytes per UTF-16 unit at most) gets its own
    const fits = value.length * 3 <= this.scratch.length;
    const bytes = fits ? this.scratch : Buffer.from(value, "utf8");
    this.sip.hash(bytes, fits ? this.scratch.write(value, "utf8") : bytes.length, this.words);
    return this.words;
  }
}

/** A value as the text its hash is taken of. Text is the same text from either engine; dates and binary values
 *  come as each engine's driver gives them (source and target are always one engine). */
export function canonical(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString("hex");
  return String(v);
}

// Each fake reads different words (0..3) for its parts, so its parts vary independently.
const pick = <T>(arr: T[], w: Words, i: number) => arr[w[i] % arr.length];
const digits = (w: Words, i: number, n: number) => String(w[i] % 10 ** Math.min(n, 9)).padStart(n, "0");
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const hex = (w: Words, i: number) => BYTE_HEX[w[i] >>> 24] + BYTE_HEX[(w[i] >>> 16) & 255] + BYTE_HEX[(w[i] >>> 8) & 255] + BYTE_HEX[w[i] & 255];

export function fake(kind: FakeKind, w: Words): string {
  switch (kind) {
    case "first_name":
      return pick(FIRST, w, 0);
    case "last_name":
      return pick(LAST, w, 1);
    case "full_name":
      return `${pick(FIRST, w, 0)} ${pick(LAST, w, 1)}`;
    // names from words 0 and 1; words 2 and 3 as 16 hex characters make it unique: 64 bits, so among 10 million
    // distinct values the chance that any two collide is below 3e-6 (birthday bound n^2 / 2^65). Always there, not
    // only on unique columns: the same address must mask the same way in every table, or joins on it would break.
    case "email":
      return `${pick(FIRST_ASCII, w, 0)}.${pick(LAST_ASCII, w, 1)}.${hex(w, 2)}${hex(w, 3)}@example.com`;
    case "phone":
      return `+1 555 ${digits(w, 2, 3)} ${digits(w, 3, 4)}`; // 555: the exchange reserved for fiction
    case "street_address":
      return `${(w[2] % 9999) + 1} ${pick(LAST, w, 1)} ${pick(STREET_SUFFIX, w, 3)}`;
    case "city":
      return pick(CITIES, w, 2);
    case "postcode":
      return digits(w, 3, 5);
    case "company":
      return `${pick(LAST, w, 1)} ${pick(LEGAL, w, 3)}`;
    case "iban": {
      const bban = `TEST${digits(w, 2, 5)}${digits(w, 3, 5)}`; // NL layout: 4-letter bank code + 10 digits
      return `NL${ibanCheckDigits("NL", bban)}${bban}`;
    }
    case "card_number": {
      const body = `400000${digits(w, 2, 5)}${digits(w, 3, 4)}`; // 4000 00..: a test range, never issued
      return body + luhnDigit(body);
    }
    case "date_of_birth": {
      const day = Date.UTC(1940, 0, 1) + (w[0] % (66 * 365)) * 86_400_000;
      return new Date(day).toISOString().slice(0, 10);
    }
  }
}

/** Keeps the first/last characters and masks the rest, preserving length (in characters, surrogate pairs whole).
 *  Never writes a non-empty value unchanged: at least half of its characters (rounded up) are masked whatever
 *  keep_first / keep_last say (a 2-character value keeps at most 1), and where the masked characters were the mask
 *  character already, another one is used. */
export function partial(s: string, first = 0, last = 0, maskChar = "*"): string {
  const out = partialWith(s, first, last, maskChar);
  return out === s && s !== "" ? partialWith(s, first, last, maskChar === "#" ? "*" : "#") : out;
}

function partialWith(s: string, first: number, last: number, maskChar: string): string {
  if (!/[\uD800-\uDFFF]/.test(s)) {
    // no surrogate pairs: one character per UTF-16 unit, so slicing is exact (and ten times faster)
    const cap = Math.floor(s.length / 2);
    const keepFirst = Math.min(first, cap);
    const keepLast = Math.min(last, cap - keepFirst);
    return s.slice(0, keepFirst) + maskChar.repeat(s.length - keepFirst - keepLast) + s.slice(s.length - keepLast);
  }
  const chars = [...s];
  const cap = Math.floor(chars.length / 2);
  const keepFirst = Math.min(first, cap);
  const keepLast = Math.min(last, cap - keepFirst);
  return chars.map((c, i) => (i < keepFirst || i >= chars.length - keepLast ? c : maskChar)).join("");
}

/** Shifts a date or date-time value by a number of days in [-days, +days] derived from the value. */
export function dateShift(v: unknown, days: number, w: Words): unknown {
  // Never by 0 days (that would write the value unchanged): [-days, -1] or [1, days].
  const r = w[1] % (2 * Math.max(days, 1));
  const offset = r < days ? r - days : r - days + 1;
  if (v instanceof Date) return new Date(v.getTime() + offset * 86_400_000);
  const m = /^(\d{4})-(\d{2})-(\d{2})(.*)$/.exec(String(v));
  // A value that is not a date cannot be shifted: it is not written either.
  if (!m) return null;
  const shifted = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]) + offset * 86_400_000).toISOString().slice(0, 10);
  return shifted + m[4];
}

/** Rules whose outputs stay distinct for distinct inputs (up to the digest's collision bound), so a column under a
 *  primary key or unique index may use them. */
export const UNIQUE_SAFE = new Set(["hash", "fake_email", "null", "sql"]);

/** Remembers recent outputs: names, cities and phone numbers repeat across millions of rows, and a lookup is
 *  cheaper than a derivation. Cleared when full, which bounds its memory; given up when a full round had few
 *  repeats (a column of mostly distinct values only pays for the bookkeeping). */
export function remembered(fn: (text: string) => unknown, limit = 50_000): (text: string) => unknown {
  let seen: Map<string, unknown> | undefined = new Map();
  let repeats = 0;
  return (text) => {
    if (!seen) return fn(text);
    let out = seen.get(text);
    if (out !== undefined) {
      repeats++;
      return out;
    }
    if (seen.size >= limit) {
      seen = repeats < limit / 4 ? undefined : new Map();
      repeats = 0;
    }
    out = fn(text);
    seen?.set(text, out);
    return out;
  };
}

/** One rule as a function of a value (null stays null, except for `fixed`). `repeats`: the column's values are not
 *  unique, so remembering outputs pays (a unique column's values never come back). */
export function compileRule(rule: MaskRule, keys: MaskingKeys, repeats = true): (v: unknown) => unknown {
  const ofText = (fn: (text: string) => unknown) => {
    const f = repeats ? remembered(fn) : fn;
    return (v: unknown) => (v === null ? null : f(canonical(v)));
  };
  switch (rule.rule) {
    case "null":
      return () => null;
    case "fixed":
      return () => rule.value ?? "";
    case "sql":
      return (v) => v; // evaluated by the source
    case "hash":
      return ofText((text) => keys.hmac(text).toString("hex").slice(0, rule.length ?? 64));
    case "partial":
      return (v) => (v === null ? null : partial(canonical(v), rule.keep_first, rule.keep_last, rule.mask_char));
    case "date_shift":
      return (v) => (v === null ? null : dateShift(v, rule.days ?? 0, keys.derive(canonical(v))));
    default: {
      const kind = rule.rule.slice("fake_".length) as FakeKind;
      // A fake that happens to equal the source value (a city, a first name) is drawn again from other words.
      return ofText((text) => {
        let out = fake(kind, keys.derive(text));
        for (let salt = 1; out === text && salt < 8; salt++) out = fake(kind, keys.derive(`${text}\u0000${salt}`));
        return out;
      });
    }
  }
}

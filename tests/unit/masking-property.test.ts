// No masking rule writes a source value unchanged (issue: `partial` wrote values of 2 characters or fewer whole).
// Every rule but `null`, `fixed` (it writes its own value) and `sql` (the admin's expression) is driven with random
// and edge inputs: empty, 1-3 characters, surrogate pairs, combining marks, the mask character itself, very long.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FAKE_KINDS, type MaskRule } from "../../lib/config/masking";
import { compileRule, MaskingKeys } from "../../lib/engine/masking/rules";

const keys = new MaskingKeys(Buffer.from("property-test-masking-key-0123456789"));

/** A deterministic pseudo-random source, so a failure can be reproduced. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
}

const ALPHABET = ["a", "b", "Z", "0", "9", " ", "-", "*", "#", ".", "@", "é", "e\u0301", "ß", "字", "😀", "👩‍👩‍👧", "\u200d", "\t", "'"];
const EDGES = ["a", "ab", "abc", "*", "**", "#", "😀", "😀😀", "a😀", "e\u0301", "e\u0301e\u0301", "  ", "x".repeat(10_000), "😀".repeat(5_000), "Paris", "London", "Mary", "Smith"];

function inputs(n: number): string[] {
  const next = rng(42);
  const out = [...EDGES];
  for (let i = 0; i < n; i++) {
    const len = Math.floor(next() * 14);
    out.push(Array.from({ length: len }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join(""));
  }
  out.push(randomBytes(3000).toString("base64"));
  return out;
}

const RULES: MaskRule[] = [
  { column: "c", rule: "hash" },
  { column: "c", rule: "hash", length: 16 },
  ...[[0, 0], [1, 1], [2, 2], [3, 0], [0, 3], [100, 100]].flatMap(([keep_first, keep_last]) => [
    { column: "c", rule: "partial" as const, keep_first, keep_last },
    { column: "c", rule: "partial" as const, keep_first, keep_last, mask_char: "#" },
  ]),
  ...FAKE_KINDS.map((k) => ({ column: "c", rule: `fake_${k}` as const })),
];

describe("no rule writes a source value unchanged", () => {
  const values = inputs(3000);

  for (const rule of RULES) {
    it(`${rule.rule}${"keep_first" in rule ? ` ${rule.keep_first}/${rule.keep_last}${rule.mask_char ? ` '${rule.mask_char}'` : ""}` : ""}`, () => {
      for (const repeats of [true, false]) {
        const f = compileRule(rule, keys, repeats);
        for (const v of values) {
          const out = f(v);
          if (v === "" && rule.rule === "partial") {
            expect(out).toBe(""); // documented: an empty value stays empty
            continue;
          }
          expect(out, JSON.stringify(v.slice(0, 40))).not.toBe(v);
          if (rule.rule === "partial") expect([...(out as string)].length).toBe([...v].length);
        }
        expect(f(null)).toBeNull();
      }
    });
  }

  it("date_shift never shifts by 0 days, for dates, date-times and Date objects; text it cannot read is not written", () => {
    const next = rng(7);
    for (const days of [1, 2, 30, 3650]) {
      const f = compileRule({ column: "d", rule: "date_shift", days }, keys);
      for (let i = 0; i < 3000; i++) {
        const day = new Date(Date.UTC(1950, 0, 1) + Math.floor(next() * 40_000) * 86_400_000);
        const iso = day.toISOString().slice(0, 10);
        expect(f(iso)).not.toBe(iso);
        expect(f(`${iso} 13:45:00.123`)).not.toBe(`${iso} 13:45:00.123`);
        const shifted = f(day) as Date;
        const by = (shifted.getTime() - day.getTime()) / 86_400_000;
        expect(by !== 0 && Math.abs(by) <= days).toBe(true);
      }
      expect(f("not a date")).toBeNull();
      expect(f("2024-02-29")).not.toBe("2024-02-29");
    }
  });
});

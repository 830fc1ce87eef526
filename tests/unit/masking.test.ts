// Masking rules, the COPY text codec they run through on PostgreSQL, the SQL Server row path, and the checks a
// table's rules pass before a refresh: all without a database.
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseConfigYaml } from "../../lib/config/yaml";
import { CopyTextMapper, decodeField, encodeField } from "../../lib/dialects/postgres/copy-text";
import { postgresDialect } from "../../lib/dialects/postgres";
import { sqlServerDialect } from "../../lib/dialects/sqlserver";
import type { ColumnInfo } from "../../lib/dialects/types";
import { compileRule, MaskingKeys, partial, remembered } from "../../lib/engine/masking/rules";
import { bytes as referenceBytes, SipHash128 } from "../../lib/engine/masking/siphash";
import { compileMasking, refuseUnmaskedPersonalData } from "../../lib/engine/masking/stage";
import { FAKE_KINDS, unresolvedPersonalData } from "../../lib/config/masking";
import { withFindings, withNoMaskingNeeded, withRule } from "../../lib/config/personal-data";

const KEY = "k3y-for-tests-0123456789";
const hasher = new MaskingKeys(Buffer.from(KEY));
const rule = (r: string, extra = {}) => compileRule({ column: "c", rule: r as never, ...extra }, hasher);

function luhnOk(n: string) {
  let sum = 0;
  [...n].reverse().forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  });
  return sum % 10 === 0;
}
function ibanOk(iban: string) {
  const r = (iban.slice(4) + iban.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  return [...r].reduce((m, ch) => (m * 10 + Number(ch)) % 97, 0) === 1;
}

/** A config.yaml with one table, people, whose entry continues with `body`. */
const peopleYaml = (body: string) => `databases:
  source: { server: p, database: P, auth_type: sql }
  target: { server: u, database: U, auth_type: sql }
tables:
  - name: people
${body}`;

describe("masking rules", () => {
  it("are deterministic for a key, differ between keys, and keep NULL", () => {
    const a = rule("fake_email")("alice@corp.example");
    expect(rule("fake_email")("alice@corp.example")).toBe(a);
    expect(compileRule({ column: "x", rule: "fake_email" }, new MaskingKeys(Buffer.from(KEY)))("alice@corp.example")).toBe(a);
    expect(compileRule({ column: "x", rule: "fake_email" }, new MaskingKeys(Buffer.from("another key 0123456")))("alice@corp.example")).not.toBe(a);
    expect(rule("fake_email")(null)).toBeNull();
    expect(a).toMatch(/^[a-z]+\.[a-z]+\.[0-9a-f]{16}@example\.com$/);
  });

  it("produce realistic, valid-looking values", () => {
    for (let i = 0; i < 200; i++) {
      expect(ibanOk(rule("fake_iban")(`v${i}`) as string)).toBe(true);
      expect(luhnOk(rule("fake_card_number")(`v${i}`) as string)).toBe(true);
      expect(rule("fake_date_of_birth")(`v${i}`)).toMatch(/^(19[4-9]\d|200[0-5])-\d{2}-\d{2}$/);
    }
    expect(rule("fake_phone")("x")).toMatch(/^\+1 555 \d{3} \d{4}$/);
    expect(rule("hash", { length: 20 })("x")).toMatch(/^[0-9a-f]{20}$/);
    expect(rule("partial", { keep_first: 2, keep_last: 3 })("1234-5678-9012")).toBe("12*********012");
    expect(rule("fixed", { value: "redacted" })("anything")).toBe("redacted");
  });

  it("shift dates within the window, keeping the time of day and the Date type", () => {
    for (let i = 0; i < 100; i++) {
      const out = rule("date_shift", { days: 10 })(`2025-03-15 08:30:00`) as string;
      const delta = (Date.parse(out.slice(0, 10)) - Date.parse("2025-03-15")) / 86_400_000;
      expect(Math.abs(delta)).toBeLessThanOrEqual(10);
      expect(out.slice(10)).toBe(" 08:30:00");
    }
    expect(rule("date_shift", { days: 3 })(new Date("2025-03-15T00:00:00Z"))).toBeInstanceOf(Date);
  });

  it("mask a value as earlier releases did: UAT logins and joins against rows masked before an upgrade keep working", () => {
    // Pinned outputs under a fixed key (a change of faker's data sets, or of how they are loaded, shows here first).
    const fakes = Object.fromEntries(FAKE_KINDS.map((k) => [k, rule(`fake_${k}`)(k === "date_of_birth" ? "1980-02-03" : "Alice Smith")]));
    expect(fakes).toEqual({
      first_name: "Carroll",
      last_name: "Ondricka",
      full_name: "Carroll Ondricka",
      email: "carroll.ondricka.fbd6fc656daebc82@example.com",
      phone: "+1 555 533 8066",
      street_address: "3093 Ondricka Gardens",
      city: "Altamonte Springs",
      postcode: "68066",
      company: "Ondricka LLC",
      iban: "NL06TEST7053368066",
      card_number: "4000007053380660",
      date_of_birth: "1969-03-25",
    });
  });

  it("keep emails distinct: 1M distinct inputs, 1M distinct fakes", () => {
    const f = compileRule({ column: "email", rule: "fake_email" }, hasher);
    const seen = new Set<unknown>();
    for (let i = 0; i < 1_000_000; i++) seen.add(f(`user${i}@corp.example`));
    expect(seen.size).toBe(1_000_000);
  });
});

describe("SipHash-2-4-128", () => {
  // The reference implementation's vectors (github.com/veorq/SipHash, vectors.h, vectors_sip128): key 00..0f,
  // message 00 01 02 .. of each length. Lengths around the 8-byte block edges and the longest.
  const VECTORS: Record<number, string> = {
    0: "a3817f04ba25a8e66df67214c7550293",
    1: "da87c1d86b99af44347659119b22fc45",
    7: "a1f1ebbed8dbc153c0b84aa61ff08239",
    8: "3b62a9ba6258f5610f83e264f31497b4",
    9: "264499060ad9baabc47f8b02bb6d71ed",
    15: "5493e99933b0a8117e08ec0f97cfc3d9",
    16: "6ee2a4ca67b054bbfd3315bf85230577",
    63: "5150d1772f50834a503e069a973fbd7c",
  };
  it("matches the reference vectors", () => {
    const sip = new SipHash128(Uint8Array.from({ length: 16 }, (_, i) => i));
    const message = Uint8Array.from({ length: 64 }, (_, i) => i);
    const out = new Uint32Array(4);
    for (const [length, expected] of Object.entries(VECTORS)) {
      sip.hash(message, Number(length), out);
      expect(referenceBytes(out).toString("hex"), `length ${length}`).toBe(expected);
    }
  });

  it("derives from the whole value, however long, in UTF-8", () => {
    const keys = new MaskingKeys(Buffer.from(KEY));
    const long = "x".repeat(5000);
    const a = Array.from(keys.derive(long));
    expect(Array.from(keys.derive(long + "y"))).not.toEqual(a);
    expect(Array.from(keys.derive(long))).toEqual(a);
    expect(Array.from(keys.derive("é"))).not.toEqual(Array.from(keys.derive("e")));
  });
});

describe("partial", () => {
  it("counts characters, not UTF-16 units, and masks at least half of every value, short ones included", () => {
    expect(partial("😀bc😀ef", 1, 1)).toBe("😀****f");
    expect(partial("abcdef", 1, 2)).toBe("a***ef");
    expect(partial("abc", 2, 2)).toBe("a**");
    expect(partial("ab", 1, 1)).toBe("a*");
    expect(partial("a", 1, 1)).toBe("*");
    expect(partial("😀😀", 1, 1)).toBe("😀*");
    expect(partial("**", 1, 1)).toBe("*#"); // the masked character was the mask character: another one is used
    expect(partial("", 2, 2)).toBe("");
    expect(partial("abcd", 0, 0, "#")).toBe("####");
  });
});

describe("remembering outputs", () => {
  it("returns what the rule returns, and gives up on values that never repeat", () => {
    let calls = 0;
    const f = remembered((t) => (calls++, t.toUpperCase()), 100);
    for (let i = 0; i < 1000; i++) expect(f(`v${i % 10}`)).toBe(`V${i % 10}`);
    expect(calls).toBe(10);
    calls = 0;
    for (let i = 0; i < 1000; i++) expect(f(`u${i}`)).toBe(`U${i}`);
    expect(calls).toBe(1000);
    // given up after the first full round of distinct values: repeats are derived again
    calls = 0;
    f("u999");
    expect(calls).toBe(1);
  });
});

describe("PostgreSQL COPY text", () => {
  it("reads rows back as values for the preview", async () => {
    const stream = Readable.from([Buffer.from("1\tanna@corp.example\t\\N\n2\ttab\\there\tx\n")]);
    expect(await postgresDialect.rowValues({ stream, done: Promise.resolve() })).toEqual([["1", "anna@corp.example", null], ["2", "tab\there", "x"]]);
  });

  it("decodes and encodes every escape, and NULL", () => {
    for (const v of ["plain", "tab\there", "new\nline", "back\\slash", "cr\rlf", "\b\f\v", "", "ünïcode ✓"]) expect(decodeField(encodeField(v))).toBe(v);
    expect(encodeField(null)).toBe("\\N");
    expect(decodeField("\\N")).toBeNull();
    expect(decodeField("\\101\\x42")).toBe("AB");
  });

  it("rewrites only the masked fields, across chunk boundaries and split characters", async () => {
    const text = "1\tälice@corp.example\tnote\\twith tab\n2\t\\N\tx\n3\tbob@corp.example\t\\N\n";
    const bytes = Buffer.from(text, "utf8");
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)); // one byte at a time
    const mapper = new CopyTextMapper([1], ([v]) => [v === null ? null : `masked:${String(v).toUpperCase()}`]);
    let out = "";
    for await (const c of Readable.from(chunks).pipe(mapper)) out += c.toString("utf8");
    expect(out).toBe("1\tmasked:ÄLICE@CORP.EXAMPLE\tnote\\twith tab\n2\t\\N\tx\n3\tmasked:BOB@CORP.EXAMPLE\t\\N\n");
  });

  it("hands the fields over in the rules' order, first and last fields included, and a last line without newline", async () => {
    const mapper = new CopyTextMapper([2, 0], ([last, first]) => [`<${String(last)}>`, `[${String(first)}]`]);
    let out = "";
    for await (const c of Readable.from([Buffer.from("a\tb\tc\nd\te\t\\N\ng\th\ti")]).pipe(mapper)) out += c.toString("utf8");
    expect(out).toBe("[a]\tb\t<c>\n[d]\te\t<null>\n[g]\th\t<i>");
  });
});

describe("SQL Server rows", () => {
  it("masks the driver's values in row arrays: strings and Dates", async () => {
    const rows = Readable.from([[1, "alice@corp.example", new Date("1980-05-01T00:00:00Z")], [2, null, null]], { objectMode: true });
    const email = rule("fake_email");
    const dob = rule("date_shift", { days: 30 });
    const out = sqlServerDialect.mapRows({ stream: rows, done: Promise.resolve() }, [1, 2], ([e, d]) => [email(e), dob(d)]);
    const got = await sqlServerDialect.rowValues(out); // what the preview reads
    expect(got[0][0]).toBe(1);
    expect(got[0][1]).toBe(email("alice@corp.example"));
    expect(got[0][2]).toBeInstanceOf(Date);
    expect(Math.abs(((got[0][2] as Date).getTime() - Date.parse("1980-05-01")) / 86_400_000)).toBeLessThanOrEqual(30);
    expect(got[1]).toEqual([2, null, null]);
  });
});

describe("checks before a masked refresh", () => {
  const col = (name: string, family: ColumnInfo["family"], nullable = true): ColumnInfo => ({ name, nativeType: family, family, nullable, identity: false, generated: false });
  const table = { engine: "sqlserver" as const, targetTable: { schema: "dbo", name: "people" }, columns: [col("id", "integer", false), col("email", "text", false), col("born", "date")].map((c) => ({ source: c, target: c })) };
  const env = { UAT_REFRESH_MASKING_KEY: KEY };

  it("names what is wrong: the key variable, an unknown column, a type that does not fit, a rule that breaks a unique index", () => {
    expect(() => compileMasking([{ column: "email", rule: "fake_email" }], table, new Set(), {})).toThrow(/set UAT_REFRESH_MASKING_KEY to a secret of at least 16 characters/);
    expect(() => compileMasking([{ column: "mail", rule: "fake_email" }], table, new Set(), env)).toThrow("masking: mail is not a column of dbo.people (columns: id, email, born)");
    expect(() => compileMasking([{ column: "born", rule: "fake_city" }], table, new Set(), env)).toThrow("masking: rule fake_city cannot mask born (date): it needs a text column");
    expect(() => compileMasking([{ column: "email", rule: "null" }], table, new Set(), env)).toThrow("the column is NOT NULL");
    expect(() => compileMasking([{ column: "email", rule: "fixed", value: "x" }], table, new Set(["email"]), env)).toThrow(
      "masking: email is under a unique index and rule fixed can give two rows the same value: use hash or fake_email (their outputs stay distinct)",
    );
    const ok = compileMasking([{ column: "email", rule: "fake_email" }, { column: "born", rule: "date_shift", days: 5 }], table, new Set(["email"]), env)!;
    expect(ok.positions).toEqual([1, 2]);
    expect(ok.describe).toEqual(["email (fake_email)", "born (date_shift)"]);
  });

  it("config.yaml: masking rules validated with field paths, watermark columns refused", () => {
    const yaml = (masking: string) => peopleYaml(`    sync_mode: incremental
    incremental_column: id
    incremental_type: identity
    masking:
${masking}`);
    expect(parseConfigYaml(yaml("      - { column: email, rule: fake_email }")).tables[0].masking).toEqual([{ column: "email", rule: "fake_email" }]);
    expect(() => parseConfigYaml(yaml("      - { column: email, rule: fake_mail }"))).toThrow(/tables\[0\]\.masking\[0\]\.rule: Invalid option/);
    expect(() => parseConfigYaml(yaml("      - { column: born, rule: date_shift }"))).toThrow(/tables\[0\]\.masking\[0\]\.days: is required for rule date_shift/);
    expect(() => parseConfigYaml(yaml("      - { column: id, rule: hash }"))).toThrow(/tables\[0\]\.masking\[0\]\.column: id is the table's watermark or partition key and cannot be masked/);
  });
});

describe("personal data policy", () => {
  const col = (name: string): ColumnInfo => ({ name, nativeType: "text", family: "text", nullable: true, identity: false, generated: false });
  const ctx = (config: object) => ({ config: { name: "people", ...config } as never, targetTable: { schema: "public", name: "people" }, columns: ["id", "email", "phone", "notes"].map((n) => ({ source: col(n), target: col(n) })) });

  it("refuses flagged columns without a rule or a decision, naming them", () => {
    const personal_data = [{ column: "email" }, { column: "Phone" }, { column: "notes", no_masking_needed: "free text of the test team, reviewed" }];
    expect(() => refuseUnmaskedPersonalData(ctx({ personal_data }))).toThrow(
      'public.people: email, Phone are flagged as personal data and not masked: add a masking rule for each, or have an admin record "no masking needed" with a reason (Admin > Masking)',
    );
    expect(() => refuseUnmaskedPersonalData(ctx({ personal_data, masking: [{ column: "EMAIL", rule: "fake_email" }] }))).toThrow(/public\.people: Phone is flagged/);
    expect(() => refuseUnmaskedPersonalData(ctx({ personal_data, masking: [{ column: "email", rule: "fake_email" }, { column: "phone", rule: "fake_phone" }] }))).not.toThrow();
    expect(() => refuseUnmaskedPersonalData(ctx({}))).not.toThrow();
  });

  it("config.yaml: personal_data validated with field paths", () => {
    const yaml = peopleYaml;
    const ok = parseConfigYaml(yaml("    masking: [{ column: email, rule: fake_email }]\n    personal_data:\n      - { column: email, found: column name email }\n      - { column: notes, no_masking_needed: \"reviewed, holds no personal data\" }"));
    expect(unresolvedPersonalData(ok.tables[0])).toEqual([]);
    expect(() => parseConfigYaml(yaml("    personal_data: [{ column: notes, no_masking_needed: ok }]"))).toThrow(/tables\[0\]\.personal_data\[0\]\.no_masking_needed: give a reason of at least 10 characters/);
    expect(() => parseConfigYaml(yaml("    personal_data: [{ column: a }, { column: A }]"))).toThrow(/tables\[0\]\.personal_data\[1\]\.column: A is listed more than once/);
    expect(() => parseConfigYaml(yaml("    masking: [{ column: a, rule: hash }]\n    personal_data: [{ column: a, no_masking_needed: nothing to see here }]"))).toThrow(
      /tables\[0\]\.personal_data\[0\]\.no_masking_needed: a has a masking rule: remove the rule or this decision/,
    );
  });

  it("admin changes: findings flag new columns only, accepting a rule replaces a decision, a decision names who", () => {
    const start = { masking: [{ column: "email", rule: "fake_email" as const }], personal_data: [{ column: "email", found: "column name email" }] };
    const flagged = withFindings([
      { column: "EMAIL", reason: "again", rule: { column: "EMAIL", rule: "fake_email" } },
      { column: "phone", reason: "38 of 40 sampled values are phone numbers", rule: { column: "phone", rule: "fake_phone" } },
    ])(start);
    expect(flagged.personal_data).toEqual([{ column: "email", found: "column name email" }, { column: "phone", found: "38 of 40 sampled values are phone numbers", suggested_rule: "fake_phone" }]);
    expect(unresolvedPersonalData(flagged)).toEqual(["phone"]);
    const decided = withNoMaskingNeeded("phone", "test numbers only, reviewed", "ada@example.test")(flagged);
    expect(decided.personal_data![1]).toMatchObject({ no_masking_needed: "test numbers only, reviewed", decided_by: "ada@example.test" });
    expect(unresolvedPersonalData(decided)).toEqual([]);
    const masked = withRule({ column: "phone", rule: "partial", keep_last: 4 })(decided);
    expect(masked.masking).toEqual([{ column: "email", rule: "fake_email" }, { column: "phone", rule: "partial", keep_last: 4 }]);
    expect(masked.personal_data![1].no_masking_needed).toBeUndefined();
    expect(withNoMaskingNeeded("notes", "reviewed, no personal data", "ada")(start).personal_data).toContainEqual({ column: "notes", no_masking_needed: "reviewed, no personal data", decided_by: "ada" });
  });
});

// A merge updates exactly the rows that differ, and verification's checksum tells them apart, on real PostgreSQL: each
// column is compared and hashed in its cheapest exact form (lib/dialects/postgres/row-change.ts), so a difference the
// type's own equality or hash forgets (-0 and 0, 1.0 and 1.00, '1 day' and '24 hours', a case change under a
// case-insensitive collation, jsonb numbers' scale) is still a change, and a row whose values are the same is not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresCompiler } from "../../lib/dialects/postgres/compiler";
import { postgresRelations } from "../../lib/dialects/postgres/relations";
import type { ColumnInfo } from "../../lib/dialects/types";
import { createTestEnv, type TestEnv } from "../support/env";

const COLUMNS: [string, string][] = [
  ["i", "integer"],
  ["t", "text"],
  ["ci", 'text COLLATE "und_ci"'],
  ["vc", "character varying(20)"],
  ["n", "numeric"],
  ["n2", "numeric(10,2)"],
  ["f", "double precision"],
  ["r", "real"],
  ["ts", "timestamp with time zone"],
  ["iv", "interval"],
  ["j", "jsonb"],
  ["js", "json"],
  ["a", "integer[]"],
  ["b", "bytea"],
];
const BASE = `1, 'x', 'Bob', 'v', 1.0, 1.00, 0, 0, '2025-01-01 00:00:00+00', '1 day', '{"a": 1.0}', '{"a":1}', '{1,2}', '\\x00'`;
/** One row per column, each differing from BASE in that column only, in a way its type's equality overlooks where it can. */
const CHANGED: Record<string, string> = {
  i: "2",
  t: "'y'",
  ci: "'BOB'",
  vc: "'V'",
  n: "1.00",
  n2: "1.01",
  f: "'-0'",
  r: "'-0'",
  ts: "'2025-01-01 01:00:00+01'", // the same instant: equal, and the same value to the product (no change)
  iv: "'24 hours'",
  j: `'{"a": 1.00}'`,
  js: `'{"a": 1}'`,
  a: "'{1,3}'",
  b: "'\\x01'",
};

describe("merge: which rows changed", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.target.query(`CREATE COLLATION IF NOT EXISTS und_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`);
    const list = COLUMNS.map(([c, t]) => `${c} ${t}`).join(", ");
    await env.target.query(`CREATE TABLE m (id int PRIMARY KEY, ${list}); CREATE TABLE m_stage (id int PRIMARY KEY, ${list})`);
    // Row 0 is the same on both sides; row k differs in column k.
    await env.target.query(`INSERT INTO m SELECT g, ${BASE} FROM generate_series(0, ${COLUMNS.length}) g`);
    await env.target.query(`INSERT INTO m_stage SELECT g, ${BASE} FROM generate_series(0, ${COLUMNS.length}) g`);
    for (const [k, [c]] of COLUMNS.entries()) await env.target.query(`UPDATE m_stage SET ${c} = ${CHANGED[c]} WHERE id = ${k + 1}`);
  });
  afterAll(() => env?.close());

  it("updates every row whose values differ, however the type's equality sees them, and no other", async () => {
    const { rows: types } = await env.target.query(
      "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'm'::regclass AND attnum > 0 AND NOT attisdropped",
    );
    const spec = {
      key: ["id"],
      columns: ["id", ...COLUMNS.map(([c]) => c)],
      update: COLUMNS.map(([c]) => c),
      keepers: [],
      identity: false,
      types: Object.fromEntries(types.map((t: { name: string; type: string }) => [t.name, t.type])),
    };
    const { update } = postgresRelations.mergeFromStaging({ schema: "public", name: "m" }, { schema: "public", name: "m_stage" }, spec);
    // Which rows: the statement's own condition as a SELECT; how many: the statement itself (then undone).
    const where = update.sql.slice(update.sql.indexOf("WHERE"), update.sql.indexOf("RETURNING"));
    const changed = await env.target.query(`SELECT t.id FROM m t, m_stage s ${where} ORDER BY t.id`);
    const expected = COLUMNS.map(([c], k) => (c === "ts" ? null : k + 1)).filter((k) => k !== null);
    expect(changed.rows.map((r: { id: number }) => r.id)).toEqual(expected);
    await env.target.query("BEGIN");
    const { rows } = await env.target.query(update.sql, [...update.params]);
    await env.target.query("ROLLBACK");
    expect(Number(rows[0].n)).toBe(expected.length);
  });

  it("verification's checksum differs for exactly the same rows", async () => {
    const { rows: types } = await env.target.query(
      "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'm'::regclass AND attnum > 0 AND NOT attisdropped",
    );
    const columns = types.map((t: { name: string; type: string }) => ({ name: t.name, nativeType: t.type }) as ColumnInfo);
    const id = columns.find((c: ColumnInfo) => c.name === "id")!;
    const sum = async (table: string, k: number) => {
      const q = postgresCompiler.checksum({ schema: "public", name: table }, columns, { kind: "equals", column: id, value: String(k) });
      return (await env.target.query(q.sql, [...q.params])).rows[0].sum as string;
    };
    const differing: number[] = [];
    for (let k = 0; k <= COLUMNS.length; k++) if ((await sum("m", k)) !== (await sum("m_stage", k))) differing.push(k);
    expect(differing).toEqual(COLUMNS.map(([c], k) => (c === "ts" ? null : k + 1)).filter((k) => k !== null));
  });
});

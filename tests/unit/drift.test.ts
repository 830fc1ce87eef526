// Schema drift: which target columns cannot hold what production's hold, in PostgreSQL's and SQL Server's own
// spelling of types.
import { describe, expect, it } from "vitest";
import type { ColumnInfo, TypeFamily } from "../../lib/dialects/types";
import { columnDrift, narrower } from "../../lib/engine/drift";

const col = (nativeType: string, family: TypeFamily, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name: "c", nativeType, family, nullable: true, identity: false, generated: false, ...extra });

describe("schema drift", () => {
  it("refuses a narrower or incompatible target column, in both engines' spelling", () => {
    const refused: [ColumnInfo, ColumnInfo, RegExp][] = [
      [col("character varying(50)", "text"), col("character varying(10)", "text"), /shorter/],
      [col("nvarchar(max)", "text"), col("nvarchar(4000)", "text"), /shorter/],
      [col("text", "text"), col("varchar(255)", "text"), /shorter/],
      [col("bigint", "integer"), col("integer", "integer"), /smaller integers/],
      [col("int", "integer"), col("smallint", "integer"), /smaller integers/],
      [col("numeric(12,2)", "decimal"), col("numeric(12,4)", "decimal"), /fewer integer digits/],
      [col("decimal(18,4)", "decimal"), col("decimal(18,2)", "decimal"), /fewer decimal places/],
      [col("money", "decimal"), col("decimal(10,2)", "decimal"), /fewer integer digits/],
      [col("datetime2(7)", "datetime"), col("datetime2(3)", "datetime"), /fractional-second/],
      [col("timestamp without time zone", "datetime"), col("timestamp(0) without time zone", "datetime"), /fractional-second/],
      [col("double precision", "float"), col("real", "float"), /less precise/],
      [col("text", "text"), col("integer", "integer"), /another kind of value/],
      [col("timestamp with time zone", "datetime"), col("date", "date"), /another kind of value/],
      // Microsoft, datetimeoffset conversions: to datetime2 "the date and time are copied and the time zone is truncated".
      [col("datetimeoffset(7)", "datetime"), col("datetime2(7)", "datetime"), /another kind of value \(no time zone offset\)/],
      [col("datetimeoffset(3)", "datetime"), col("datetime", "datetime"), /another kind of value \(no time zone offset\)/],
      [col("datetimeoffset(7)", "datetime"), col("datetimeoffset(3)", "datetime"), /fractional-second/],
    ];
    for (const [s, t, why] of refused) expect(narrower(s, t), `${s.nativeType} -> ${t.nativeType}`).toMatch(why);
  });

  it("lets through what holds every value: wider, unconstrained, or a widening of the kind", () => {
    const fine: [ColumnInfo, ColumnInfo][] = [
      [col("character varying(10)", "text"), col("text", "text")],
      [col("nvarchar(50)", "text"), col("nvarchar(max)", "text")],
      [col("integer", "integer"), col("bigint", "integer")],
      [col("integer", "integer"), col("numeric(12,2)", "decimal")],
      [col("numeric(12,2)", "decimal"), col("numeric", "decimal")],
      [col("date", "date"), col("timestamp without time zone", "datetime")],
      [col("datetime", "datetime"), col("datetime2(7)", "datetime")],
      [col("datetime2(7)", "datetime"), col("datetimeoffset(7)", "datetime")],
      [col("timestamp with time zone", "datetime"), col("timestamp without time zone", "datetime")],
    ];
    for (const [s, t] of fine) expect(narrower(s, t), `${s.nativeType} -> ${t.nativeType}`).toBeNull();
  });

  it("says what only differs: a column UAT lacks, NULLs UAT refuses, collations, the key", () => {
    const pairs = [{ source: col("text", "text", { name: "email", collation: "Latin1_General_CI_AS" }), target: col("text", "text", { name: "email", nullable: false, collation: "Latin1_General_CS_AS" }) }];
    const drift = columnDrift(pairs, [pairs[0].source, col("text", "text", { name: "ssn" })], {
      source: [{ name: "pk", columns: ["id"], unique: true, primaryKey: true }],
      target: [{ name: "pk", columns: ["email"], unique: true, primaryKey: true }],
    });
    expect(drift.refusals).toEqual([]);
    expect(drift.notes).toEqual([
      "production has ssn (text), which UAT lacks: not copied until UAT has it",
      "email allows NULL in production but not in UAT (a NULL there would fail the load)",
      "email is collated Latin1_General_CS_AS in UAT, Latin1_General_CI_AS in production",
      "the primary key is (email) in UAT, (id) in production",
    ]);
  });

  it("UAT's own columns (a release ahead): filled by a default, NULL or an identity, said; NOT NULL without any, refused by name", () => {
    const uatOnly = [
      col("varchar(10)", "text", { name: "status", nullable: false, default: "'new'::character varying" }),
      col("text", "text", { name: "note" }),
      col("bigint", "integer", { name: "uat_seq", nullable: false, identity: true }),
      col("int", "integer", { name: "must", nullable: false }),
    ];
    const drift = columnDrift([], [], undefined, uatOnly);
    expect(drift.refusals).toEqual([
      "must: UAT has this NOT NULL column without a default and production has no such column, so a copied row cannot fill it; give it a default in UAT (or allow NULL), or add it to production",
    ]);
    expect(drift.notes).toEqual([
      "UAT has status (default 'new'::character varying), note (NULL), uat_seq (identity), which production lacks: not copied; a copied row gets their defaults, a merged row keeps UAT's value",
    ]);
  });
});

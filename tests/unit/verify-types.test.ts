// Which columns a verification compares although the two sides' types differ: a column UAT only widened (a release
// ahead) prints and hashes its values as production's does; a fixed length pads, and another scale prints other digits.
import { describe, expect, it } from "vitest";
import type { ColumnInfo } from "../../lib/dialects/types";
import { sameValueText } from "../../lib/engine/native-type";

const compared = (source: string, target: string) => sameValueText({ nativeType: source } as ColumnInfo, { nativeType: target } as ColumnInfo);

describe("a column UAT widened is compared, one typed differently is counted only", () => {
  it.each([
    ["numeric(12,2)", "numeric(14,2)"],
    ["character varying(50)", "character varying(100)"],
    ["nvarchar(50)", "nvarchar(max)"],
    ["varchar(20)", "VARCHAR(40)"],
    ["varbinary(16)", "varbinary(max)"],
    ["decimal(10,2)", "decimal(38,2)"],
  ])("%s in production, %s in UAT: compared", (source, target) => expect(compared(source, target)).toBe(true));

  it.each([
    ["numeric(12,2)", "numeric(14,3)"], // another scale prints another digit
    ["numeric", "numeric(12,2)"], // an unconstrained numeric keeps the scale of each value
    ["character(10)", "character(20)"], // padded to its length
    ["nchar(10)", "nchar(20)"],
    ["character varying(50)", "text"],
    ["datetime2(3)", "datetime2(7)"], // the fraction's digits
    ["timestamp(3) without time zone", "timestamp(6) without time zone"],
    ["int", "bigint"],
  ])("%s in production, %s in UAT: counted only", (source, target) => expect(compared(source, target)).toBe(false));
});

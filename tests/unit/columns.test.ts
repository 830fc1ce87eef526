// Column names as one catalog query gives them, found in another's answer: a TDS server answered `artistid` for a
// column created as `ArtistId` (after SELECT ... INTO), and the bulk load failed with a TypeError
// ("Cannot read properties of undefined (reading 'nativeType')") instead of finding it or naming it.
import { describe, expect, it } from "vitest";
import { columnNamed, UnknownColumnError } from "../../lib/dialects/columns";
import type { ColumnInfo } from "../../lib/dialects/types";

const col = (name: string): ColumnInfo => ({ name, nativeType: "int", family: "integer", nullable: false, identity: false, generated: false });
const table = { schema: "dbo", name: "Artist" };

describe("columnNamed", () => {
  it("finds a column answered in another case (SQL Server compares names under a case-insensitive collation)", () => {
    expect(columnNamed([col("artistid"), col("name")], "ArtistId", table).name).toBe("artistid");
  });

  it("prefers the exact name where two columns differ only in case (a case-sensitive collation)", () => {
    expect(columnNamed([col("Id"), col("id")], "id", table).name).toBe("id");
  });

  it("names the column and the table's columns when it is not there, or ambiguous", () => {
    expect(() => columnNamed([col("name")], "ArtistId", table)).toThrow(UnknownColumnError);
    expect(() => columnNamed([col("name")], "ArtistId", table)).toThrow("ArtistId is not a column of dbo.Artist (columns: name)");
    expect(() => columnNamed([col("ID"), col("id")], "Id", table)).toThrow(/Id matches more than one column/);
  });
});

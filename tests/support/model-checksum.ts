// The dialect's row checksum (lib/dialects/sqlserver/compiler.ts `checksum`) as the models compute it: per column the
// first 4 bytes of SHA-256 of the value's bytes as a signed int, weighted by the column's position, summed over the
// rows. The models' values print as JavaScript prints them (not as SQL Server's CONVERT does), which is the same on
// both sides of one model: equal rows give equal sums, and a changed value changes the sum.
import { createHash } from "node:crypto";

/** The columns a checksum query hashes, in order. */
export function checksumColumns(sql: string): string[] {
  return [...sql.matchAll(/HASHBYTES\('SHA2_256', ISNULL\((?:CONVERT\(varbinary\(max\), |CAST\(CONVERT\(nvarchar\(max\), )\[([^\]]+)\]/g)].map((m) => m[1]);
}

export const CHECKSUM_QUERY = /^SELECT CAST\(COUNT_BIG\(\*\) AS nvarchar\(20\)\) AS \[n\], CAST\(ISNULL\(SUM\(CAST\(.+ AS decimal\(38, 0\)\)\), 0\) AS nvarchar\(40\)\) AS \[sum\] FROM (\S+)( WHERE .+)?$/s;

function valueHash(v: unknown): bigint {
  const bytes = v === null || v === undefined ? Buffer.from([0]) : Buffer.from(v instanceof Date ? v.toISOString() : String(v), "utf16le");
  return BigInt(createHash("sha256").update(bytes).digest().readInt32BE(0));
}

/** `rows` as arrays of the hashed columns' values. */
export function modelChecksum(rows: unknown[][]): { n: string; sum: string } {
  let sum = 0n;
  for (const r of rows) r.forEach((v, i) => (sum += BigInt(i + 1) * valueHash(v)));
  return { n: String(rows.length), sum: String(sum) };
}

// The exact bulk-load types write what MS-TDS defines, from the value's text: decoded here by the spec, every value
// comes back digit for digit (decimal and money at their extremes, datetimeoffset with its offset), and a value
// the column cannot hold exactly is refused instead of rounded.
import { describe, expect, it } from "vitest";
import { ExactDateTimeOffset, ExactDecimal, ExactMoney, parseOffsetTime } from "../../lib/dialects/sqlserver/exact-types";

/** A minimal WritableTrackingBuffer: the bytes written, in order. */
function sink() {
  const bytes: number[] = [];
  const le = (v: bigint, n: number) => {
    for (let i = 0; i < n; i++, v >>= 8n) bytes.push(Number(v & 0xffn));
  };
  return {
    bytes,
    writeUInt8: (v: number) => bytes.push(v & 0xff),
    writeUInt16LE: (v: number) => le(BigInt(v), 2),
    writeInt16LE: (v: number) => le(BigInt.asUintN(16, BigInt(v)), 2),
    writeUInt24LE: (v: number) => le(BigInt(v), 3),
    writeUInt32LE: (v: number) => le(BigInt(v), 4),
    writeBigUInt64LE: (v: bigint) => le(v, 8),
  };
}

const uintLE = (b: number[]) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);

/** MS-TDS 2.2.5.5.1.3 DECIMALN: length, sign (1 positive), magnitude little-endian; the scale from TYPE_INFO. */
function decodeDecimal(bytes: number[], scale: number): string | null {
  if (bytes[0] === 0) return null;
  const magnitude = uintLE(bytes.slice(2, 1 + bytes[0])).toString().padStart(scale + 1, "0");
  const text = scale ? `${magnitude.slice(0, -scale)}.${magnitude.slice(-scale)}` : magnitude;
  return `${bytes[1] === 0 ? "-" : ""}${text}`;
}

/** MS-TDS DATETIMEOFFSETN: time in 10^-scale s (3-5 bytes), days since 0001-01-01 (3 bytes), both UTC; offset int16. */
function decodeOffset(bytes: number[], scale: number) {
  const timeBytes = bytes[0] - 5;
  const units = uintLE(bytes.slice(1, 1 + timeBytes));
  const days = Number(uintLE(bytes.slice(1 + timeBytes, 4 + timeBytes)));
  const offset = Number(BigInt.asIntN(16, uintLE(bytes.slice(4 + timeBytes, 6 + timeBytes))));
  return { days, ticks: units * 10n ** BigInt(7 - scale), offset };
}

const write = (type: typeof ExactDecimal | typeof ExactDateTimeOffset | typeof ExactMoney, value: unknown, precision: number | undefined, scale: number) => {
  const b = sink();
  type.writeValue(b as never, { value: type.validate(value as never), precision, scale });
  return b.bytes;
};

describe("ExactDecimal", () => {
  it("writes every digit at decimal(38, scale): extremes of decimal(38,10), numeric(19,4), money and smallmoney", () => {
    const cases: [unknown, number, string][] = [
      ["9999999999999999999999999999.9999999999", 10, "9999999999999999999999999999.9999999999"],
      ["-0.0000000001", 10, "-0.0000000001"],
      ["922337203685477.5807", 4, "922337203685477.5807"],
      ["-922337203685477.5808", 4, "-922337203685477.5808"],
      ["12.3", 2, "12.30"],
      [9999999999999.99, 2, "9999999999999.99"],
      ["0", 0, "0"],
    ];
    for (const [value, scale, expected] of cases) expect(decodeDecimal(write(ExactDecimal, value, 38, scale), scale), String(value)).toBe(expected);
    expect(write(ExactDecimal, null, 38, 2)).toEqual([0]);
  });

  it("declares decimal(38, scale) and refuses what it cannot carry exactly", () => {
    expect(ExactDecimal.declaration({ precision: 38, scale: 4 } as never)).toBe("decimal(38, 4)");
    expect(() => write(ExactDecimal, "1.005", 38, 2)).toThrow("1.005 has more than 2 decimal places");
    expect(() => write(ExactDecimal, "1e5", 38, 2)).toThrow(/is not a decimal number/);
    expect(() => write(ExactDecimal, "1" + "0".repeat(38), 38, 0)).toThrow(/does not fit decimal\(38, 0\)/);
  });
});

describe("ExactMoney", () => {
  /** MS-TDS MONEYN: length 8, the high then the low 32 bits of the 64-bit count of ten-thousandths. */
  const decodeMoney = (bytes: number[]) => {
    const n = BigInt.asIntN(64, (uintLE(bytes.slice(1, 5)) << 32n) | uintLE(bytes.slice(5, 9)));
    const digits = (n < 0n ? -n : n).toString().padStart(5, "0");
    return `${n < 0n ? "-" : ""}${digits.slice(0, -4)}.${digits.slice(-4)}`;
  };
  it("writes money (and smallmoney, read as a number) at their extremes as the exact scaled integer", () => {
    for (const v of ["922337203685477.5807", "-922337203685477.5808", "900719925474.0993", "0.0001", "-0.0001"]) expect(decodeMoney(write(ExactMoney, v, undefined, 4)), v).toBe(v);
    // smallmoney values arrive as numbers; 418.9161 * 10000 is 4189160.9999999995 as a double: tedious' own types send 418.9160
    for (const [v, text] of [[214748.3647, "214748.3647"], [-214748.3648, "-214748.3648"], [418.9161, "418.9161"]] as const) expect(decodeMoney(write(ExactMoney, v, undefined, 4)), text).toBe(text);
    expect(ExactMoney.declaration({} as never)).toBe("money");
    expect(() => write(ExactMoney, "922337203685477.5808", undefined, 4)).toThrow(/out of range for money/);
  });
});

describe("ExactDateTimeOffset", () => {
  it("keeps the offset and every 100 ns tick, at the ends of the range too", () => {
    for (const text of ["2025-01-01 10:00:00.1234570 +02:00", "0001-01-01 00:00:00.0000000 +00:00", "9999-12-31 23:59:59.9999999 +00:00", "2025-06-30 23:30:00.0000001 -09:30"]) {
      const expected = parseOffsetTime(text);
      const got = decodeOffset(write(ExactDateTimeOffset, text, undefined, 7), 7);
      expect(got, text).toEqual({ days: expected.days, ticks: expected.ticks, offset: expected.offsetMinutes });
    }
    // 0001-01-01 is day 0; 1970-01-01 is day 719162 (the proleptic Gregorian count SQL Server uses)
    expect(parseOffsetTime("0001-01-01 00:00:00 +00:00").days).toBe(0);
    expect(parseOffsetTime("1970-01-01 00:00:00 +00:00").days).toBe(719_162);
    // the UTC instant: 10:00 at +02:00 is 08:00 UTC
    expect(parseOffsetTime("2025-01-01 10:00:00 +02:00").ticks).toBe(8n * 3600n * 10_000_000n);
    expect(parseOffsetTime("2025-01-01 01:00:00 +02:00").days).toBe(parseOffsetTime("2024-12-31 23:00:00 +00:00").days);
  });

  it("refuses a value with more fractional digits than the column keeps", () => {
    expect(() => write(ExactDateTimeOffset, "2025-01-01 10:00:00.1234567 +02:00", undefined, 3)).toThrow(/more than 3 fractional digits/);
    expect(decodeOffset(write(ExactDateTimeOffset, "2025-01-01 10:00:00.123 +02:00", undefined, 3), 3).ticks).toBe(parseOffsetTime("2025-01-01 10:00:00.123 +02:00").ticks);
  });
});

// Bulk-load types that carry a value exactly, by construction, from its canonical text (lib/dialects/sqlserver/
// transport reads decimal, numeric, money and datetimeoffset values as text). tedious' own Decimal and Money encode
// from a JavaScript number (15-16 significant digits) and its DateTimeOffset from a Date (the offset dropped), so
// these implement tedious' public DataType interface (tedious/lib/data-type.d.ts: declaration, validate,
// writeTypeInfo, writeValue) and write the TDS wire format themselves (MS-TDS 2.2.5.5.1 DECIMALN / NUMERICN: a sign
// byte and the scaled magnitude as a little-endian integer of 4, 8, 12 or 16 bytes; DATETIMEOFFSETN: the time of day
// in 10^-scale seconds, the days since 0001-01-01, both in UTC, and the offset in minutes).
//
// Decimals are declared at precision 38 and the column's own scale. Microsoft's JDBC driver declares what it sends
// the same way and lets the server convert into the destination column: SQLServerBulkCopy.getDestTypeFromSrcType
// declares money, smallmoney and decimal sources as `decimal(source precision, source scale)`, whatever the
// destination's precision. Precision 38 is exact for every decimal, numeric and money value (money is
// decimal(19, 4) exactly), and it is the one precision a TDS server measured here decodes right.
import { TYPES } from "tedious";

/** The DataType shape tedious' BulkLoad calls (see tedious/lib/bulk-load-payload.js). */
interface Param {
  value: unknown;
  precision?: number;
  scale?: number;
  length?: number;
}
interface Buffer_ {
  writeUInt8(v: number): void;
  writeUInt16LE(v: number): void;
  writeInt16LE(v: number): void;
  writeUInt24LE(v: number): void;
  writeUInt32LE(v: number): void;
  writeBigUInt64LE(v: bigint): void;
}

const DECIMALN = 0x6a;
const MASK_64 = (1n << 64n) - 1n;

function decimalBytes(precision: number): number {
  return precision <= 9 ? 4 : precision <= 19 ? 8 : precision <= 28 ? 12 : 16;
}

/** `-123.45` at scale 3 -> { negative: true, magnitude: 123450n }; refuses anything that is not a plain decimal or
 *  that has more fractional digits than the scale keeps (a value that would be rounded is not copied exactly). */
export function scaledMagnitude(text: string, scale: number): { negative: boolean; magnitude: bigint } {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new TypeError(`${JSON.stringify(text)} is not a decimal number`);
  const fraction = (m[3] ?? "").replace(/0+$/, "");
  if (fraction.length > scale) throw new RangeError(`${text} has more than ${scale} decimal places`);
  const magnitude = BigInt(m[2] + fraction.padEnd(scale, "0"));
  return { negative: m[1] === "-" && magnitude !== 0n, magnitude };
}

/** decimal(38, scale) from exact text. */
export const ExactDecimal = {
  ...TYPES.Decimal,
  name: "ExactDecimal",
  /** Text as read (wide decimals, money), or a number holding at most 15 significant digits (read natively). */
  validate(value: unknown): string | number | null {
    if (value === null || value === undefined) return null;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) throw new TypeError(`${value} is not a decimal number`);
      return value;
    }
    const text = String(value);
    scaledMagnitude(text, 38); // shape only; the scale is checked when written
    return text;
  },
  writeTypeInfo(buffer: Buffer_, p: Param) {
    buffer.writeUInt8(DECIMALN);
    buffer.writeUInt8(decimalBytes(p.precision!) + 1);
    buffer.writeUInt8(p.precision!);
    buffer.writeUInt8(p.scale!);
  },
  writeValue(buffer: Buffer_, p: Param) {
    if (p.value === null || p.value === undefined) {
      buffer.writeUInt8(0);
      return;
    }
    const bytes = decimalBytes(p.precision!);
    const text = typeof p.value === "number" ? p.value.toFixed(p.scale!) : String(p.value);
    const { negative, magnitude } = scaledMagnitude(text, p.scale!);
    if (magnitude >= 10n ** BigInt(p.precision!)) throw new RangeError(`${String(p.value)} does not fit decimal(${p.precision}, ${p.scale})`);
    buffer.writeUInt8(bytes + 1);
    buffer.writeUInt8(negative ? 0 : 1);
    for (let done = 0, rest = magnitude; done < bytes; done += 8, rest >>= 64n) {
      if (bytes - done === 4) buffer.writeUInt32LE(Number(rest & 0xffffffffn));
      else buffer.writeBigUInt64LE(rest & MASK_64);
    }
  },
};

const DAY_MS = 86_400_000;
/** Days from 0001-01-01 to 1970-01-01 in the proleptic Gregorian calendar, as SQL Server counts them. */
const EPOCH_DAYS = 719_162;

function timeBytes(scale: number): number {
  return scale <= 2 ? 3 : scale <= 4 ? 4 : 5;
}

export interface OffsetTime {
  /** Days since 0001-01-01 and the time of day in 100 ns units, both in UTC. */
  days: number;
  ticks: bigint;
  offsetMinutes: number;
}

/** `YYYY-MM-DD hh:mm:ss[.fffffff] +hh:mm` (CONVERT(varchar(34), datetimeoffset)) as UTC days, ticks and offset. */
export function parseOffsetTime(text: string): OffsetTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))? ?([+-])(\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) throw new TypeError(`${JSON.stringify(text)} is not a datetimeoffset`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const offsetMinutes = (m[8] === "-" ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d); // years below 100 too (Date.UTC would read them as 19xx)
  local.setUTCHours(h, mi - offsetMinutes, s, 0);
  const ms = local.getTime();
  const days = Math.floor(ms / DAY_MS) + EPOCH_DAYS;
  const msOfDay = ms - Math.floor(ms / DAY_MS) * DAY_MS;
  const ticks = BigInt(msOfDay) * 10_000n + BigInt((m[7] ?? "").padEnd(7, "0"));
  return { days, ticks, offsetMinutes };
}

/** datetimeoffset(scale) from exact text, the offset kept. */
export const ExactDateTimeOffset = {
  ...TYPES.DateTimeOffset,
  name: "ExactDateTimeOffset",
  validate(value: unknown): string | null {
    if (value === null || value === undefined) return null;
    parseOffsetTime(String(value));
    return String(value);
  },
  writeTypeInfo(buffer: Buffer_, p: Param) {
    buffer.writeUInt8(TYPES.DateTimeOffset.id);
    buffer.writeUInt8(p.scale!);
  },
  writeValue(buffer: Buffer_, p: Param) {
    if (p.value === null || p.value === undefined) {
      buffer.writeUInt8(0);
      return;
    }
    const scale = p.scale!;
    const t = parseOffsetTime(String(p.value));
    const divisor = 10n ** BigInt(7 - scale);
    if (t.ticks % divisor !== 0n) throw new RangeError(`${String(p.value)} has more than ${scale} fractional digits`);
    const units = t.ticks / divisor;
    const bytes = timeBytes(scale);
    buffer.writeUInt8(bytes + 5);
    // The time of day, little-endian in 3, 4 or 5 bytes.
    for (let i = 0, rest = units; i < bytes; i++, rest >>= 8n) buffer.writeUInt8(Number(rest & 0xffn));
    buffer.writeUInt24LE(t.days);
    buffer.writeInt16LE(t.offsetMinutes);
  },
};

const MONEYN = 0x6e;

/** money from exact text (or a number of at most 15 significant digits), sent as its scaled integer (MS-TDS
 *  2.2.5.5.1.4: a signed 64-bit count of ten-thousandths, written as its high then its low 32 bits). tedious' Money
 *  multiplies a double by 10000 and truncates (418.9161 arrives as 418.9160), and a TDS server measured here stores
 *  a decimal declared for a money column as garbage: the value travels as money, exactly. */
export const ExactMoney = {
  ...TYPES.Money,
  name: "ExactMoney",
  validate: ExactDecimal.validate,
  writeTypeInfo(buffer: Buffer_) {
    buffer.writeUInt8(MONEYN);
    buffer.writeUInt8(8);
  },
  writeValue(buffer: Buffer_, p: Param) {
    if (p.value === null || p.value === undefined) {
      buffer.writeUInt8(0);
      return;
    }
    const text = typeof p.value === "number" ? p.value.toFixed(4) : String(p.value);
    const { negative, magnitude } = scaledMagnitude(text, 4);
    const scaled = negative ? -magnitude : magnitude;
    if (scaled < -(2n ** 63n) || scaled > 2n ** 63n - 1n) throw new RangeError(`${text} is out of range for money`);
    const bits = BigInt.asUintN(64, scaled);
    buffer.writeUInt8(8);
    buffer.writeUInt32LE(Number(bits >> 32n));
    buffer.writeUInt32LE(Number(bits & 0xffffffffn));
  },
};

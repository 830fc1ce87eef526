// Partition days are YYYYMMDD integers (as in the original design): 2025-02-07 -> 20250207.
// Accepts Date, YYYYMMDD numbers, and strings in YYYYMMDD / YYYY-MM-DD[ time] forms.

export function toDayNumber(value: unknown): number {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error("invalid date");
    return value.getUTCFullYear() * 10000 + (value.getUTCMonth() + 1) * 100 + value.getUTCDate();
  }
  if (typeof value === "number" || typeof value === "bigint") return checkDay(Number(value), String(value));
  if (typeof value === "string") {
    const s = value.trim();
    const compact = /^(\d{8})$/.exec(s);
    if (compact) return checkDay(Number(compact[1]), s);
    const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$/.exec(s);
    if (iso) return checkDay(Number(iso[1]) * 10000 + Number(iso[2]) * 100 + Number(iso[3]), s);
  }
  throw new Error(`cannot read a partition day from ${JSON.stringify(value)} (expected a date, YYYYMMDD or YYYY-MM-DD)`);
}

function checkDay(n: number, raw: string): number {
  const d = dayToDate(n);
  if (!Number.isInteger(n) || toDayNumberUnchecked(d) !== n) throw new Error(`${raw} is not a valid YYYYMMDD day`);
  return n;
}

function toDayNumberUnchecked(d: Date): number {
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export function dayToDate(day: number): Date {
  return new Date(Date.UTC(Math.floor(day / 10000), (Math.floor(day / 100) % 100) - 1, day % 100));
}

export function dayToIso(day: number): string {
  return dayToDate(day).toISOString().slice(0, 10);
}

export function addDays(day: number, n: number): number {
  const d = dayToDate(day);
  d.setUTCDate(d.getUTCDate() + n);
  return toDayNumberUnchecked(d);
}

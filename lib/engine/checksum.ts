// A count and an order-independent checksum of some rows, as the dialects' `checksum` statements compute them: the
// sum of per-row hashes. Sums add up, so slices read apart (parallel streams) add up to the whole they cover.
// Kept apart from ./verify so a stream's thread reads one without loading the engine's context.
import type { CompiledQuery, Session } from "../dialects/types";

export interface Checksum {
  rows: number;
  /** An integer as text (decimal(38, 0) on SQL Server, numeric on PostgreSQL). */
  sum: string;
}

export async function readChecksum(session: Pick<Session, "query">, q: CompiledQuery): Promise<Checksum> {
  const [r] = await session.query<{ n: string | number; sum: string | null }>(q);
  return { rows: Number(r?.n ?? 0), sum: String(r?.sum ?? "0") };
}

/** The checksum of the union of disjoint row sets; undefined when any part is unknown. */
export function addChecksums(parts: (Checksum | undefined)[]): Checksum | undefined {
  if (!parts.length || parts.some((p) => !p)) return undefined;
  const known = parts as Checksum[];
  return { rows: known.reduce((n, p) => n + p.rows, 0), sum: known.reduce((s, p) => s + BigInt(p.sum), 0n).toString() };
}

/** `whole` without `part`, a subset of its rows (rows UAT changed and kept, left out of a comparison). */
export function withoutChecksum(whole: Checksum, part: Checksum | undefined): Checksum {
  if (!part) return whole;
  return { rows: whole.rows - part.rows, sum: (BigInt(whole.sum) - BigInt(part.sum)).toString() };
}

// Cutting one table's key range into slices for parallel streams. The slices are [-inf, c1) with the NULL keys,
// [c1, c2), ..., [c(n-1), +inf): every value lies in exactly one of them whatever the statistics say, because the
// source itself evaluates the bounds. The statistics only decide where the cuts fall, so that each slice holds
// about as many rows as the others (stale statistics make the slices uneven, never wrong).

/** One step of a key's distribution: the relative number of rows above the previous bound up to `bound` (key
 *  order, as the engine sorts it); a null bound counts the NULL keys. */
export interface KeyBucket {
  bound: string | null;
  rows: number;
}

/** A stream's share: key in [lower, upper), open where null; NULL keys travel with the first slice. */
export interface KeySlice {
  lower: string | null;
  upper: string | null;
  nulls: boolean;
}

/** The slices between `cuts` (strictly increasing in the engine's order). */
export function slicesBetween(cuts: string[]): KeySlice[] {
  const bounds = [null, ...cuts, null];
  return bounds.slice(0, -1).map((lower, i) => ({ lower, upper: bounds[i + 1], nulls: i === 0 }));
}

/** At most `n` slices of about equal rows, cut at bucket bounds (the buckets arrive in key order). */
export function sliceByHistogram(buckets: KeyBucket[], n: number): KeySlice[] {
  const nulls = buckets.filter((b) => b.bound === null).reduce((s, b) => s + Math.max(0, b.rows), 0);
  const valued = buckets.filter((b): b is { bound: string; rows: number } => b.bound !== null);
  const total = nulls + valued.reduce((s, b) => s + Math.max(0, b.rows), 0);
  const cuts: string[] = [];
  if (n > 1 && total > 0) {
    let seen = nulls;
    let k = 1;
    for (const [i, b] of valued.entries()) {
      // Rows of this bucket lie below its bound (and at it): cutting at the bound puts the ones below in the slice
      // that is filling up. Never cut at the first bound (an empty first slice) or twice at one.
      if (i > 0 && seen >= (k * total) / n && cuts.at(-1) !== b.bound) {
        cuts.push(b.bound);
        while (k < n && seen >= (k * total) / n) k++;
        if (k >= n) break;
      }
      seen += Math.max(0, b.rows);
    }
  }
  return slicesBetween(cuts);
}

/** At most `n` slices of equal width between the smallest and largest integer key (no statistics to go by). */
export function sliceIntegers(lo: string, hi: string, n: number): KeySlice[] {
  const min = BigInt(lo);
  const span = BigInt(hi) - min + 1n;
  const cuts: string[] = [];
  for (let k = 1n; k < BigInt(n); k++) {
    const cut = String(min + (span * k) / BigInt(n));
    if (cut !== cuts.at(-1) && BigInt(cut) > min) cuts.push(cut);
  }
  return slicesBetween(cuts);
}

// The key slices of parallel streams: whatever the statistics say (fine, coarse, stale, skewed, NULL-heavy), every
// row lies in exactly one slice, evaluated the way the source evaluates the slice's WHERE clause.
import { describe, expect, it } from "vitest";
import { sliceByHistogram, sliceIntegers, type KeyBucket, type KeySlice } from "../../lib/engine/streams/split";

/** The WHERE clause of a slice (see lib/dialects/filters.ts) over integer keys: NULL compares as unknown. */
function holds(slice: KeySlice, key: number | null): boolean {
  if (key === null) return slice.nulls;
  return (slice.lower === null || key >= Number(slice.lower)) && (slice.upper === null || key < Number(slice.upper));
}

function expectPartition(slices: KeySlice[], keys: (number | null)[]) {
  for (const key of keys) expect(slices.filter((s) => holds(s, key)).length, `key ${key}`).toBe(1);
}

/** A seeded generator: the same data every run. */
function random(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** An equal-frequency histogram with `steps` bounds, as a catalog would keep it (NULLs counted apart). */
function histogram(keys: (number | null)[], steps: number): KeyBucket[] {
  const sorted = keys.filter((k): k is number => k !== null).sort((a, b) => a - b);
  const bounds = [...new Set(Array.from({ length: steps }, (_, i) => sorted[Math.min(sorted.length - 1, Math.floor(((i + 1) * sorted.length) / steps))]))];
  let prev = -Infinity;
  const buckets = bounds.map((b) => {
    const rows = sorted.filter((k) => k > prev && k <= b).length;
    prev = b;
    return { bound: String(b), rows };
  });
  const nulls = keys.length - sorted.length;
  return nulls ? [{ bound: null, rows: nulls }, ...buckets] : buckets;
}

describe("key slices for parallel streams", () => {
  it("cover every key exactly once and balance a uniform key", () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => i + 1);
    const slices = sliceByHistogram(histogram(keys, 200), 4);
    expect(slices).toHaveLength(4);
    expectPartition(slices, keys);
    const sizes = slices.map((s) => keys.filter((k) => holds(s, k)).length);
    for (const n of sizes) expect(n).toBeGreaterThan(2000);
  });

  it("stay exact for skewed keys, repeated values and NULLs (NULLs ride with the first slice only)", () => {
    const next = random(7);
    const keys: (number | null)[] = Array.from({ length: 20_000 }, () => {
      const r = next();
      if (r < 0.15) return null;
      if (r < 0.55) return 42; // one value holds 40 % of the rows
      return Math.floor(next() ** 4 * 1_000_000); // the rest bunched near zero
    });
    for (const steps of [1, 3, 20, 200]) {
      const slices = sliceByHistogram(histogram(keys, steps), 4);
      expectPartition(slices, keys);
      expect(slices.filter((s) => s.nulls)).toHaveLength(1);
    }
  });

  it("stay exact on stale statistics (bounds that miss the data) and on empty or NULL-only histograms", () => {
    const keys = [-5, 0, 7, 1_000_000_000, null, 3];
    expectPartition(sliceByHistogram([{ bound: "100", rows: 5 }, { bound: "200", rows: 5 }, { bound: "300", rows: 5 }], 3), keys);
    expect(sliceByHistogram([], 4)).toEqual([{ lower: null, upper: null, nulls: true }]);
    expect(sliceByHistogram([{ bound: null, rows: 10 }], 4)).toEqual([{ lower: null, upper: null, nulls: true }]);
  });

  it("cut integers evenly from their range, never an empty or repeated cut, bigint-safe", () => {
    const slices = sliceIntegers("1", "1000", 4);
    expect(slices.map((s) => [s.lower, s.upper])).toEqual([[null, "251"], ["251", "501"], ["501", "751"], ["751", null]]);
    expectPartition(slices, [1, 250, 251, 1000, null, -3, 5000]);
    expect(sliceIntegers("5", "6", 4).length).toBeLessThanOrEqual(2);
    expect(sliceIntegers("7", "7", 4)).toEqual([{ lower: null, upper: null, nulls: true }]);
    const big = sliceIntegers("9223372036854775000", "9223372036854775807", 2);
    expect(big[1].lower).toBe("9223372036854775404");
  });
});

describe("how many streams by default", () => {
  it("SQL Server: the client's cores, at most 4; PostgreSQL: one; a setting wins on both", async () => {
    const os = await import("node:os");
    const { maxStreams } = await import("../../lib/engine/streams/plan");
    const { settingsSchema } = await import("../../lib/config/schema");
    const defaults = settingsSchema.parse({});
    expect(maxStreams(defaults, "sqlserver")).toBe(Math.min(4, os.availableParallelism()));
    expect(maxStreams(defaults, "postgres")).toBe(1);
    const three = settingsSchema.parse({ max_streams_per_table: 3 });
    expect([maxStreams(three, "sqlserver"), maxStreams(three, "postgres")]).toEqual([3, 3]);
  });
});

// Identity mode's watched gaps (lib/engine/gap-watch): what a run records for the next, as pure functions.
import { describe, expect, it } from "vitest";
import { describeGaps, gapFilters, GAP_WATCH_DAYS, GAP_WATCH_MAX, nextWatch, withoutFilled } from "../../lib/engine/gap-watch";
import type { ColumnInfo } from "../../lib/dialects/types";

const column = { name: "id", nativeType: "integer", family: "integer", nullable: false } as ColumnInfo;
const now = new Date("2026-12-06T12:00:00Z");
const daysAgo = (n: number) => new Date(now.getTime() - n * 86_400_000).toISOString();

describe("watched identity gaps", () => {
  it("keeps a gap for GAP_WATCH_DAYS after the floor passed it, then lets it go, and says how many went", () => {
    const young = { after: "10", before: "12", since: daysAgo(GAP_WATCH_DAYS - 1) };
    const old = { after: "20", before: "22", since: daysAgo(GAP_WATCH_DAYS) };
    const { watch, aged } = nextWatch("id", [young, old], [], "100", now);
    expect(watch).toEqual({ column: "id", upTo: "100", gaps: [young] });
    expect(aged).toBe(1);
  });

  it("watches the highest GAP_WATCH_MAX gaps (the most recent ids), highest first, and counts the ones beyond", () => {
    const fresh = Array.from({ length: GAP_WATCH_MAX + 3 }, (_, i) => ({ after: String(i * 3), before: String(i * 3 + 2), since: now.toISOString() }));
    const { watch, dropped } = nextWatch("id", [], fresh, "9999", now);
    expect(watch.gaps).toHaveLength(GAP_WATCH_MAX);
    expect(watch.gaps[0].after).toBe(String((GAP_WATCH_MAX + 2) * 3));
    expect(watch.gaps.at(-1)!.after).toBe("9");
    expect(dropped).toBe(3);
  });

  it("ends the watch on the ids rows arrived in, keeping what is left of each gap", () => {
    const since = daysAgo(1);
    // (10, 20) holds 11..19: 12 and 15 arrived; (30, 32) holds 31, which arrived; (40, 42) holds 41, still empty.
    const left = withoutFilled([{ after: "10", before: "20", since }, { after: "30", before: "32", since }, { after: "40", before: "42", since }], [15n, 12n, 31n, 99n]);
    expect(left).toEqual([
      { after: "10", before: "12", since },
      { after: "12", before: "15", since },
      { after: "15", before: "20", since },
      { after: "40", before: "42", since },
    ]);
  });

  it("asks production for the gaps below the read's floor only, each as ids (after, before - 1], cut at the floor", () => {
    const since = daysAgo(1);
    const watch = { column: "id", upTo: "100", gaps: [{ after: "150", before: "152", since }, { after: "95", before: "120", since }, { after: "10", before: "12", since }] };
    const filters = gapFilters(watch, column, "100");
    expect(filters).toEqual([
      { kind: "upTo", column, after: "95", upTo: "100" },
      { kind: "upTo", column, after: "10", upTo: "11" },
    ]);
    expect(describeGaps(filters)).toBe("96-100, 11");
  });
});

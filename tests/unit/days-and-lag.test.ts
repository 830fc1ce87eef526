import { describe, expect, it } from "vitest";
import { partitionDay } from "../../lib/dialects/partition-days";
import type { TypeFamily } from "../../lib/dialects/types";
import { parseBound } from "../../lib/dialects/postgres/introspector";
import { quoteIdent } from "../../lib/dialects/postgres/compiler";
import { addDays, toDayNumber } from "../../lib/dialects/days";
import { describeLag } from "../../lib/engine/status";

describe("partition days (YYYYMMDD)", () => {
  it("reads dates, integers and strings", () => {
    expect(toDayNumber(new Date(Date.UTC(2025, 1, 7, 13, 5)))).toBe(20250207);
    expect(toDayNumber(20250207)).toBe(20250207);
    expect(toDayNumber("20250207")).toBe(20250207);
    expect(toDayNumber("2025-02-07")).toBe(20250207);
    expect(toDayNumber("2025-02-07 23:59:59.999")).toBe(20250207);
  });
  it("refuses what is not a day", () => {
    expect(() => toDayNumber("20250230")).toThrow("20250230 is not a valid YYYYMMDD day");
    expect(() => toDayNumber("yesterday")).toThrow(/cannot read a partition day/);
    expect(() => toDayNumber(2025020)).toThrow(/not a valid YYYYMMDD day/);
  });
  it("adds days across month and year ends", () => {
    expect(addDays(20250131, 1)).toBe(20250201);
    expect(addDays(20241231, 1)).toBe(20250101);
    expect(addDays(20240301, -1)).toBe(20240229);
  });
  it("recognises daily partitions from PostgreSQL bounds, and only those", () => {
    const key = (family: TypeFamily) => ({ column: "d", columnType: { name: "d", nativeType: family, family, nullable: false, identity: false, generated: false }, partitions: [] });
    const day = (bound: string, family: TypeFamily = "integer") => partitionDay(key(family), parseBound("p", bound));
    expect(day("FOR VALUES FROM (20250207) TO (20250208)")).toBe(20250207);
    expect(day("FOR VALUES FROM (20250131) TO (20250201)")).toBe(20250131);
    expect(day("FOR VALUES FROM ('2025-02-07') TO ('2025-02-08')", "date")).toBe(20250207);
    expect(day("FOR VALUES FROM ('2025-02-07 00:00:00') TO ('2025-02-08 00:00:00')", "datetime")).toBe(20250207);
    expect(day("FOR VALUES FROM ('2025-02-07 00:00:00') TO ('2025-02-07 12:00:00')", "datetime")).toBeNull();
    expect(day("FOR VALUES FROM ('2025-02-07 06:00:00') TO ('2025-02-08 06:00:00')", "datetime")).toBeNull();
    expect(day("FOR VALUES FROM (20250201) TO (20250301)")).toBeNull();
    expect(day("FOR VALUES FROM (MINVALUE) TO (20250101)")).toBeNull();
    expect(day("DEFAULT")).toBeNull();
  });
});

describe("identifier quoting", () => {
  it("doubles embedded quotes, so no name can end the identifier", () => {
    expect(quoteIdent('we"ird; DROP TABLE x; --')).toBe('"we""ird; DROP TABLE x; --"');
    expect(quoteIdent("tâble_表")).toBe('"tâble_表"');
  });
});

describe("lag", () => {
  it("speaks the watermark's unit", () => {
    expect(describeLag({ rows: 10, watermark: "20250110" }, { rows: 5, watermark: "20250107" })).toBe("3 days");
    expect(describeLag({ rows: 10, watermark: "1000" }, { rows: 5, watermark: "880" })).toBe("120 ids");
    expect(describeLag({ rows: 1, watermark: "2025-01-02 06:00:00" }, { rows: 1, watermark: "2025-01-02 00:30:00" })).toBe("5.5 h");
    expect(describeLag({ rows: 1, watermark: "2025-01-05 00:00:00" }, { rows: 1, watermark: "2025-01-02 00:00:00" })).toBe("3.0 days");
    expect(describeLag({ rows: 7, watermark: null }, { rows: 7, watermark: null }, true)).toBe("in sync");
    // Equal counts alone are not "in sync": rows can differ behind them.
    expect(describeLag({ rows: 7, watermark: null }, { rows: 7, watermark: null })).toBe("equal, not verified");
    expect(describeLag({ rows: 7, watermark: null }, { rows: 4, watermark: null })).toBe("3 rows");
    expect(describeLag({ rows: 7, watermark: "5" }, { rows: 7, watermark: "5" }, true)).toBe("in sync");
  });
});

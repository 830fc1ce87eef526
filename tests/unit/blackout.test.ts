// Blackout windows as written in config.yaml: periods with their offset, weekly windows in a time zone (business
// hours, a night that runs past midnight), and the errors a wrong one gets.
import { describe, expect, it } from "vitest";
import { activeBlackout, blackoutWindowSchema } from "../../lib/config/blackout";
import { formatIssues } from "../../lib/config/schema";

const parse = (w: unknown) => blackoutWindowSchema.parse(w);
const issues = (w: unknown) => {
  const r = blackoutWindowSchema.safeParse(w);
  return r.success ? [] : formatIssues(r.error);
};

describe("blackout windows", () => {
  it("a period: from (inclusive) to (exclusive), whatever offset each is written in", () => {
    const w = parse({ name: "campaign", from: "2026-12-07T08:00:00+01:00", to: "2026-12-11T18:00:00+01:00" });
    expect(activeBlackout([w], new Date("2026-12-07T06:59:59Z"))).toBeNull();
    expect(activeBlackout([w], new Date("2026-12-07T07:00:00Z"))).toEqual({ name: "campaign", until: new Date("2026-12-11T17:00:00Z") });
    expect(activeBlackout([w], new Date("2026-12-11T17:00:00Z"))).toBeNull();
  });

  it("business hours in Berlin, Monday to Friday, in winter and in summer time", () => {
    const w = parse({ name: "business hours", days: ["mon", "tue", "wed", "thu", "fri"], start: "08:00", end: "18:00", timezone: "Europe/Berlin" });
    // Friday 2026-12-04, 09:30 in Berlin (UTC+1)
    expect(activeBlackout([w], new Date("2026-12-04T08:30:00Z"))).toEqual({ name: "business hours", until: new Date("2026-12-04T17:00:00Z") });
    expect(activeBlackout([w], new Date("2026-12-04T17:00:00Z"))).toBeNull();
    // Saturday: free
    expect(activeBlackout([w], new Date("2026-12-05T10:00:00Z"))).toBeNull();
    // Wednesday 2026-07-01, 07:30 UTC = 09:30 in Berlin (UTC+2): ends 16:00 UTC
    expect(activeBlackout([w], new Date("2026-07-01T07:30:00Z"))?.until).toEqual(new Date("2026-07-01T16:00:00Z"));
  });

  it("a window past midnight belongs to the day it starts", () => {
    const w = parse({ name: "batch night", days: ["fri"], start: "22:00", end: "06:00" });
    expect(activeBlackout([w], new Date("2026-12-04T23:15:00Z"))?.until).toEqual(new Date("2026-12-05T06:00:00Z"));
    expect(activeBlackout([w], new Date("2026-12-05T05:59:00Z"))?.until).toEqual(new Date("2026-12-05T06:00:00Z"));
    // Thursday night is not Friday's
    expect(activeBlackout([w], new Date("2026-12-04T05:00:00Z"))).toBeNull();
  });

  it("of two windows at once, the later end is the one said", () => {
    const a = parse({ name: "short", from: "2026-12-04T00:00:00Z", to: "2026-12-04T12:00:00Z" });
    const b = parse({ name: "long", from: "2026-12-04T00:00:00Z", to: "2026-12-06T00:00:00Z" });
    expect(activeBlackout([a, b], new Date("2026-12-04T06:00:00Z"))?.name).toBe("long");
  });

  it("a wrong window is refused with the field and the reason", () => {
    expect(issues({ name: "x", from: "2026-12-07 08:00", to: "2026-12-08T08:00:00Z" })).toEqual(["from: must be a timestamp with its offset, e.g. 2026-12-07T08:00:00+01:00"]);
    expect(issues({ name: "x", from: "2026-12-08T08:00:00Z", to: "2026-12-07T08:00:00Z" })).toEqual(["to: must be after from"]);
    expect(issues({ name: "x", days: ["mon"], start: "8:00", end: "18:00" })).toEqual(["start: must be a time of day as HH:MM (24 h)"]);
    expect(issues({ name: "x", days: ["mon"], start: "08:00", end: "18:00", timezone: "Mars/Olympus" })).toEqual(["timezone: is not a time zone this server knows (an IANA name, e.g. Europe/Berlin)"]);
    expect(issues({ name: "x", days: ["mon"], start: "08:00" })).toEqual(["end: is required for a weekly window"]);
    expect(issues({ name: "x", from: "2026-12-08T08:00:00Z", days: ["mon"] })).toEqual(["(root): give either from and to (a period) or days, start and end (a weekly window)"]);
  });
});

// Blackout windows: times in which no refresh of an environment starts (a test campaign week, business hours).
// Either a period (`from` .. `to`, ISO timestamps with their offset) or a weekly window (`days`, `start` .. `end`
// local time in `timezone`; an `end` before `start` runs past midnight).
import { z } from "zod";

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
type Weekday = (typeof WEEKDAYS)[number];

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time of day as HH:MM (24 h)");
const instant = z.string().refine((s) => /[zZ]|[+-]\d\d:?\d\d$/.test(s) && !Number.isNaN(Date.parse(s)), "must be a timestamp with its offset, e.g. 2026-12-07T08:00:00+01:00");

function validTimezone(tz: string) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const blackoutWindowSchema = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(100),
    from: instant.optional(),
    to: instant.optional(),
    days: z.array(z.enum(WEEKDAYS)).min(1, "name at least one day").optional(),
    start: clock.optional(),
    end: clock.optional(),
    timezone: z.string().default("UTC").refine(validTimezone, "is not a time zone this server knows (an IANA name, e.g. Europe/Berlin)"),
  })
  .strict()
  .superRefine((w, ctx) => {
    const period = w.from !== undefined || w.to !== undefined;
    const weekly = w.days !== undefined || w.start !== undefined || w.end !== undefined;
    if (period === weekly) return ctx.addIssue({ code: "custom", path: [], message: "give either from and to (a period) or days, start and end (a weekly window)" });
    if (period) {
      if (w.from === undefined || w.to === undefined) return ctx.addIssue({ code: "custom", path: [w.from === undefined ? "from" : "to"], message: "is required for a period" });
      if (Date.parse(w.to) <= Date.parse(w.from)) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
    } else {
      for (const k of ["days", "start", "end"] as const) if (w[k] === undefined) ctx.addIssue({ code: "custom", path: [k], message: "is required for a weekly window" });
      if (w.start !== undefined && w.start === w.end) ctx.addIssue({ code: "custom", path: ["end"], message: "must differ from start" });
    }
  });

export type BlackoutWindow = z.infer<typeof blackoutWindowSchema>;

export interface ActiveBlackout {
  name: string;
  /** When the window ends (the first instant a run may start again, as far as this window is concerned). */
  until: Date;
}

/** The local weekday and minute of the day of `at` in `timezone`. */
function localTime(at: Date, timezone: string): { day: Weekday; minute: number } {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return { day: get("weekday").toLowerCase().slice(0, 3) as Weekday, minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The window `at` falls in, if any (the one ending last when several do). */
export function activeBlackout(windows: readonly BlackoutWindow[] | undefined, at: Date = new Date()): ActiveBlackout | null {
  let found: ActiveBlackout | null = null;
  for (const w of windows ?? []) {
    const until = endOf(w, at);
    if (until && (!found || until > found.until)) found = { name: w.name, until };
  }
  return found;
}

function endOf(w: BlackoutWindow, at: Date): Date | null {
  if (w.from !== undefined && w.to !== undefined) return Date.parse(w.from) <= at.getTime() && at.getTime() < Date.parse(w.to) ? new Date(w.to) : null;
  const { day, minute } = localTime(at, w.timezone);
  const start = minutes(w.start!);
  const end = minutes(w.end!);
  const days = new Set(w.days);
  const yesterday = WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7];
  let left: number | null = null;
  if (start < end) {
    if (days.has(day) && minute >= start && minute < end) left = end - minute;
  } else if (days.has(day) && minute >= start) left = 24 * 60 - minute + end;
  else if (days.has(yesterday) && minute < end) left = end - minute;
  // Whole minutes from the current minute's start (a DST change inside the window moves its end by that hour).
  return left === null ? null : new Date(Math.floor(at.getTime() / 60_000) * 60_000 + left * 60_000);
}

/** "test campaign (until 2026-12-10 18:00 UTC)" */
export function describeBlackout(b: ActiveBlackout): string {
  return `${b.name} (until ${b.until.toISOString().slice(0, 16).replace("T", " ")} UTC)`;
}

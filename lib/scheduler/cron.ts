// Cron expressions: validation, a human description (cronstrue) and the next run times (cron-parser).
// Browser-safe (the schedule form previews with it); the server also checks with node-cron, which runs them.
import { CronExpressionParser } from "cron-parser";
import cronstrue from "cronstrue";

export function describeCron(expr: string): string {
  try {
    return cronstrue.toString(expr, { use24HourTimeFormat: true, verbose: false });
  } catch (e) {
    return `invalid: ${String(e)}`;
  }
}

/** Null when cron-parser accepts the expression and the time zone exists. */
export function cronError(expr: string, timezone: string): string | null {
  if (!/^\S+(\s+\S+){4,5}$/.test(expr.trim())) return "is not a valid cron expression (minute hour day-of-month month day-of-week)";
  if (!isTimezone(timezone)) return `timezone ${timezone} is not an IANA time zone (e.g. Europe/Amsterdam)`;
  try {
    CronExpressionParser.parse(expr, { tz: timezone });
  } catch (e) {
    return `is not a valid cron expression: ${(e as Error).message}`;
  }
  return null;
}

export function isTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function nextRuns(expr: string, timezone: string, count = 5, from = new Date()): Date[] {
  const it = CronExpressionParser.parse(expr, { tz: timezone, currentDate: from });
  return Array.from({ length: count }, () => it.next().toDate());
}

/** Due times in (since, until], oldest first, at most `limit`. */
export function dueBetween(expr: string, timezone: string, since: Date, until: Date, limit = 100): Date[] {
  const it = CronExpressionParser.parse(expr, { tz: timezone, currentDate: since, endDate: until });
  const out: Date[] = [];
  while (out.length < limit && it.hasNext()) out.push(it.next().toDate());
  return out;
}

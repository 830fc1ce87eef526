/** A date from a URL parameter (YYYY-MM-DD or ISO), or undefined when absent or not a date. */
export function dateParam(s?: string): Date | undefined {
  const d = s ? new Date(s) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

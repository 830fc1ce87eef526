// The events a notification channel can subscribe to: plain data, shared by the server and the admin form.
export const NOTIFY_EVENTS = ["run_failed", "run_partial", "schedule_missed", "schedule_skipped", "run_long", "table_lag"] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const EVENT_LABELS: Record<NotifyEvent, string> = {
  run_failed: "a run failed (or was interrupted)",
  run_partial: "a run partly failed",
  schedule_missed: "a schedule's due time was missed",
  schedule_skipped: "a schedule's due time fell in a blackout window",
  run_long: "a run is still going after N minutes",
  table_lag: "a table not refreshed for N hours",
};

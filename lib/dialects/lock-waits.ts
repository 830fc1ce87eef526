// A server's rows of (waiting session, one session in its way) as LockWait objects: each waiting session once, with
// every session blocking it, in the order the server listed them.
import type { LockWait } from "./types";

export interface LockWaitRow {
  waiter: string;
  since: string;
  user: string | null;
  application: string | null;
  client: string | null;
  state: string | null;
}

export function lockWaitsFrom(rows: LockWaitRow[]): LockWait[] {
  const waits = new Map<string, LockWait>();
  for (const r of rows) {
    const wait = waits.get(r.waiter) ?? { session: r.waiter, since: r.since, blockers: [] };
    wait.blockers.push({ user: r.user, application: r.application, client: r.client, state: r.state });
    waits.set(r.waiter, wait);
  }
  return [...waits.values()];
}

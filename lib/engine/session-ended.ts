// Which side's server ended a session, and why: said once, for a table's sessions and a stream's alike.
import type { Session } from "../dialects/types";
import { RefreshError } from "./errors";

const SESSION_ENDED_HINT =
  "A server ended one of the refresh's sessions (an administrator's KILL or pg_terminate_backend, a restart or failover, the network): the unit in progress was rolled back; a unit is retried up to settings.max_retries times on new sessions.";

/**
 * A unit that failed because a server ended one of its sessions says which and why, whatever error surfaced first:
 * a source ending mid-stream also breaks UAT's load (whose server then complains of a short bulk load), and a UAT
 * ending mid-load breaks the source's read. The first error's code stays, so a retry still sees it as transient.
 */
export function sessionEnded(e: unknown, sessions: { source: Session; target: Session }): unknown {
  for (const side of ["source", "target"] as const) {
    const why = sessions[side].endedByServer;
    if (!why) continue;
    const { code, number } = (e ?? {}) as { code?: string; number?: number };
    return Object.assign(new RefreshError(`the ${side} server ended the connection: ${why}`, { hint: SESSION_ENDED_HINT }), { cause: e, code, number });
  }
  return e;
}

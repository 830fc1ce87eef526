// What a server can do (SWITCH, partition DDL, UPDATE STATISTICS) is found by trying it on objects of the probe's own
// in transactions rolled back: 14 statements, DDL among them, before a run's plan can choose its path. The answer
// belongs to the database, the server's version and the login (its right to create the objects), so a process keeps
// it for a while: a worker's next run into the same UAT plans without probing again (and a DBA's DDL audit sees the
// probe once, not on every run). An upgrade (another version) or another login is another key; a grant or a revoke
// shows after CAPABILITIES_KEPT_MS at the latest.
import type { ServerCapabilities } from "../types";

export const CAPABILITIES_KEPT_MS = 15 * 60_000;

const kept = new Map<string, { at: number; capabilities: ServerCapabilities }>();

/** The key of one database as one login sees it on one version of the server. */
export function capabilityKey(database: string, version: string, login: string): string {
  return JSON.stringify([database, version, login]);
}

/** What an earlier probe found for `key`, unless it is older than CAPABILITIES_KEPT_MS. */
export function keptCapabilities(key: string, now = Date.now()): ServerCapabilities | undefined {
  const k = kept.get(key);
  if (k && now - k.at < CAPABILITIES_KEPT_MS) return k.capabilities;
  kept.delete(key);
  return undefined;
}

/** Keeps what a probe found: only a probe whose session lived to its end (a lost connection is no refusal). */
export function keepCapabilities(key: string, capabilities: ServerCapabilities, now = Date.now()) {
  kept.set(key, { at: now, capabilities });
}

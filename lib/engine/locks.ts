// One refresh per table at a time, across processes: PostgreSQL advisory locks on the metadata database.
// Session-level locks vanish with their connection, so a killed process never leaves a table locked. The other side
// of that: a lock connection that dies (a metadata restart, a failover, an idle timeout, a terminated backend) drops
// every lock while the run goes on, and another process may then start the same tables. So the connection is
// watched (TCP keepalive, its error and end events) and a run is told at once; and before every commit or switch
// the run proves its locks are still held (lib/engine/runner wraps the target's transactions), so a run that lost
// them aborts before anything of it is committed.
import pg from "pg";
import { RefreshError } from "./errors";

const LOCK_NAMESPACE = 0x55_41_54_52; // "UATR": keeps our keys apart from other advisory-lock users

export class LockLostError extends RefreshError {}

export class TableLocks {
  private client: pg.Client | null = null;
  private held = new Set<string>();
  private lost: string | null = null;
  private listeners: ((why: string) => void)[] = [];

  /** Locks are per environment: one target table belongs to one environment (lib/config/environments). */
  constructor(
    private url: string,
    private environment: string,
  ) {}

  private key(table: string) {
    return lockKey(this.environment, table);
  }

  /** Called once if the lock connection is lost while locks are held. */
  onLost(fn: (why: string) => void) {
    this.listeners.push(fn);
  }

  private markLost(why: string) {
    if (this.lost || !this.held.size) return;
    this.lost = why;
    for (const fn of this.listeners) fn(why);
  }

  private async connection() {
    if (this.lost) throw new LockLostError(`the table locks were lost (${this.lost})`);
    if (!this.client) {
      const client = new pg.Client({ connectionString: this.url, application_name: "uat-refresh (locks)", keepAlive: true, keepAliveInitialDelayMillis: 5000 });
      client.on("error", (e) => this.markLost(`lock connection error: ${e.message}`));
      client.on("end", () => this.markLost("lock connection closed"));
      await client.connect();
      this.client = client;
    }
    return this.client;
  }

  /** True when this process now holds the table's lock; false when another refresh has it. */
  async tryLock(table: string): Promise<boolean> {
    const c = await this.connection();
    const { rows } = await c.query("SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS ok", [LOCK_NAMESPACE | 0, this.key(table)]);
    if (rows[0].ok) this.held.add(table);
    return rows[0].ok;
  }

  /** Proves the locks of `tables` (all held, by default) are still held, on the connection that holds them;
   *  throws a LockLostError otherwise. Run before every commit. */
  async assertHeld(tables: string[] = [...this.held]) {
    if (!tables.length) return;
    if (this.lost || !this.client) throw new LockLostError(`the table locks were lost (${this.lost ?? "no lock connection"})`);
    let rows: { n: number }[];
    try {
      ({ rows } = await this.client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND classid::int = $1::int
           AND objid::int = ANY (SELECT hashtext(t) FROM unnest($2::text[]) AS t)`,
        [LOCK_NAMESPACE | 0, tables.map((t) => this.key(t))],
      ));
    } catch (e) {
      this.markLost(`lock connection error: ${(e as Error).message}`);
      throw new LockLostError(`the table locks were lost (${this.lost ?? (e as Error).message})`);
    }
    if (rows[0].n < new Set(tables.map((t) => t.toLowerCase())).size) {
      this.markLost("a table lock is no longer held");
      throw new LockLostError("the table locks were lost (a table lock is no longer held)");
    }
  }

  async unlock(table: string) {
    if (!this.held.delete(table) || !this.client || this.lost) return;
    await this.client.query("SELECT pg_advisory_unlock($1::int, hashtext($2))", [LOCK_NAMESPACE | 0, this.key(table)]).catch(() => {});
  }

  async close() {
    this.held.clear();
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }
}

function lockKey(environment: string, table: string) {
  return `${environment}/${table}`.toLowerCase();
}

/** Tables of an environment some process is refreshing right now (by lock, not by possibly-stale run rows). */
export async function lockedTables(url: string, environment: string, tables: string[]): Promise<Set<string>> {
  const c = new pg.Client({ connectionString: url });
  // A connection the server ends (an administrator, a dropped database) fails the running query; between queries it
  // would be an unhandled 'error' event, which ends the whole process (a worker, the app).
  c.on("error", () => {});
  await c.connect();
  try {
    const { rows } = await c.query<{ objid: number }>("SELECT objid::int AS objid FROM pg_locks WHERE locktype = 'advisory' AND classid::int = $1::int AND granted", [LOCK_NAMESPACE | 0]);
    const held = new Set(rows.map((r) => r.objid));
    const hashes = await c.query<{ i: number; h: number }>("SELECT i::int, hashtext(k) AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i)", [tables.map((t) => lockKey(environment, t))]);
    return new Set(hashes.rows.filter((r) => held.has(r.h)).map((r) => tables[r.i - 1]));
  } finally {
    await c.end();
  }
}

// One refresh per table at a time, across processes: PostgreSQL advisory locks on the metadata database.
// Session-level locks vanish with their connection, so a killed process never leaves a table locked.
import pg from "pg";

const LOCK_NAMESPACE = 0x55_41_54_52; // "UATR": keeps our keys apart from other advisory-lock users

export class TableLocks {
  private client: pg.Client | null = null;
  private held = new Set<string>();

  constructor(private url: string) {}

  private async connection() {
    if (!this.client) {
      this.client = new pg.Client({ connectionString: this.url, application_name: "uat-refresh (locks)" });
      this.client.on("error", () => {});
      await this.client.connect();
    }
    return this.client;
  }

  /** True when this process now holds the table's lock; false when another refresh has it. */
  async tryLock(table: string): Promise<boolean> {
    const c = await this.connection();
    const { rows } = await c.query("SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS ok", [LOCK_NAMESPACE | 0, table.toLowerCase()]);
    if (rows[0].ok) this.held.add(table);
    return rows[0].ok;
  }

  async unlock(table: string) {
    if (!this.held.delete(table) || !this.client) return;
    await this.client.query("SELECT pg_advisory_unlock($1::int, hashtext($2))", [LOCK_NAMESPACE | 0, table.toLowerCase()]);
  }

  async close() {
    this.held.clear();
    await this.client?.end().catch(() => {});
    this.client = null;
  }
}

/** Tables some process is refreshing right now (by lock, not by possibly-stale run rows). */
export async function lockedTables(url: string, tables: string[]): Promise<Set<string>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ objid: number }>("SELECT objid::int AS objid FROM pg_locks WHERE locktype = 'advisory' AND classid::int = $1::int AND granted", [LOCK_NAMESPACE | 0]);
    const held = new Set(rows.map((r) => r.objid));
    const hashes = await c.query<{ name: string; h: number }>("SELECT n AS name, hashtext(lower(n)) AS h FROM unnest($1::text[]) AS n", [tables]);
    return new Set(hashes.rows.filter((r) => held.has(r.h)).map((r) => r.name));
  } finally {
    await c.end();
  }
}

// Who holds a table: a run waiting in the queue for it, or a run refreshing it (its process holds the table lock).
// The answer to a refused trigger names that run, who started it, and where to follow it.
import type { Metadata } from "../metadata/client";
import { RefreshError } from "./errors";
import { lockedTables } from "./locks";

export interface BusyTable {
  table: string;
  runId?: string;
  triggeredBy?: string;
  trigger?: string;
  /** The run is still waiting in the queue. */
  queued?: boolean;
}

export class TableBusyError extends RefreshError {
  constructor(readonly busy: BusyTable[]) {
    super(
      busy
        .map((b) =>
          b.runId
            ? `${b.table} is already ${b.queued ? "queued in" : "being refreshed by"} run ${b.runId} (started by ${b.triggeredBy} from ${b.trigger}; follow it at /runs/${b.runId})`
            : `${b.table} is already being refreshed`,
        )
        .join("; ") + "; try again when that run ends",
    );
  }
}

/** Tables of `names` that a queued run waits for or a running one holds (by lock), each with that run when its row
 *  is visible. `recentSeconds`: also take the run that started that recently (a holder that finished meanwhile). */
export async function busyTables(db: Metadata, lockUrl: string, environment: string, names: string[], recentSeconds = 0): Promise<BusyTable[]> {
  const locked = await lockedTables(lockUrl, environment, names);
  const rows = await db.tableResult.findMany({
    where: {
      tableName: { in: names },
      run: { environment },
      OR: [
        { status: "pending", run: { status: "queued" } },
        { status: { in: ["pending", "running"] }, run: { status: "running" } },
        ...(recentSeconds ? [{ run: { startedAt: { gte: new Date(Date.now() - recentSeconds * 1000) } } }] : []),
      ],
    },
    include: { run: { select: { id: true, triggeredBy: true, trigger: true, status: true } } },
    orderBy: { run: { startedAt: "desc" } },
  });
  return names.flatMap((table) => {
    const r = rows.find((x) => x.tableName === table);
    if (r) return [{ table, runId: r.run.id, triggeredBy: r.run.triggeredBy, trigger: r.run.trigger, queued: r.run.status === "queued" }];
    return locked.has(table) || recentSeconds ? [{ table }] : [];
  });
}

/** The holders of tables whose lock we just failed to take. A holder records its run right after taking the lock:
 *  give that row a moment to become visible, then settle for the run that started in the last seconds. */
export async function holdersOf(db: Metadata, lockUrl: string, environment: string, tables: string[]): Promise<BusyTable[]> {
  const of = (found: BusyTable[]) => tables.map((t) => found.find((b) => b.table === t) ?? { table: t });
  let held = of(await busyTables(db, lockUrl, environment, tables));
  for (let i = 1; i <= 20 && held.some((h) => !h.runId); i++) {
    await new Promise((r) => setTimeout(r, 50));
    held = of(await busyTables(db, lockUrl, environment, tables, i === 20 ? 10 : 0));
  }
  return held;
}

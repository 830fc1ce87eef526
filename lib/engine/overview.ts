// Every environment at a glance, for the dashboard: reachable or not, how many tables are behind production, the last
// run and what runs now. Each environment's figures are its dashboard status (shared and cached per environment:
// lib/engine/status), so the overview reads production no more often than the environments' own pages do.
import { environmentNames } from "../config/store";
import type { Metadata } from "../metadata/client";
import { sharedDashboardStatus } from "./status";

export interface EnvironmentSummary {
  environment: string;
  reachable: boolean;
  /** Why not, in a line (the first connection that failed). */
  problem: string | null;
  tables: number;
  /** Tables whose figures differ from production's, or whose last refresh failed or was never verified equal. */
  behind: number;
  lastRun: { id: string; status: string; startedAt: string; triggeredBy: string } | null;
  running: number;
}

const UP_TO_DATE = new Set(["in sync", "equal, not verified"]);

export async function environmentsOverview(db: Metadata, lockUrl: string): Promise<EnvironmentSummary[]> {
  return Promise.all(
    (await environmentNames(db)).map(async (environment) => {
      const [status, last] = await Promise.all([
        sharedDashboardStatus(db, lockUrl, environment).catch((e: Error) => e),
        db.refreshRun.findFirst({ where: { environment, dryRun: false }, orderBy: { startedAt: "desc" }, select: { id: true, status: true, startedAt: true, triggeredBy: true } }),
      ]);
      const lastRun = last && { id: last.id, status: last.status, startedAt: last.startedAt.toISOString(), triggeredBy: last.triggeredBy };
      if (status instanceof Error) return { environment, reachable: false, problem: status.message, tables: 0, behind: 0, lastRun, running: 0 };
      const down = status.connections.find((c) => !c.ok);
      return {
        environment,
        reachable: !down,
        problem: down ? `${down.role}: ${down.error ?? "unreachable"}` : null,
        tables: status.tables.length,
        behind: status.tables.filter((t) => t.enabled && !(t.lag !== null && UP_TO_DATE.has(t.lag) && t.lastRun?.status !== "failed")).length,
        lastRun,
        running: status.active.length,
      };
    }),
  );
}

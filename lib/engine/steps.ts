// Post-refresh steps (config.yaml `post_refresh_steps`): SQL an admin configures to run on the target after a refresh.
// A step scoped to tables runs inside every transaction that refreshes one of them, just before its commit: a failing
// step rolls that transaction back, so no committed state of the table ever lacks the step (an email cut, say).
// A step for the whole run runs after the run's tables, all such steps in one transaction on a session of its own:
// one failing rolls every run-wide step back (the tables' refreshes stay committed). Every execution is counted:
// rows the server says it changed, duration, the error.
import { bindStepParameters, stepParametersUsed, stepValues, type StepValues } from "../config/step-parameters";
import type { PostRefreshStepInput, RefreshConfig } from "../config/schema";
import type { Engine, Session } from "../dialects/types";
import type { Metadata } from "../metadata/client";
import { RefreshError } from "./errors";

export type StepStatus = "planned" | "succeeded" | "failed" | "rolled_back" | "skipped";

export interface StepReport {
  position: number;
  name: string;
  /** The tables it is scoped to (empty: the whole run). */
  tables: string[];
  status: StepStatus;
  executions: number;
  /** Rows its executions changed; null once an execution's server gave no count (DDL only, or SQL Server under
   *  SET NOCOUNT ON, as a procedure often sets): never a 0 the server did not say. */
  rowsAffected: number | null;
  durationMs: number;
  error?: string;
  /** The run's facts it takes (`@run_id`, ...) with the values bound: the dry run shows them. */
  parameters: Partial<StepValues>;
}

interface Step extends PostRefreshStepInput {
  position: number;
  tables: string[];
}

/** A step's rows as said to people: "1200 rows", or that the server gave no count. */
export function rowsSaid(rowsAffected: number | null): string {
  return rowsAffected === null ? "no row count from the server" : `${rowsAffected} rows`;
}

/** A step that failed: its transaction is rolled back. */
export class StepFailedError extends RefreshError {}

/** The enabled steps a run of `tables` runs: run-wide ones, and those scoped to one of its tables. */
export function stepsOfRun(config: RefreshConfig, tables: string[]): Step[] {
  const names = new Set(tables.map((t) => t.toLowerCase()));
  return (config.post_refresh_steps ?? [])
    .map((s, position) => ({ ...s, position, tables: s.tables ?? [] }))
    .filter((s) => s.enabled && (!s.tables.length || s.tables.some((t) => names.has(t.toLowerCase()))));
}

/** What each step of a run did, kept in memory while the run goes on and recorded once at its end. */
export class StepLog {
  private readonly reports = new Map<string, StepReport>();

  constructor(
    private readonly steps: Step[],
    private readonly engine: Engine,
    private readonly values: StepValues,
    dryRun: boolean,
  ) {
    for (const s of steps)
      this.reports.set(s.name, {
        position: s.position,
        name: s.name,
        tables: s.tables,
        status: dryRun ? "planned" : "skipped",
        executions: 0,
        rowsAffected: 0,
        durationMs: 0,
        parameters: Object.fromEntries(stepParametersUsed(s.sql).map((p) => [p, values[p]])),
      });
  }

  static forRun(config: RefreshConfig, tables: string[], run: { id: string; startedAt: Date; triggeredBy: string }, dryRun: boolean) {
    return new StepLog(stepsOfRun(config, tables), config.databases.target.engine, stepValues(run), dryRun);
  }

  get scoped() {
    return this.steps.filter((s) => s.tables.length);
  }

  get runWide() {
    return this.steps.filter((s) => !s.tables.length);
  }

  /** The steps scoped to any of a unit's tables, in their configured order. */
  scopedTo(tables: string[]): Step[] {
    const names = new Set(tables.map((t) => t.toLowerCase()));
    return this.scoped.filter((s) => s.tables.some((t) => names.has(t.toLowerCase())));
  }

  /** Runs `steps` in order on `session` (inside the caller's transaction); the first failure throws. */
  async execute(session: Session, steps: Step[]): Promise<void> {
    for (const step of steps) {
      const r = this.reports.get(step.name)!;
      const started = Date.now();
      try {
        const n = await session.execute({ ...bindStepParameters(step.sql, this.engine, this.values), ownScope: true });
        r.rowsAffected = typeof n === "number" && r.rowsAffected !== null ? r.rowsAffected + n : null;
        r.status = "succeeded";
        r.error = undefined;
      } catch (e) {
        r.status = "failed";
        r.error = (e as Error).message;
        throw new StepFailedError(`post-refresh step "${step.name}" failed: ${r.error}`);
      } finally {
        r.executions += 1;
        r.durationMs += Date.now() - started;
      }
    }
  }

  /** A unit's tables failed: what its scoped steps did went with the rolled-back transaction. */
  unitFailed(tables: string[], why: string) {
    for (const s of this.scopedTo(tables)) {
      const r = this.reports.get(s.name)!;
      if (r.status === "succeeded") Object.assign(r, { status: "rolled_back", error: `rolled back with the refresh of ${tables.join(", ")}: ${why}` });
    }
  }

  /** Runs the run-wide steps in one transaction on a session of their own; returns the error text, if one failed. */
  async runAfterTables(open: () => Promise<Session>): Promise<string | null> {
    const steps = this.runWide;
    if (!steps.length) return null;
    const session = await open();
    try {
      await session.transaction(() => this.execute(session, steps));
      return null;
    } catch (e) {
      for (const s of steps) {
        const r = this.reports.get(s.name)!;
        if (r.status === "succeeded") Object.assign(r, { status: "rolled_back", error: "rolled back: a later step of the run failed" });
      }
      return (e as Error).message;
    } finally {
      await session.close();
    }
  }

  /** Run-wide steps not run, and why. */
  skipRunWide(why: string) {
    for (const s of this.runWide) Object.assign(this.reports.get(s.name)!, { status: "skipped", error: why });
  }

  /** Scoped steps whose tables never reached a commit. */
  markUnrun(why: string) {
    for (const r of this.reports.values()) if (r.status === "skipped" && !r.error) r.error = why;
  }

  list(): StepReport[] {
    return [...this.reports.values()].sort((a, b) => a.position - b.position);
  }

  async record(db: Metadata, runId: string) {
    const rows = this.list();
    if (!rows.length) return;
    await db.stepResult.createMany({
      data: rows.map((r) => ({ runId, position: r.position, name: r.name, tables: r.tables, status: r.status, executions: r.executions, rowsAffected: r.rowsAffected === null ? null : BigInt(r.rowsAffected), durationMs: r.durationMs, error: r.error ?? null, finishedAt: new Date() })),
    });
  }
}

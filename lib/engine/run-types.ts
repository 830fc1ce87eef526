// What a run is asked to do and what it reports: shared by the runner, the table and group runs, the CLI, the queue
// and the web app, in a room of its own so that none of them imports the runner for its types.
import type { RefreshConfig } from "../config/schema";
import type { Trigger } from "../generated/prisma/client";
import type { ProgressListener } from "./progress";
import type { StepReport } from "./steps";
import type { TableOutcome, TablePlan } from "./strategies/types";

export interface RunRequest {
  /** The environment refreshed; absent: the only one (or, with `config`, the one named after its target). */
  environment?: string;
  /** Table names; empty or absent = every enabled table. */
  tables?: string[];
  trigger: Trigger;
  triggeredBy: string;
  dryRun?: boolean;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Called once the run row exists, before any table starts (the web app answers the request here). */
  onStarted?: (runId: string, environment: string) => void;
  /** Use this configuration instead of the metadata DB's (CLI `--config FILE`). */
  config?: RefreshConfig;
  /** Execute this queued run: its row holds the tables, the trigger and who asked (those fields here are ignored). */
  queuedRunId?: string;
  /** Who executes the run, shown on its page: "worker 4711@host", "cli ada@laptop". */
  executor?: string;
  /** The run whose unfinished tables this one refreshes again (lib/run-retry); a queued run's row holds its own. */
  retryOf?: string;
}

export interface TableReport {
  table: string;
  status: "succeeded" | "failed" | "skipped";
  plan?: TablePlan;
  outcome?: TableOutcome;
  error?: string;
  hint?: string;
  durationMs: number;
  /** A failed table: the rows of its committed units, which stay in the target. */
  rowsCommitted?: number;
}

export type FinalStatus = "succeeded" | "failed" | "partial" | "cancelled";

export interface RunReport {
  runId: string;
  /** The environment it refreshed (absent: a queued run cancelled before it was read). */
  environment?: string;
  status: FinalStatus;
  tables: TableReport[];
  /** Post-refresh steps: what each did (a dry run: what would run). */
  steps?: StepReport[];
}

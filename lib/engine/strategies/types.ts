import type { Verification } from "../verify";
import type { GapWatch } from "../gap-watch";
import type { CompiledQuery, RowFilter } from "../../dialects/types";
import type { TableContext } from "../context";

export type ResolvedMode = "full_replace" | "incremental" | "partition_switch";

/** What a refresh will do, computed without writing anything: the dry run prints it, the run executes it. */
export interface TablePlan {
  strategy: "simple_copy" | "staging_partition_switch";
  mode: ResolvedMode;
  /** The mode the table is configured with (lib/mode.ts), shown before the effective one where they differ. */
  configuredMode?: string;
  /** A parent that tables keeping their rows reference: its rows are merged by key, not replaced. */
  merged?: boolean;
  reason: string;
  sourceQuery: CompiledQuery;
  /** The source-side filter of an incremental copy (a refresh group deletes a re-synced window with it; identity
   *  mode: the ids above its floor and the watched gaps below, lib/engine/id-gaps). */
  filter?: RowFilter;
  rowsExpected: number;
  /** rowsExpected is the planner's estimate, not a count. */
  rowsEstimated?: boolean;
  /** Production's rows are not known without a scan (rowsExpected is then 0). */
  rowsUnknown?: boolean;
  watermarkBefore?: string | null;
  /** Date modes with a key: production's rows dated from here up to the window's start that UAT lacks (committed after
   *  later-dated rows, lib/engine/late-rows) are inserted; the ones UAT has stay as they are. */
  lateFrom?: string;
  /** Date modes: a production row of the target beyond this value in the incremental column was changed in UAT since
   *  the last refresh (lib/engine/uat-changes): a re-synced window holds it aside and puts it back. */
  changedAfter?: string | null;
  /** staging_partition_switch: production's max of the partition column as the plan read it (the days it re-syncs
   *  reach it): the watermark the refresh leaves. */
  copiedUpTo?: string | null;
  /** "column (rule)" of every masked column. */
  maskedColumns?: string[];
  /** What the verification after the commit compares (lib/engine/verify), or that the table is not verified. */
  verifies?: string;
  /** full_replace: load a structural twin and switch it in (readers keep the old rows until then). */
  twin?: boolean;
  /** staging_partition_switch: days to (re)load and the ones that need a new partition first. */
  days?: number[];
  missingDays?: number[];
  /** staging_partition_switch: the source rows of each day (partition) to load. */
  dayRows?: Record<number, number>;
  /** staging_partition_switch: production's rows without a day (NULL key), which replace UAT's after the days. */
  undatedRows?: number;
  /** staging_partition_switch on a server that cannot SWITCH or add partitions (probed): each day replaced in place. */
  inPlace?: boolean;
}

export interface TableOutcome {
  plan: TablePlan;
  rowsRead: number;
  rowsWritten: number;
  watermarkAfter?: string | null;
  /** The column watermarkAfter is a value of, where it is not the incremental column (a partition column). */
  watermarkColumn?: string;
  partitionsCreated: string[];
  partitionsSwitched: string[];
  /** The most parallel streams one staging load used, and whether they ran on worker threads. */
  streams?: { count: number; threads: boolean };
  /** The copied rows compared with the source's after the commit (absent: this path is not verified yet). */
  verification?: Verification;
  /** Identity mode: the gaps this run watched, recorded for the next (lib/engine/id-gaps). */
  gapWatch?: GapWatch;
}

export interface StrategyImpl {
  plan(ctx: TableContext): Promise<TablePlan>;
  execute(ctx: TableContext, plan: TablePlan): Promise<TableOutcome>;
}

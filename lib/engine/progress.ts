// Progress events the engine emits while a table refreshes; the CLI draws a bar, the web app streams them.

export type Phase = "queued" | "connecting" | "planning" | "loading" | "indexing" | "switching" | "verifying" | "cleanup" | "done" | "failed";

export interface ProgressEvent {
  runId: string;
  table: string;
  phase: Phase;
  rows: number;
  /** Rows committed in the target so far: what stays if the run stops now. */
  committed: number;
  rowsExpected?: number;
  bytes: number;
  rowsPerSec: number;
  partition?: string;
  message?: string;
}

export type ProgressListener = (e: ProgressEvent) => void;

/** Tracks rows/s over the whole phase for one table. */
export class ProgressTracker {
  private started = Date.now();
  private base = 0;
  constructor(
    private emit: ProgressListener,
    private runId: string,
    private table: string,
  ) {}
  rowsExpected?: number;
  rows = 0;
  bytes = 0;
  phase(phase: Phase, extra: Partial<ProgressEvent> = {}) {
    this.send({ phase, ...extra });
  }
  /** Rows copied so far in the current unit; `offset` carries rows committed by earlier units. */
  update(rows: number, bytes: number, extra: Partial<ProgressEvent> = {}) {
    this.rows = this.base + rows;
    this.bytes = bytes;
    this.send({ phase: "loading", ...extra });
  }
  committed = 0;
  /** The current unit's transaction committed: its rows now stay whatever happens next. `written`: the rows it
   *  changed (a unit loaded by key re-reads rows it finds unchanged, and counts only those it wrote). */
  commitUnit(written: number) {
    this.committed += written;
    this.base = this.rows;
    this.send({ phase: "loading" });
  }
  private send(e: Partial<ProgressEvent> & { phase: Phase }) {
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    this.emit({ runId: this.runId, table: this.table, rows: this.rows, committed: this.committed, bytes: this.bytes, rowsExpected: this.rowsExpected, rowsPerSec: Math.round(this.rows / secs), ...e });
  }
}

// Runs streams on worker threads, kept in a small pool: a thread loads the engine once (about 0.6 s of CPU from the
// bundle with the SQL Server driver, 0.25 s of which is tedious) and then takes one job after another; idle threads
// end after 30 s and never keep the process alive. The entry file is found next to this module (the source tree, or
// the engine's bundle: scripts/engine-bundle.mjs), else under the app's root (the web server: its image's bundle, or
// the sources); without one, streams run on this thread (still parallel on the databases).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Engine } from "../../dialects/types";
import type { StreamJob, StreamResult } from "./job";

const ENTRY = "worker-entry.mjs";
const IDLE_MS = 30_000;

export function threadEntry(): string | null {
  const candidates: string[] = [];
  const here = import.meta.url;
  if (here?.startsWith("file:")) candidates.push(path.join(path.dirname(fileURLToPath(here)), ENTRY));
  const home = process.env.UAT_REFRESH_HOME ?? process.cwd();
  candidates.push(path.resolve(home, "dist", ENTRY), path.resolve(home, "lib/engine/streams", ENTRY));
  return candidates.find((f) => existsSync(f)) ?? null;
}

type Message = { type: "rows"; rows: number; bytes: number } | { type: "done"; result: StreamResult } | { type: "error"; error: { name: string; message: string; code?: string; number?: number; hint?: string } };

const idle: { worker: Worker; entry: string; timer: NodeJS.Timeout }[] = [];

function acquire(entry: string): Worker {
  const i = idle.findIndex((x) => x.entry === entry);
  if (i >= 0) {
    const [{ worker, timer }] = idle.splice(i, 1);
    clearTimeout(timer);
    worker.ref();
    return worker;
  }
  return start(entry);
}

/** Has up to `n` threads in the pool now, starting the missing ones, each preparing `engine`'s driver: their start-up
 *  (loading the engine and the driver, about 0.6 s of CPU each) then overlaps the plan's catalog reads instead of
 *  holding back the load's first rows. Unused, they end after the idle time like any other. */
export function warmThreads(n: number, engine: Engine): void {
  const entry = threadEntry();
  if (!entry) return;
  for (let have = idle.filter((x) => x.entry === entry).length; have < n; have++) {
    const worker = start(entry);
    worker.postMessage({ type: "prepare", engine });
    release(worker, entry);
  }
}

function start(entry: string): Worker {
  const worker = new Worker(entry);
  // A thread that dies while idle leaves the pool quietly (its job's listeners report any error while it works).
  worker.on("error", () => {});
  worker.on("exit", () => {
    const i = idle.findIndex((x) => x.worker === worker);
    if (i >= 0) idle.splice(i, 1)[0].timer.close();
  });
  return worker;
}

function release(worker: Worker, entry: string) {
  worker.unref();
  const timer = setTimeout(() => {
    const i = idle.findIndex((x) => x.worker === worker);
    if (i >= 0) idle.splice(i, 1);
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  idle.push({ worker, entry, timer });
}

export function runOnThread(entry: string, job: StreamJob, onRows: (rows: number, bytes: number) => void, signal: AbortSignal): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const worker = acquire(entry);
    let settled = false;
    let aborted = false;
    const finish = (f: () => void, reusable: boolean) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", abort);
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      // Only a thread whose job finished cleanly is reused: a failed or cancelled job may leave a late error behind.
      if (reusable && !aborted) release(worker, entry);
      else void worker.terminate();
      f();
    };
    // The thread ends its job's sessions; one that does not answer within 5 s is terminated (its sockets close).
    function abort() {
      aborted = true;
      worker.postMessage({ type: "abort" });
      setTimeout(() => void worker.terminate(), 5000).unref();
    }
    function onMessage(m: Message) {
      if (m.type === "rows") onRows(m.rows, m.bytes);
      else if (m.type === "done") finish(() => resolve(m.result), true);
      else finish(() => reject(Object.assign(new Error(m.error.message), m.error)), false);
    }
    const onError = (e: Error) => finish(() => reject(e), false);
    const onExit = (code: number) => finish(() => reject(new Error(`stream thread ended (exit code ${code}) before its load finished`)), false);
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
    worker.postMessage({ type: "job", job });
  });
}

// Runs a stream on its own worker thread. The entry file is found next to this module when it runs from the source
// tree (CLI, workers, tests), else under the app's root (the web server's bundle); without one, streams run on this
// thread (still parallel on the databases, one core on the client).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { StreamJob } from "./job";

const ENTRY = "worker-entry.mjs";

export function threadEntry(): string | null {
  const candidates: string[] = [];
  const here = import.meta.url;
  if (here?.startsWith("file:")) candidates.push(path.join(path.dirname(fileURLToPath(here)), ENTRY));
  candidates.push(path.resolve(process.env.UAT_REFRESH_HOME ?? process.cwd(), "lib/engine/streams", ENTRY));
  return candidates.find((f) => existsSync(f)) ?? null;
}

type Message = { type: "rows"; rows: number; bytes: number } | { type: "done"; rows: number } | { type: "error"; error: { name: string; message: string; code?: string; number?: number } };

export function runOnThread(entry: string, job: StreamJob, onRows: (rows: number, bytes: number) => void, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry, { workerData: job });
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", abort);
      f();
    };
    // The thread ends its own sessions; a thread that does not stop within 5 s is terminated (its sockets close).
    function abort() {
      worker.postMessage("abort");
      setTimeout(() => void worker.terminate(), 5000).unref();
    }
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
    worker.on("message", (m: Message) => {
      if (m.type === "rows") onRows(m.rows, m.bytes);
      else if (m.type === "done") finish(() => resolve(m.rows));
      else finish(() => reject(Object.assign(new Error(m.error.message), m.error)));
    });
    worker.on("error", (e) => finish(() => reject(e)));
    worker.on("exit", (code) => finish(() => reject(new Error(`stream thread ended (exit code ${code}) before its load finished`))));
  });
}

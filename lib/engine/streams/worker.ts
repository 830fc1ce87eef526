// A worker thread of the stream pool (./threads): it runs one stream job at a time (see ./job), posting progress at
// most every 100 ms and then the result, and waits for the next. "abort" ends the current job's sessions.
import { parentPort } from "node:worker_threads";
import { registerBuiltInDialects } from "../../dialects/builtin";
import { dialectFor } from "../../dialects";
import type { Engine } from "../../dialects/types";
import { runStreamJob, type StreamJob } from "./job";

registerBuiltInDialects();
const port = parentPort!;
let current: AbortController | null = null;

port.on("message", (m: { type: "job"; job: StreamJob } | { type: "abort" } | { type: "prepare"; engine: Engine }) => {
  if (m.type === "abort") return current?.abort();
  // Warming up: the dialect's driver loads now, while the plan reads the catalog (a failure shows with the job).
  if (m.type === "prepare") return void dialectFor(m.engine).prepare?.().catch(() => {});
  current = new AbortController();
  let last = 0;
  const progress = (rows: number, bytes: number) => {
    const now = Date.now();
    if (now - last < 100) return;
    last = now;
    port.postMessage({ type: "rows", rows, bytes });
  };
  runStreamJob(m.job, progress, current.signal)
    .then((result) => port.postMessage({ type: "done", result }))
    .catch((e: Error & { code?: string; number?: number; hint?: string }) => port.postMessage({ type: "error", error: { name: e.name, message: e.message, code: e.code, number: e.number, hint: e.hint } }))
    .finally(() => (current = null));
});

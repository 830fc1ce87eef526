// A worker thread running one stream (see ./job): progress is posted at most every 100 ms, then the result.
import { parentPort, workerData } from "node:worker_threads";
import { registerBuiltInDialects } from "../../dialects/builtin";
import { runStreamJob, type StreamJob } from "./job";

registerBuiltInDialects();
const port = parentPort!;
const controller = new AbortController();
port.on("message", (m) => m === "abort" && controller.abort());

let last = 0;
const progress = (rows: number, bytes: number) => {
  const now = Date.now();
  if (now - last < 100) return;
  last = now;
  port.postMessage({ type: "rows", rows, bytes });
};

runStreamJob(workerData as StreamJob, progress, controller.signal)
  .then((rows) => port.postMessage({ type: "done", rows }))
  .catch((e: Error & { code?: string; number?: number }) => port.postMessage({ type: "error", error: { name: e.name, message: e.message, code: e.code, number: e.number } }))
  .finally(() => port.close());

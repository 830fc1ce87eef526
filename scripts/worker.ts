// `npm run worker`: executes queued runs on this host, without the web server. Needs DATABASE_URL (the metadata
// database, where the queue lives) and the credential variables the configuration names. Stops on SIGTERM/SIGINT:
// no new runs are taken; runs in progress may finish within WORKER_STOP_GRACE_SECONDS (default 60), then are asked
// to stop (their open transactions roll back) and the worker exits once they have.
import os from "node:os";
import { installationSettings } from "../lib/config/store";
import { registerBuiltInDialects } from "../lib/dialects/builtin";
import { logger } from "../lib/log";
import { createMetadataClient } from "../lib/metadata/client";
import { openQueue } from "../lib/queue/boss";
import { stopGracefully } from "../lib/queue/graceful-stop";
import { startRunWorkers } from "../lib/queue/worker";

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("error: DATABASE_URL is not set: point it at the metadata database");
    process.exit(2);
  }
  registerBuiltInDialects();
  const db = createMetadataClient(url);
  const boss = await openQueue(url, "uat-refresh worker queue");
  const concurrency = Number(process.env.WORKER_CONCURRENCY) || (await installationSettings(db).then((s) => s.max_concurrent_runs).catch(() => 2));
  const executor = `worker ${process.pid}@${os.hostname()}`;
  const workers = await startRunWorkers(db, url, boss, { concurrency, executor });
  console.log(`uat-refresh worker ${executor}: taking up to ${concurrency} queued run(s) at once`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "worker stopping");
    await stopGracefully(db, boss, workers, executor);
    await db.$disconnect();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});

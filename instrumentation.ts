// Once per Next.js server process (never during `next build`): the in-process scheduler and the run workers.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || !process.env.DATABASE_URL) return;
  if (process.env.WORKER_ENABLED !== "false") {
    const { startAppWorkers } = await import("./server/jobs");
    await startAppWorkers().catch(() => {});
  }
  if (process.env.SCHEDULER_ENABLED !== "false") {
    const { startAppScheduler } = await import("./server/scheduler");
    await startAppScheduler();
  }
}

// Starts the in-process scheduler once per Next.js server process (never during `next build`).
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.SCHEDULER_ENABLED === "false" || !process.env.DATABASE_URL) return;
  const { startAppScheduler } = await import("./server/scheduler");
  await startAppScheduler();
}

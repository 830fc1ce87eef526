// Liveness and readiness for a load balancer or an orchestrator: answers that reveal nothing but "ok" or which part
// is not reachable (never a host, a message or a stack).
import type { Metadata } from "../metadata/client";

export interface Readiness {
  ready: boolean;
  checks: { metadata: "ok" | "unavailable"; queue: "ok" | "unavailable" };
}

/** Resolves to false when `p` fails or takes longer than `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => false), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The metadata database answers, and the run queue's tables (pg-boss, in the same database) are there. */
export async function readiness(db: Metadata, timeoutMs = 2000): Promise<Readiness> {
  const metadata = await within(db.$queryRaw`SELECT 1`, timeoutMs);
  const queue = metadata && (await within(db.$queryRaw`SELECT 1 FROM pgboss.queue LIMIT 1`, timeoutMs));
  return { ready: metadata && queue, checks: { metadata: metadata ? "ok" : "unavailable", queue: queue ? "ok" : "unavailable" } };
}

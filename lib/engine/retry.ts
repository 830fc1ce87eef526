// Retries one unit of work (a transaction) on transient errors, with exponential backoff.
// Units are idempotent by construction (each re-reads the target's state), so a retry never re-applies a commit.

export interface RetryOptions {
  maxRetries: number;
  isTransient: (e: unknown) => boolean;
  /** Runs before each retry, e.g. to reopen a dropped connection. */
  beforeRetry?: (attempt: number, error: unknown) => Promise<void>;
  baseDelayMs?: number;
  signal?: AbortSignal;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= opts.maxRetries || !opts.isTransient(e) || opts.signal?.aborted) throw e;
      const delay = Math.min((opts.baseDelayMs ?? 500) * 2 ** attempt, 10_000);
      await new Promise((r) => setTimeout(r, delay));
      await opts.beforeRetry?.(attempt + 1, e);
    }
  }
}

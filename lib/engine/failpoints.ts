// Failpoints for the fault-injection suite: with UAT_REFRESH_FAILPOINT=<name> the refresh process announces
// "failpoint <name>" on stderr when it reaches that point and then waits forever, so a test can kill -9 it at
// exactly that point. Unset (always, outside tests) it is a no-op.
export type FailpointName = "before-load" | "before-commit" | "between-batches" | "staging-loaded" | "before-swap" | "after-swap" | "between-group-tables" | "stream-loading";

export async function failpoint(name: FailpointName): Promise<void> {
  if (process.env.UAT_REFRESH_FAILPOINT !== name) return;
  process.stderr.write(`failpoint ${name}\n`);
  await new Promise(() => {});
}

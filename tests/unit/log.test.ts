import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../lib/log";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { logger: createLogger(stream), lines };
}

describe("log lines", () => {
  it("show an error's message and code, not the driver objects hung on it", async () => {
    const { logger, lines } = capture();
    // What node-postgres emits on a pool's connection ended by the server: the client rides on the error.
    const err = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
      severity: "FATAL",
      client: { connectionParameters: { user: "postgres", host: "127.0.0.1", port: 5432 }, _types: { builtins: { BOOL: 16 } } },
    });
    logger.error({ err }, "run queue error");
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    const logged = lines[0].err as Record<string, unknown>;
    expect(logged).toMatchObject({ type: "Error", message: "terminating connection due to administrator command", code: "57P01", severity: "FATAL" });
    expect(logged.stack).toContain("log.test.ts");
    expect(logged).not.toHaveProperty("client");
    expect(JSON.stringify(lines[0])).not.toContain("connectionParameters");
  });

  it("redact a secret in an error's message", async () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error("login to postgres://app:s3cret-pw@db.internal/prod failed") }, "connect failed");
    await new Promise((r) => setImmediate(r));
    expect(JSON.stringify(lines[0])).not.toContain("s3cret-pw");
    expect((lines[0].err as { message: string }).message).toContain("postgres://app:***@db.internal/prod");
  });
});

// Structured logs (JSON lines) for the server and the scheduler; secrets never reach them: every string of a log
// line and its message are redacted (lib/redact) before it is written.
import pino from "pino";
import { redact, redactDeep } from "./redact";

export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { app: "uat-refresh" },
  redact: ["password", "*.password", "connectionString"],
  formatters: { log: (object) => redactDeep(object) },
  hooks: {
    logMethod(args, method) {
      method.apply(this, args.map((a) => (typeof a === "string" ? redact(a) : a)) as Parameters<typeof method>);
    },
  },
});

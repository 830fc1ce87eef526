// Structured logs (JSON lines) for the server and the scheduler; secrets never reach them: every string of a log
// line and its message are redacted (lib/redact) before it is written. Errors are turned into their fields first:
// pino runs the log formatter before its serializers, and redacting an Error as a plain object kept only its
// enumerable properties (no message, no stack).
import pino from "pino";
import { redact, redactDeep } from "./redact";

/**
 * An error as a log line shows it: pino's standard fields (type, message, stack, code, ...) without the objects
 * drivers hang on their errors (node-postgres puts the whole client, connection parameters and type tables on a
 * pool's error), which say nothing to an operator and bury the message.
 */
function errorFields(err: Error) {
  const fields = pino.stdSerializers.err(err) as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (v !== null && typeof v === "object" && key !== "cause" && key !== "errors") delete fields[key];
  }
  return fields;
}

export function createLogger(destination?: pino.DestinationStream) {
  return pino(
    {
      level: process.env.LOG_LEVEL ?? "info",
      base: { app: "uat-refresh" },
      redact: ["password", "*.password", "connectionString"],
      // Already turned into fields by the formatter (pino would serialize `err` again, as a plain object).
      serializers: { err: (fields: unknown) => fields },
      formatters: { log: (object) => redactDeep(Object.fromEntries(Object.entries(object).map(([k, v]) => [k, v instanceof Error ? errorFields(v) : v]))) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === "string" ? redact(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

export const logger = createLogger();

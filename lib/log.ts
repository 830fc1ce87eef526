// Structured logs (JSON lines) for the server and the scheduler; secrets never reach them.
import pino from "pino";

export const logger = pino({ level: process.env.LOG_LEVEL ?? "info", base: { app: "uat-refresh" }, redact: ["password", "*.password", "connectionString"] });

// Prisma client for the metadata database, through the pg driver adapter (no native query engine).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";
import { redactDeep } from "../redact";

export type Metadata = PrismaClient;

/** Texts users read (run and table errors, hints, reasons, notification outcomes and messages, audit details):
 *  redacted on every write, whichever code path writes them (lib/redact). */
const READABLE_TEXT: Record<string, Set<string>> = {
  TableResult: new Set(["error", "errorHint", "modeReason", "verification"]),
  RefreshRun: new Set(["error"]),
  NotificationDelivery: new Set(["lastError", "subject", "body"]),
  AuditEvent: new Set(["target", "details"]),
};
const WRITES = new Set(["create", "createMany", "createManyAndReturn", "update", "updateMany", "updateManyAndReturn", "upsert"]);

function redactData(fields: Set<string>, data: unknown): unknown {
  if (Array.isArray(data)) return data.map((d) => redactData(fields, d));
  if (!data || typeof data !== "object") return data;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, fields.has(k) && v !== null ? redactDeep(v) : v]));
}

export function createMetadataClient(url: string): Metadata {
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  const redacting = client.$extends({
    query: {
      $allModels: {
        $allOperations({ model, operation, args, query }) {
          const fields = READABLE_TEXT[model];
          if (!fields || !WRITES.has(operation) || !args || typeof args !== "object") return query(args);
          const a = args as Record<string, unknown>;
          const r = (key: string) => (a[key] !== undefined ? { [key]: redactData(fields, a[key]) } : {});
          return query({ ...a, ...r("data"), ...r("create"), ...r("update") } as typeof args);
        },
      },
    },
  });
  // The extended client is the same client with the redaction in front of every write (a superset at run time).
  return redacting as unknown as Metadata;
}

// A key of our own: tslib (pulled in by tedious's Azure dependencies) puts helpers such as `__metadata` on
// globalThis, which a generic name would pick up instead of the client.
const globalForPrisma = globalThis as unknown as { __uatRefreshMetadataClient?: Metadata };

/** The process-wide client for DATABASE_URL (kept on globalThis so dev reloads reuse it). */
export function metadata(): Metadata {
  globalForPrisma.__uatRefreshMetadataClient ??= createMetadataClient(metadataUrl());
  return globalForPrisma.__uatRefreshMetadataClient;
}

export function metadataUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: point it at the metadata PostgreSQL database (npm run demo sets it for you)");
  return url;
}

// Prisma client for the metadata database, through the pg driver adapter (no native query engine).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";

export type Metadata = PrismaClient;

export function createMetadataClient(url: string): Metadata {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
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

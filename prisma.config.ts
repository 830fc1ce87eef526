import path from "node:path";
import { defineConfig } from "prisma/config";

// Offline: never download the native schema-engine; the Wasm engine behind a JSON-RPC shim speaks its protocol.
// (The CLI reads this variable after loading this file, for `generate` as well as `migrate`.)
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve("prisma/schema-engine-wasm.mjs");

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    // `prisma generate` needs no database; migrate commands get DATABASE_URL from lib/metadata/migrate.ts.
    url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/uat_refresh_meta",
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL,
  },
});

import { startEmbeddedPostgres } from "../../lib/embedded/postgres.ts";
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
const c = await startEmbeddedPostgres();
await c.createDatabase("meta");
process.env.DATABASE_URL = c.url("meta");
writeFileSync("prisma/migrations/0001_init/migration.sql", execSync("npx prisma migrate diff --from-empty --to-schema prisma/schema.prisma --script", { encoding: "utf8" }));
console.log(execSync("npx prisma migrate deploy 2>&1", { encoding: "utf8" }));
await c.stop();

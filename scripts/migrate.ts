// `npm run db:migrate` and the image's start: applies prisma/migrations to the metadata database (DATABASE_URL).
// Several instances starting at once migrate one at a time: each holds an advisory lock on the metadata database
// while it migrates, and the next finds nothing left to apply.
import pg from "pg";
import { migrateMetadata } from "../lib/metadata/migrate";

const LOCK = 7_212_605; // this product's migration lock (any constant no other application on the database uses)

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("error: DATABASE_URL is not set: point it at the metadata PostgreSQL database");
    process.exit(2);
  }
  const client = new pg.Client({ connectionString: url, application_name: "uat-refresh migrate" });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK]);
    await migrateMetadata(url);
    console.log("metadata database migrated");
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LOCK]).catch(() => {});
    await client.end();
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});

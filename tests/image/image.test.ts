// The container image (Dockerfile) built with podman and started as it runs in production: `web` migrates an empty
// metadata database and answers /api/ready, runs as a non-root user, a second `migrate` finds nothing to do, and a
// `worker` stops cleanly on SIGTERM. The base is Debian's nodejs/npm (no image registry is reachable here; users build
// FROM the official node image, the Dockerfile's default). Needs podman (installed when running as root with apt).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const BASE = "localhost/uat-refresh-base:trixie";
const IMAGE = "localhost/uat-refresh:test";
const PORT = 3310;
// runc, not crun: crun refuses these machines' cgroup layout; explicit ulimits: the defaults are refused.
const RUN = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000", "--network", "host"];

function has(cmd: string) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
}

/** podman and mmdebstrap, installed with apt when this runs as root (CI); null when they cannot be had. */
function ensureTools(): string | null {
  if (has("podman") && has("mmdebstrap") && has("runc")) return null;
  if (process.getuid?.() !== 0 || !has("apt-get")) return "podman, runc and mmdebstrap are not installed (apt-get install -y podman runc mmdebstrap)";
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  spawnSync("apt-get", ["install", "-y", "-qq", "podman", "runc", "mmdebstrap"], { stdio: "inherit", env });
  return has("podman") && has("mmdebstrap") && has("runc") ? null : "installing podman, runc and mmdebstrap failed";
}

const missing = ensureTools();
if (missing) console.warn(`container image test skipped: ${missing}`);

const podman = (args: string[], opts: { timeout?: number } = {}) => execFileSync("podman", args, { cwd: root, encoding: "utf8", timeout: opts.timeout ?? 900_000, stdio: ["ignore", "pipe", "pipe"] });

async function waitForReady(url: string, ms: number): Promise<unknown> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return r.json();
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not become ready in ${ms / 1000} s:\n${podman(["logs", "uat-refresh-image-test"])}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe.skipIf(!!missing)("the container image", () => {
  let admin: pg.Client;
  const db = `image_${Date.now()}`;
  let url: string;

  beforeAll(async () => {
    // A base image from Debian's packages (once per machine), then the image itself.
    if (spawnSync("podman", ["image", "exists", BASE]).status !== 0) {
      const dir = mkdtempSync(path.join(os.tmpdir(), "uat-base-"));
      try {
        execFileSync("mmdebstrap", ["--variant=minbase", "--include=ca-certificates,nodejs,npm", "trixie", path.join(dir, "base.tar")], { stdio: "inherit", timeout: 900_000 });
        podman(["import", path.join(dir, "base.tar"), BASE]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const ca = process.env.NODE_EXTRA_CA_CERTS;
    const secret = ca && existsSync(ca) ? ["--secret", `id=ca_bundle,src=${ca}`] : [];
    podman(["build", "--isolation=chroot", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=1000:1000", ...secret, "--build-arg", `BASE_IMAGE=${BASE}`, "-t", IMAGE, "."]);
    admin = new pg.Client({ connectionString: inject("adminUrl") });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    url = Object.assign(new URL(inject("adminUrl")), { pathname: `/${db}` }).toString();
  });

  afterAll(async () => {
    spawnSync("podman", ["rm", "-f", "uat-refresh-image-test", "uat-refresh-image-worker"]);
    await admin?.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin?.end();
  });

  it("web migrates an empty metadata database, then answers /api/health and /api/ready, as a non-root user", async () => {
    const env = ["-e", `DATABASE_URL=${url}`, "-e", `PORT=${PORT}`, "-e", "AUTH_SECRET=image-test-secret-0123456789abcdef", "-e", `AUTH_URL=http://localhost:${PORT}`, "-e", "AUTH_TRUST_HOST=true"];
    podman(["run", "-d", "--name", "uat-refresh-image-test", ...RUN, ...env, IMAGE, "web"]);
    expect(await waitForReady(`http://127.0.0.1:${PORT}/api/ready`, 180_000)).toEqual({ ready: true, checks: { metadata: "ok", queue: "ok" } });
    expect(await (await fetch(`http://127.0.0.1:${PORT}/api/health`)).json()).toEqual({ status: "ok" });
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'uat-refresh%'`, [db]);
    expect(rows[0].n).toBeGreaterThan(0);
    expect(podman(["exec", "uat-refresh-image-test", "id", "-u"]).trim()).toBe("10001");
    // The standalone server serves the pages and their static assets.
    const login = await (await fetch(`http://127.0.0.1:${PORT}/login`)).text();
    const asset = /\/_next\/static\/[^"']+\.(?:js|css)/.exec(login)?.[0];
    expect(asset, "the login page names a static asset").toBeTruthy();
    expect((await fetch(`http://127.0.0.1:${PORT}${asset}`)).status).toBe(200);
    // The web server's stream threads start from the engine's bundle under UAT_REFRESH_HOME: the entry loads on a
    // thread (every package it imports is in the image).
    const loadOnThread = [
      "const { Worker } = require('node:worker_threads');",
      "const entry = require('node:url').pathToFileURL(process.env.UAT_REFRESH_HOME + '/dist/worker-entry.mjs').href;",
      "const w = new Worker(`import(${JSON.stringify(entry)}).then(() => require('node:worker_threads').parentPort.postMessage('loaded'))`, { eval: true });",
      "w.on('message', (m) => { console.log(m); w.terminate(); }); w.on('error', (e) => { console.log(String(e)); process.exit(1); });",
    ].join(" ");
    expect(podman(["exec", "uat-refresh-image-test", "node", "-e", loadOnThread]).trim()).toBe("loaded");
    // Migrations ran on start; running them again finds nothing to do.
    expect(podman(["run", "--rm", ...RUN, "-e", `DATABASE_URL=${url}`, IMAGE, "migrate"])).toContain("metadata database migrated");
  });

  it("the CLI runs from the same image: its help, and --status against the metadata database", () => {
    expect(podman(["run", "--rm", ...RUN, IMAGE, "cli", "--help"])).toContain("--dry-run");
    const status = spawnSync("podman", ["run", "--rm", ...RUN, "-e", `DATABASE_URL=${url}`, IMAGE, "cli", "--status", "--json"], { encoding: "utf8", timeout: 120_000 });
    // No environment configured yet: an empty list, read from the metadata database the web container migrated.
    expect([status.status, status.stdout.trim()], status.stderr).toEqual([0, "[]"]);
  });

  it("worker starts on the queue and stops cleanly on SIGTERM (exit 0)", () => {
    podman(["run", "-d", "--name", "uat-refresh-image-worker", ...RUN, "-e", `DATABASE_URL=${url}`, "-e", "WORKER_STOP_GRACE_SECONDS=5", IMAGE, "worker"]);
    const until = Date.now() + 120_000;
    while (!podman(["logs", "uat-refresh-image-worker"]).includes("taking up to") && Date.now() < until) spawnSync("sleep", ["1"]);
    expect(podman(["logs", "uat-refresh-image-worker"])).toContain("taking up to");
    podman(["stop", "-t", "60", "uat-refresh-image-worker"]);
    expect(podman(["inspect", "--format", "{{.State.ExitCode}}", "uat-refresh-image-worker"]).trim()).toBe("0");
  });
});

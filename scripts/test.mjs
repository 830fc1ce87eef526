#!/usr/bin/env node
// `npm test`: typecheck, lint, unit + integration (vitest, real PostgreSQL), build, browser (Playwright, Debian
// Chromium, real OIDC login), the container image (podman). Every stage runs even after a failure, then one closing
// line counts the tests.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

// The browser tests drive Debian's Chromium (never a downloaded browser). On a machine without it, install it when
// we can (root with apt-get, as on CI), else stop before the suite with the one line that says what to do.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
function ensureChromium() {
  if (existsSync(chromium)) return true;
  const canApt = process.getuid?.() === 0 && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (canApt && !process.env.CHROMIUM_PATH) {
    console.log("=== installing Debian's chromium for the browser tests (apt-get install -y chromium)");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    spawnSync("apt-get", ["install", "-y", "-qq", "chromium"], { stdio: "inherit", env });
    if (existsSync(chromium)) return true;
  }
  console.error(`npm test needs Chromium at ${chromium} for the browser tests: install it with "sudo apt-get install -y chromium" (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary.`);
  return false;
}
if (!ensureChromium()) process.exit(1);
// The runtime the whole suite runs on (npm puts node_modules/.bin first: the `node` package's Node 24).
console.log(`=== Node ${process.version} (${process.execPath})`);
const reports = path.join(root, ".reports");
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });
const bin = (pkg, file) => path.join(root, "node_modules", pkg, file);

function step(name, args, env = {}) {
  console.log(`\n=== ${name}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  console.log(`=== ${name}: ${r.status === 0 ? "ok" : `FAILED (${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return r.status === 0;
}

const results = [
  step("prisma generate", [bin("prisma", "build/index.js"), "generate"]),
  step("typecheck", [bin("typescript", "bin/tsc"), "--noEmit"]),
  step("lint", [bin("eslint", "bin/eslint.js"), "."]),
  step("unit + integration (vitest)", [bin("vitest", "vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile=${path.join(reports, "vitest.json")}`]),
  step("next build", [bin("next", "dist/bin/next"), "build"], { NEXT_TELEMETRY_DISABLED: "1" }),
  step("browser (playwright)", [bin("@playwright/test", "cli.js"), "test"], { PLAYWRIGHT_JSON_OUTPUT_NAME: path.join(reports, "e2e.json") }),
  // The container image built with podman and started (installs podman as root; skipped, saying why, elsewhere).
  step("container image (podman)", [bin("vitest", "vitest.mjs"), "run", "--config", "vitest.image.config.ts", "--reporter=default", "--reporter=json", `--outputFile=${path.join(reports, "image.json")}`]),
];

let passed = 0, failed = 0, skipped = 0;
for (const file of ["vitest.json", "image.json"]) {
  const report = path.join(reports, file);
  if (!existsSync(report)) continue;
  const v = JSON.parse(readFileSync(report, "utf8"));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + v.numTodoTests;
}
const e2e = path.join(reports, "e2e.json");
if (existsSync(e2e)) {
  const s = JSON.parse(readFileSync(e2e, "utf8")).stats;
  passed += s.expected + s.flaky;
  failed += s.unexpected;
  skipped += s.skipped;
}
const stageFailures = results.filter((ok) => !ok).length;
console.log(`\n${passed} passed, ${failed + (failed === 0 ? stageFailures : 0)} failed, ${skipped} skipped`);
process.exit(stageFailures ? 1 : 0);

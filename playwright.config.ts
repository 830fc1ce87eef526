import { defineConfig } from "@playwright/test";

// Debian's Chromium (apt-get install chromium), never a downloaded browser. The app is browsed as localhost:
// Next rewrites 127.x request URLs to localhost, and the OIDC redirect_uri must match exactly.
export default defineConfig({
  testDir: "./e2e",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: [["list"], ["json", { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ?? ".reports/e2e.json" }]],
  outputDir: "test-results",
  use: {
    baseURL: "http://localhost:3000",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
  projects: [{ name: "debian-chromium", use: { browserName: "chromium" } }],
  webServer: {
    // The demo stack in test mode: throwaway embedded PostgreSQL, small seed, dev IdP on :4000, `next start` on :3000.
    command: "node --import tsx scripts/demo.ts --e2e",
    url: "http://localhost:3000/login",
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});

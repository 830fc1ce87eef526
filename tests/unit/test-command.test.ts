// `npm test` on a machine without the browser stops before the suite with one line saying what to install.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("npm test's set-up", () => {
  it("names the missing Chromium and how to install it, and runs nothing", () => {
    const r = spawnSync(process.execPath, ["scripts/test.mjs"], { env: { ...process.env, CHROMIUM_PATH: "/nonexistent/chromium" }, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      'npm test needs Chromium at /nonexistent/chromium for the browser tests: install it with "sudo apt-get install -y chromium" (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium binary.',
    ]);
  });
});

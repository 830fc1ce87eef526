import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // server/* modules are tested as the server bundles them: `server-only` resolves to its react-server entry
  resolve: { alias: { "@": path.resolve(import.meta.dirname), "server-only": path.resolve(import.meta.dirname, "node_modules/server-only/empty.js") } },
  test: {
    include: ["tests/**/*.test.ts"],
    // The container image is built and started in a stage of its own (vitest.image.config.ts): minutes of CPU.
    exclude: ["tests/image/**", "**/node_modules/**"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});

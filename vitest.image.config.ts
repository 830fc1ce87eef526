// `npm test`'s container stage: the image built with podman and started against a real metadata PostgreSQL
// (the same embedded server the other tests use).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/image/**/*.test.ts"],
    globalSetup: ["tests/support/global-setup.ts"],
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
    pool: "forks",
    reporters: ["default"],
  },
});

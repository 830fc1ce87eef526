#!/usr/bin/env node
// Package bin: runs the TypeScript CLI through tsx (a runtime dependency), so no build step is needed.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tsx = require.resolve("tsx");
const r = spawnSync(process.execPath, ["--import", tsx, path.join(root, "lib/cli/main.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status ?? 1);

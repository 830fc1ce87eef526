#!/usr/bin/env node
// Package bin: runs the CLI in this process (a signal sent to it reaches the refresh), from a bundle of the engine's
// TypeScript rebuilt whenever the sources change (scripts/engine-bundle), or, where no bundle can be written, from
// the sources through tsx (a runtime dependency).
import { pathToFileURL } from "node:url";
import { currentBundle } from "../scripts/engine-bundle.mjs";

const bundle = await currentBundle();
let entry = bundle && pathToFileURL(bundle).href;
if (!entry) {
  const { register } = await import("tsx/esm/api");
  register();
  entry = new URL("../lib/cli/main.ts", import.meta.url).href;
}
const { main } = await import(entry);
process.exit(await main(process.argv.slice(2)));

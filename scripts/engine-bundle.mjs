// The CLI and the stream threads as one JavaScript bundle of the engine's TypeScript (esbuild, which tsx brings
// along; packages stay external). Starting from it skips tsx's per-file resolution and compilation: about half of
// the CLI's start-up (docs/performance.md). The stream threads' entry sits beside the CLI's, where lib/engine/streams/
// threads looks for it, so a refresh's threads start from the bundle too.
//
// bin/uat-refresh asks for `currentBundle()`: a bundle keyed by the sources it was built from (every file under lib/
// by path, size and modification time), built on the first start after a change and reused until the next one.
// `node scripts/engine-bundle.mjs DIR` builds one into DIR (the container image).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Output name -> source. `worker-entry` is the name lib/engine/streams/threads looks for next to the engine. */
const ENTRIES = { cli: "lib/cli/main.ts", "worker-entry": "lib/engine/streams/worker.ts" };

/** Builds the bundle into `outdir`; `entries` (output name -> source) adds entry points beside the CLI's (a bench). */
export async function buildBundle(outdir, root = ROOT, entries = {}) {
  // Loaded here, so an installation without esbuild still starts (currentBundle then answers null).
  const { build } = await import("esbuild");
  await build({
    entryPoints: Object.fromEntries(Object.entries({ ...ENTRIES, ...entries }).map(([name, file]) => [name, path.join(root, file)])),
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    packages: "external",
    outdir,
    outExtension: { ".js": ".mjs" },
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "error",
  });
  return path.join(outdir, "cli.mjs");
}

function sourcesKey(root) {
  const hash = createHash("sha256");
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else {
        const s = statSync(file);
        hash.update(`${path.relative(root, file)}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  walk(path.join(root, "lib"));
  hash.update(statSync(path.join(root, "tsconfig.json")).mtimeMs.toString());
  return hash.digest("hex").slice(0, 16);
}

/** The CLI bundle of the current sources (built now if they changed), or null where none can be written (a read-only
 *  install, no esbuild): the caller then loads the sources through tsx. */
export async function currentBundle(root = ROOT) {
  const cache = path.join(root, "node_modules/.cache/uat-refresh");
  try {
    const key = sourcesKey(root);
    const dir = path.join(cache, key);
    const cli = path.join(dir, "cli.mjs");
    if (existsSync(cli)) return cli;
    // Built beside and renamed into place, so a CLI started meanwhile never imports half a bundle.
    const partial = `${dir}.${process.pid}.partial`;
    mkdirSync(cache, { recursive: true });
    await buildBundle(partial, root);
    try {
      renameSync(partial, dir);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another CLI finished the same bundle first
    }
    for (const old of readdirSync(cache)) if (old !== key && !old.endsWith(".partial")) rmSync(path.join(cache, old), { recursive: true, force: true });
    return existsSync(cli) ? cli : null;
  } catch {
    return null;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error("usage: node scripts/engine-bundle.mjs OUTDIR");
    process.exit(2);
  }
  await buildBundle(path.resolve(outdir));
}

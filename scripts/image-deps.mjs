// Container build step (Dockerfile): the image serves the web app from Next's standalone output, which carries its
// own traced modules, and runs the CLI, the worker, the migrations and the stream threads from source through tsx.
// This finds the packages those entry points import (esbuild follows every static and literal dynamic import) and
// rewrites package.json's dependencies to that set, so `npm prune --omit=dev` leaves only what they need. A package
// imported but not declared fails the build by name.
import { builtinModules } from "node:module";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

/** The entry points, and what the Prisma CLI loads when the migrations run (its config and the offline schema engine). */
const ENTRIES = ["lib/cli/main.ts", "scripts/worker.ts", "scripts/migrate.ts", "lib/engine/streams/worker.ts", "prisma.config.ts", "prisma/schema-engine-wasm.mjs"];
/** Used without a literal import: the Node.js runtime itself (package `node`), the TypeScript loader (`--import tsx`),
 *  the Prisma CLI (lib/metadata/migrate runs it as a child process) and the Wasm schema engine its shim loads by a
 *  name held in a variable. */
const ALWAYS = ["node", "tsx", "prisma", "@prisma/schema-engine-wasm"];

const packageName = (spec) => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");
const builtin = (spec) => spec.startsWith("node:") || builtinModules.includes(packageName(spec));

const { metafile } = await build({ entryPoints: ENTRIES, bundle: true, platform: "node", format: "esm", packages: "external", metafile: true, write: false, outdir: "out", logLevel: "error" });
const used = new Set(ALWAYS);
for (const output of Object.values(metafile.outputs)) for (const i of output.imports) if (i.external && !builtin(i.path)) used.add(packageName(i.path));

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
// Imported, not declared and not installed: a branch never taken here (the schema-engine shim's SQLite adapter; the
// metadata database is PostgreSQL). Imported and installed only as another package's dependency: a missing
// declaration, which fails the build by name.
const absent = [...used].filter((name) => !pkg.dependencies[name] && !existsSync(`node_modules/${name}/package.json`));
const undeclared = [...used].filter((name) => !pkg.dependencies[name] && !absent.includes(name));
if (undeclared.length) throw new Error(`imported by the engine's entry points but not in dependencies: ${undeclared.join(", ")}`);
for (const name of absent) used.delete(name);
const dropped = Object.keys(pkg.dependencies).filter((name) => !used.has(name));
pkg.dependencies = Object.fromEntries(Object.entries(pkg.dependencies).filter(([name]) => used.has(name)));
writeFileSync("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`engine dependencies: ${[...used].sort().join(", ")}\nleft to the standalone web server: ${dropped.sort().join(", ")}${absent.length ? `\nimported on branches not taken (not installed): ${absent.join(", ")}` : ""}`);

// Runs the real CLI in a child process (the way operators and the fault tests use it).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export function spawnCli(args: string[], env: Record<string, string>): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  // The package's bin, as operators run it: one process (from the engine's bundle), so a kill reaches the refresh.
  const child = spawn(process.execPath, [path.join(root, "bin/uat-refresh.mjs"), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return Object.assign(child, { output: () => out, exited });
}

export async function runCli(args: string[], env: Record<string, string>) {
  const child = spawnCli(args, env);
  const code = await child.exited;
  return { code, output: child.output() };
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

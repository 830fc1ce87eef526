// A file a connection option names (a certificate, a key), read when the connection opens: an unreadable one is
// said with the option and the path, never as a driver's stack.
import { readFileSync } from "node:fs";

export function optionFile(path: unknown, option: string): Buffer {
  try {
    return readFileSync(String(path));
  } catch (e) {
    throw new Error(`${option} ${String(path)} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

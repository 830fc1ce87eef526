// The CLI's flags, in one place: the CLI parses with them, and the docs check (tests/unit/docs-commands.test.ts)
// parses every command the README and docs/ show with them.
import { parseArgs } from "node:util";

export const CLI_OPTIONS = {
  "test-connections": { type: "boolean" },
  status: { type: "boolean" },
  table: { type: "string", multiple: true },
  force: { type: "boolean" },
  "dry-run": { type: "boolean" },
  "scan-pii": { type: "boolean" },
  config: { type: "string" },
  import: { type: "string" },
  "confirm-connection-change": { type: "boolean" },
  export: { type: "boolean" },
  "prune-history": { type: "boolean" },
  json: { type: "boolean" },
  env: { type: "string" },
  api: { type: "string" },
  wait: { type: "boolean" },
  retry: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The flags of a command line (throws on an unknown flag or a missing value). */
export function parseCliArgs(argv: string[]) {
  return parseArgs({ args: argv, options: CLI_OPTIONS, allowPositionals: true, strict: true }).values;
}

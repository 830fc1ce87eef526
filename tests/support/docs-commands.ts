// The commands the README and docs/ show in shell blocks, as a reader would type them: read by the docs check
// (tests/unit/docs-commands.test.ts) and run as written against the demo (e2e/walkthrough.spec.ts).
import { readdirSync, readFileSync } from "node:fs";

export const DOC_FILES = ["README.md", ...readdirSync("docs").filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

export interface DocCommand {
  file: string;
  /** The command as written (comment dropped). */
  text: string;
  /** Its words, leading VAR=value assignments removed. */
  words: string[];
}

/** Each command of each shell block: comments dropped, `&&` chains split. */
export function docCommands(): DocCommand[] {
  const out: DocCommand[] = [];
  for (const file of DOC_FILES) {
    for (const block of readFileSync(file, "utf8").matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
      for (const line of block[1].split("\n")) {
        for (const part of line.replace(/\s#.*$/, "").split("&&")) {
          const words = part.trim().split(/\s+/).filter(Boolean);
          const text = part.trim();
          while (words[0] && /^[A-Z_][A-Z0-9_]*=/.test(words[0])) words.shift();
          if (words.length) out.push({ file, text, words });
        }
      }
    }
  }
  return out;
}

/** The CLI arguments of a command, if it runs the CLI. */
export function cliArgs(words: string[]): string[] | null {
  if (words[0] === "npm" && words[1] === "run" && words[2] === "refresh") return words[3] === "--" ? words.slice(4) : [];
  if (words[0] === "npx" && words[1] === "uat-refresh") return words.slice(2);
  const image = words.indexOf("uat-refresh");
  if ((words[0] === "docker" || words[0] === "podman") && image > 0 && words[image + 1] === "cli") return words.slice(image + 2);
  return null;
}

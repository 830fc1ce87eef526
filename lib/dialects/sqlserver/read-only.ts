// What the source session lets through: one SELECT, nothing that writes. ApplicationIntent=ReadOnly routes a session
// to a readable secondary where there is one but does not stop writes on a primary, and T-SQL needs no `;` between
// statements (`SELECT 1 UPDATE t SET ...` is two statements), so a check of the first keyword is no guard. This
// reads the statement as T-SQL tokens (string literals, [bracketed] and "quoted" names skipped) and refuses any
// separator, comment, variable, and every word that starts or is part of a statement that changes something. The
// product's own source statements are SELECTs of quoted catalog names with @p parameters; admin-written expressions
// are held to lib/dialects/expression first. The source login's privileges (db_datareader) remain the real guard.

import { quotedEnd } from "../sql-text";

const WRITING_WORDS = new Set([
  "insert", "update", "delete", "merge", "exec", "execute", "drop", "alter", "create", "truncate", "grant", "revoke", "deny", "declare", "set", "begin",
  "commit", "rollback", "save", "waitfor", "bulk", "openrowset", "opendatasource", "openquery", "openxml", "shutdown", "kill", "dbcc", "backup", "restore",
  "use", "into", "reconfigure", "checkpoint", "raiserror", "throw", "print", "goto", "return", "enable", "disable", "go", "writetext", "updatetext", "readtext",
]);

/** Why `sql` is not a statement the read-only source session may send, or null when it is one plain SELECT. */
export function sourceStatementProblem(sql: string): string | null {
  const words: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || ch === "[" || ch === '"') {
      const end = quotedEnd(sql, i);
      if (end < 0) return "an unterminated literal or quoted name";
      i = end + 1;
      continue;
    }
    if (sql.startsWith("--", i) || sql.startsWith("/*", i)) return "a comment";
    if (ch === ";") return "a statement separator (;)";
    if (ch === "@" && sql[i + 1] === "@") return "a system variable";
    if (ch === "@" && !/^@p\d+/.test(sql.slice(i))) return "a variable other than the request's parameters";
    const m = /^[A-Za-z_#][A-Za-z0-9_#$]*/.exec(sql.slice(i));
    if (m) {
      words.push(m[0].toLowerCase());
      i += m[0].length;
      continue;
    }
    i++;
  }
  if (words[0] !== "select" && words[0] !== "with") return "a statement that is not a SELECT";
  const writing = words.find((w) => WRITING_WORDS.has(w));
  if (writing) return `the keyword ${writing.toUpperCase()}`;
  for (let k = 0; k + 2 < words.length; k++) if (words[k] === "next" && words[k + 1] === "value" && words[k + 2] === "for") return "NEXT VALUE FOR (it advances a sequence)";
  return null;
}

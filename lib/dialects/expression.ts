// Admin-written SQL expressions (a masking `sql` rule, evaluated by the source in its SELECT; a keep rule's predicate,
// evaluated by the target) are spliced into statements, so they are held to a grammar that cannot express anything
// but one value: literals, the table's own columns, operators, CASE, casts and functions from a per-engine allowlist.
// No statement separator, no comment, no variable or parameter, no subquery, no name qualified by a schema; parentheses
// balanced and never closing one the expression did not open, so the expression stays inside the `( ... )` it is
// placed in. A bare word that is also a statement keyword is refused even when a column has that name (quote it).
// Checked twice: for shape when a configuration is read, against the catalog's columns when a refresh resolves the
// table. What passes is a value expression on both engines' grammars; the source login's privileges remain the
// real guard (the product never needs more than SELECT there).
import type { Engine } from "./types";

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExpressionError";
  }
}

const COMMON_FUNCTIONS = ["lower", "upper", "concat", "concat_ws", "substring", "left", "right", "replace", "translate", "trim", "ltrim", "rtrim", "reverse", "coalesce", "nullif", "abs", "round", "floor", "cast", "char_length"];

/** Functions an expression may call, per engine: pure functions of their arguments (strings, numbers, dates,
 *  hashes). Nothing that reads other tables, files, settings or the session, sleeps, or runs SQL. */
export const ALLOWED_FUNCTIONS: Record<Engine, ReadonlySet<string>> = {
  postgres: new Set([
    ...COMMON_FUNCTIONS,
    "initcap", "substr", "length", "btrim", "lpad", "rpad", "repeat", "split_part", "regexp_replace", "md5", "sha256", "encode", "convert_to",
    "greatest", "least", "trunc", "ceil", "mod", "to_char", "date_trunc", "make_date", "format", "hashtext", "overlay", "position", "strpos",
  ]),
  sqlserver: new Set([
    ...COMMON_FUNCTIONS,
    "len", "replicate", "stuff", "isnull", "iif", "ceiling", "convert", "format", "hashbytes", "checksum", "dateadd", "datefromparts", "year",
    "month", "day", "char", "nchar", "str", "charindex", "space",
  ]),
};

/** Words that are part of an expression's grammar, not names. */
const KEYWORDS: Record<Engine, ReadonlySet<string>> = {
  postgres: new Set(["case", "when", "then", "else", "end", "and", "or", "not", "null", "is", "in", "like", "ilike", "between", "true", "false", "as", "distinct", "from", "for", "interval", "date", "timestamp", "time", "similar", "to", "escape", "collate"]),
  sqlserver: new Set([
    "case", "when", "then", "else", "end", "and", "or", "not", "null", "is", "in", "like", "between", "as", "escape", "collate",
    // DATEADD's datepart names
    "year", "yy", "yyyy", "quarter", "qq", "q", "month", "mm", "m", "dayofyear", "dy", "y", "day", "dd", "d", "week", "wk", "ww", "hour", "hh", "minute", "mi", "n", "second", "ss", "s", "millisecond", "ms",
  ]),
};

/** Statement keywords never accepted as a bare word, even where a column has that name. */
const STATEMENT_WORDS = new Set([
  "select", "insert", "update", "delete", "merge", "exec", "execute", "drop", "alter", "create", "truncate", "grant", "revoke", "deny", "begin", "commit", "rollback",
  "declare", "set", "use", "go", "shutdown", "kill", "dbcc", "backup", "restore", "into", "where", "waitfor", "openrowset", "opendatasource", "openquery", "bulk", "copy",
  "do", "call", "with", "union", "values", "table", "returning", "lock", "vacuum", "analyze", "reindex", "cluster", "listen", "notify", "prepare", "deallocate", "reset",
  "show", "load", "import", "security", "transaction", "savepoint", "release", "start", "raiserror", "throw", "print", "reconfigure", "checkpoint",
]);

export interface ParsedExpression {
  /** Column names the expression refers to (as written, unquoted): each must be a column of the table. */
  columns: string[];
}

type Token = { kind: "word" | "quoted" | "string" | "number" | "op" | "open" | "close" | "comma"; text: string; at: number };

function tokenize(text: string, engine: Engine): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new ExpressionError(`${why} at character ${i + 1}`);
  };
  while (i < text.length) {
    const ch = text[i];
    const rest = text.slice(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (rest.startsWith("--") || rest.startsWith("/*")) fail("comments are not allowed");
    if (ch === ";") fail("a statement separator (;) is not allowed");
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)!;
      // N'...' (SQL Server unicode literal); PostgreSQL's E'...' / U&'...' / B'...' escape forms are not allowed.
      if (text[i + m[0].length] === "'") {
        if (engine === "sqlserver" && m[0].toLowerCase() === "n") {
          i += 1;
          continue; // the string follows
        }
        if (!["interval", "date", "timestamp", "time"].includes(m[0].toLowerCase())) fail(`the literal prefix ${m[0]}'...' is not allowed`);
      }
      out.push({ kind: "word", text: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      const m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(rest)!;
      if (/^[A-Za-z_]/.test(text.slice(i + m[0].length))) fail("a number directly followed by a name is not allowed");
      out.push({ kind: "number", text: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (ch === "'") {
      let j = i + 1;
      let value = "";
      for (;;) {
        if (j >= text.length) fail("unterminated string literal");
        if (text[j] === "'" && text[j + 1] === "'") {
          value += "'";
          j += 2;
          continue;
        }
        if (text[j] === "'") break;
        // PostgreSQL with standard_conforming_strings off reads a backslash as an escape: never ambiguous here.
        if (text[j] === "\\") fail("a backslash inside a string literal is not allowed");
        value += text[j++];
      }
      out.push({ kind: "string", text: value, at: i });
      i = j + 1;
      continue;
    }
    const quote = engine === "postgres" ? ['"', '"'] : ["[", "]"];
    if (ch === quote[0]) {
      let j = i + 1;
      let name = "";
      for (;;) {
        if (j >= text.length) fail("unterminated quoted name");
        if (text[j] === quote[1] && text[j + 1] === quote[1]) {
          name += quote[1];
          j += 2;
          continue;
        }
        if (text[j] === quote[1]) break;
        name += text[j++];
      }
      if (!name) fail("an empty quoted name is not allowed");
      out.push({ kind: "quoted", text: name, at: i });
      i = j + 1;
      continue;
    }
    if (ch === "(") out.push({ kind: "open", text: ch, at: i });
    else if (ch === ")") out.push({ kind: "close", text: ch, at: i });
    else if (ch === ",") out.push({ kind: "comma", text: ch, at: i });
    else {
      const ops = engine === "postgres" ? ["::", "||", "<>", "!=", "<=", ">=", "+", "-", "*", "/", "%", "=", "<", ">"] : ["<>", "!=", "<=", ">=", "+", "-", "*", "/", "%", "=", "<", ">"];
      const op = ops.find((o) => rest.startsWith(o));
      if (!op) fail(`the character ${JSON.stringify(ch)} is not allowed`);
      out.push({ kind: "op", text: op!, at: i });
      i += op!.length;
      continue;
    }
    i++;
  }
  return out;
}

/**
 * Checks `text` as one value expression of `engine`; returns the columns it names. Throws an ExpressionError that
 * says what is not allowed and where.
 */
export function parseExpression(text: string, engine: Engine): ParsedExpression {
  if (!text.trim()) throw new ExpressionError("the expression is empty");
  if (text.length > 2000) throw new ExpressionError("the expression is longer than 2000 characters");
  const tokens = tokenize(text, engine);
  const columns: string[] = [];
  let depth = 0;
  // Inside CAST(x AS type) / CONVERT(type, x) / ::type the words name a type, not a column.
  let typeWords = false;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    const next = tokens[k + 1];
    const where = `at character ${t.at + 1}`;
    if (t.kind === "open") depth++;
    if (t.kind === "close") {
      depth--;
      typeWords = false;
      if (depth < 0) throw new ExpressionError(`a closing parenthesis without its opening one ${where}`);
    }
    if (t.kind === "comma") typeWords = false;
    if (t.kind === "op" && t.text === "::") {
      if (next?.kind !== "word") throw new ExpressionError(`:: must be followed by a type name ${where}`);
      typeWords = true;
      continue;
    }
    if (t.kind === "op") typeWords = false;
    if (t.kind === "quoted") {
      if (next?.kind === "open") throw new ExpressionError(`a quoted function name is not allowed ${where}`);
      columns.push(t.text);
      continue;
    }
    if (t.kind !== "word") continue;
    const word = t.text.toLowerCase();
    if (next?.kind === "open") {
      if (!ALLOWED_FUNCTIONS[engine].has(word) && !(typeWords || KEYWORDS[engine].has(word))) throw new ExpressionError(`function ${t.text} is not allowed (allowed: ${[...ALLOWED_FUNCTIONS[engine]].sort().join(", ")})`);
      // CONVERT(type, value): the first argument names a type.
      if (word === "convert" && engine === "sqlserver") typeWords = true;
      continue;
    }
    if (STATEMENT_WORDS.has(word)) throw new ExpressionError(`${t.text} is not allowed in an expression ${where} (a column of that name must be quoted)`);
    // CAST(x AS type), x COLLATE name: the next words name a type or a collation.
    if (word === "as" || word === "collate") {
      typeWords = true;
      continue;
    }
    if (typeWords || KEYWORDS[engine].has(word)) continue;
    columns.push(t.text);
  }
  if (depth !== 0) throw new ExpressionError("unbalanced parentheses");
  return { columns: [...new Set(columns)] };
}

/** Checks an expression and that every name in it is one of `columns` (case-insensitively); returns the text. */
export function checkExpression(text: string, engine: Engine, columns: string[], what: string): string {
  let parsed: ParsedExpression;
  try {
    parsed = parseExpression(text, engine);
  } catch (e) {
    throw new ExpressionError(`${what}: ${(e as Error).message}`);
  }
  const known = new Set(columns.map((c) => c.toLowerCase()));
  const unknown = parsed.columns.filter((c) => !known.has(c.toLowerCase()));
  if (unknown.length) throw new ExpressionError(`${what}: ${unknown.join(", ")} ${unknown.length > 1 ? "are not columns" : "is not a column"} of the table (columns: ${columns.join(", ")})`);
  return text;
}

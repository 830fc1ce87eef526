// Checks T-SQL statements with a real T-SQL grammar (ANTLR's TSqlParser as shipped in antlr4ts-sql). That grammar
// predates a few statements the partition switch needs (ALTER TABLE ... SWITCH): those are recognised by the
// documented syntax instead, with their object names still parsed by the grammar.
import { antlr4tsSQL, SQLDialect, type ANTLRErrorListener } from "antlr4ts-sql";

const tsql = new antlr4tsSQL(SQLDialect.TSQL);

function grammarErrors(sql: string): string[] {
  const errors: string[] = [];
  const listener: ANTLRErrorListener<unknown> = {
    syntaxError: (_r, _s, line, col, msg) => errors.push(`${line}:${col} ${msg}`),
  };
  const parser = tsql.getParser(tsql.getTokens(sql, [listener]), [listener]);
  tsql.getParseTree(parser);
  return errors;
}

const NAME = String.raw`(?:\[(?:[^\]]|\]\])+\](?:\.\[(?:[^\]]|\]\])+\])?)`;
// ALTER TABLE t SWITCH [PARTITION n] TO t2 [PARTITION n] [WITH (WAIT_AT_LOW_PRIORITY (MAX_DURATION = n MINUTES, ABORT_AFTER_WAIT = NONE|SELF|BLOCKERS))]
const SWITCH = new RegExp(
  String.raw`^ALTER TABLE (${NAME}) SWITCH(?: PARTITION \d+)? TO (${NAME})(?: PARTITION \d+)?(?: WITH \(WAIT_AT_LOW_PRIORITY \(MAX_DURATION = \d+ MINUTES, ABORT_AFTER_WAIT = (?:NONE|SELF|BLOCKERS)\)\))?$`,
  "i",
);

/** Syntax errors of one statement; empty when it is valid T-SQL. */
export function tsqlErrors(sql: string): string[] {
  const m = SWITCH.exec(sql.trim());
  if (m) return [...grammarErrors(`SELECT 1 FROM ${m[1]}`), ...grammarErrors(`SELECT 1 FROM ${m[2]}`)];
  return grammarErrors(sql);
}

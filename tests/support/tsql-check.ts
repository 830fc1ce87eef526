// Checks T-SQL statements with a real T-SQL grammar (ANTLR's TSqlParser as shipped in antlr4ts-sql). That grammar
// predates four forms the engine needs: ALTER TABLE ... SWITCH, SPLIT RANGE with a non-numeric boundary (it only
// takes a number; T-SQL takes any constant, e.g. '2025-02-07'), and ALTER TABLE ... [WITH CHECK] {CHECK | NOCHECK}
// CONSTRAINT, placing a table or index on a partition scheme, `ON ps(column)` (it takes only `ON filegroup`), and DATA_COMPRESSION options. Those are recognised by their documented syntax instead, and their parts (object names, the boundary
// constant) are still parsed by the grammar.
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

// ALTER TABLE t [WITH {CHECK | NOCHECK}] {CHECK | NOCHECK} CONSTRAINT {ALL | name} (Microsoft's ALTER TABLE
// syntax; the grammar knows only the plain CHECK CONSTRAINT form)
const CHECK_CONSTRAINT = new RegExp(String.raw`^ALTER TABLE (${NAME})(?: WITH (?:CHECK|NOCHECK))? (?:CHECK|NOCHECK) CONSTRAINT (ALL|${NAME})$`, "i");

// ALTER PARTITION FUNCTION pf() SPLIT RANGE ('constant')
const SPLIT = new RegExp(String.raw`^ALTER PARTITION FUNCTION (${NAME})\(\) SPLIT RANGE \(('(?:[^']|'')*')\)$`, "i");

// CREATE TABLE ... | CREATE INDEX ... | ALTER TABLE ... ADD CONSTRAINT ... ON ps(column): checked as ON ps (a data
// space name) plus the column name.
const ON_SCHEME = new RegExp(String.raw`^((?:CREATE|ALTER TABLE) .*) ON (${NAME})\((${NAME})\)$`, "is");

// ... WITH (DATA_COMPRESSION = {NONE | ROW | PAGE} [ON PARTITIONS (n [TO m] [, ...])] [, ...]) of CREATE TABLE,
// CREATE INDEX and ADD CONSTRAINT (Microsoft's <table_option> / <index_option>): the grammar knows neither the table
// option nor ON PARTITIONS. The option list is matched by its documented syntax, the statement checked without it.
const PARTS = String.raw`\d+(?: TO \d+)?`;
const ONE_COMPRESSION = String.raw`DATA_COMPRESSION = (?:NONE|ROW|PAGE)(?: ON PARTITIONS \(${PARTS}(?:, ${PARTS})*\))?`;
const COMPRESSION = new RegExp(String.raw`^((?:CREATE|ALTER TABLE) .*) WITH \(${ONE_COMPRESSION}(?:, ${ONE_COMPRESSION})*\)(.*)$`, "is");

// CREATE TABLE's <column_definition>: `[ type_schema_name. ] type_name` (an alias type) and SPARSE, which the grammar
// predates: the type's schema-qualified name is parsed as a name, the statement without its schema and SPARSE.
const QUALIFIED_TYPE = new RegExp(String.raw`((?:\(|, )\[(?:[^\]]|\]\])+\] )(\[(?:[^\]]|\]\])+\])\.(\[(?:[^\]]|\]\])+\])`, "g");
const SPARSE = / SPARSE (?=NULL|DEFAULT )/g;

/** Syntax errors of one statement; empty when it is valid T-SQL. */
export function tsqlErrors(sql: string): string[] {
  const s = sql.trim();
  if (/^CREATE TABLE /i.test(s) && (s.search(QUALIFIED_TYPE) >= 0 || s.search(SPARSE) >= 0)) {
    const names = [...s.matchAll(QUALIFIED_TYPE)].flatMap((m) => grammarErrors(`SELECT 1 FROM ${m[2]}.${m[3]}`));
    return [...names, ...tsqlErrors(s.replace(QUALIFIED_TYPE, "$1$3").replace(SPARSE, " "))];
  }
  const compressed = COMPRESSION.exec(s);
  if (compressed) return tsqlErrors(`${compressed[1]}${compressed[2]}`);
  const scheme = ON_SCHEME.exec(s);
  if (scheme) return [...tsqlErrors(`${scheme[1]} ON ${scheme[2]}`), ...grammarErrors(`SELECT ${scheme[3]}`)];
  const sw = SWITCH.exec(s);
  if (sw) return [...grammarErrors(`SELECT 1 FROM ${sw[1]}`), ...grammarErrors(`SELECT 1 FROM ${sw[2]}`)];
  const check = CHECK_CONSTRAINT.exec(s);
  if (check) return [...grammarErrors(`SELECT 1 FROM ${check[1]}`), ...(check[2] === "ALL" ? [] : grammarErrors(`SELECT ${check[2]}`))];
  const split = SPLIT.exec(s);
  if (split) return [...grammarErrors(`ALTER PARTITION FUNCTION ${split[1]}() SPLIT RANGE (0)`), ...grammarErrors(`SELECT ${split[2]}`)];
  return grammarErrors(s);
}

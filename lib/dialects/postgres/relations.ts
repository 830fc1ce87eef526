// PostgreSQL statements of a refresh group (tables related by foreign keys, refreshed in one transaction) and of
// merging a parent whose children keep their rows. Names are quoted catalog names; no value is spliced into SQL.
import { whereClause } from "../filters";
import type { RelationsCompiler, RowFilter, TableRef } from "../types";
import { qualified, quoteIdent, sequenceForward } from "./compiler";
import { rowChanged } from "./row-change";
const cols = (names: string[], alias?: string) => names.map((n) => (alias ? `${alias}.${quoteIdent(n)}` : quoteIdent(n))).join(", ");
const joinOn = (a: string, b: string, left: string[], right: string[]) => left.map((c, i) => `${a}.${quoteIdent(c)} = ${b}.${quoteIdent(right[i])}`).join(" AND ");

/** The condition on a target row `t` that `staging` has no row of its key and it lies inside `scope`: the rows a merge
 *  finds gone from the source. */
function unstaged(staging: TableRef, key: string[], scope: RowFilter | undefined): { sql: string; params: string[] } {
  const inScope = whereClause(scope, (c) => `t.${quoteIdent(c)}`, (i, c) => `$${i}::${c.nativeType}`);
  return { sql: `NOT EXISTS (SELECT 1 FROM ${qualified(staging)} s WHERE ${joinOn("t", "s", key, key)})${inScope.where.replace(/^ WHERE /, " AND ")}`, params: inScope.params };
}

export const postgresRelations: RelationsCompiler = {
  emptyTables(tables, truncate) {
    // One TRUNCATE of every table of the group: PostgreSQL allows a referenced table only with its referencing
    // tables in the same command. DELETE goes children first.
    if (truncate) return [{ sql: `TRUNCATE TABLE ${tables.map(qualified).join(", ")}`, params: [] }];
    return tables.map((t) => ({ sql: `DELETE FROM ${qualified(t)}`, params: [] }));
  },
  suspendForeignKey(fk) {
    // Non-deferrable keys cannot be deferred: dropped inside the group's transaction and created again before it
    // commits (a rollback brings the original back).
    return { sql: `ALTER TABLE ${qualified(fk.declaredOn ?? fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`, params: [] };
  },
  foreignKeyViolations(fk) {
    const notNull = fk.columns.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(" AND ");
    return {
      sql: `SELECT count(*)::bigint::text AS n FROM ${qualified(fk.declaredOn ?? fk.table)} c WHERE ${notNull}
            AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.referenced)} p WHERE ${joinOn("p", "c", fk.referencedColumns, fk.columns)})`,
      params: [],
    };
  },
  restoreForeignKey(fk) {
    if (!fk.definition) throw new Error(`no definition read for foreign key ${fk.name}`);
    // The definition is pg_get_constraintdef's own text for this key.
    return { sql: `ALTER TABLE ${qualified(fk.declaredOn ?? fk.table)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`, params: [] };
  },
  setTriggersEnabled(table, triggers, enabled) {
    return triggers.map((t) => ({ sql: `ALTER TABLE ${qualified(table)} ${enabled ? "ENABLE" : "DISABLE"} TRIGGER ${quoteIdent(t)}`, params: [] }));
  },
  resyncSequence(table, column, sequence, floor) {
    // setval only forwards: a sequence already past every copied value (UAT's own inserts) stays where it is.
    return { sql: sequenceForward("$1::text", "$2", column, table), params: [qualified(sequence), floor] };
  },
  analyze(table) {
    return { sql: `ANALYZE ${qualified(table)}`, params: [] };
  },
  mergeStaging(table) {
    // Temporary tables share one schema: the name carries the table's schema too.
    return { schema: "pg_temp", name: `${`${table.schema}_${table.name}`.slice(0, 50)}__uat_merge` };
  },
  createMergeStaging(table, staging, columns) {
    // Not LIKE: it copies every column with its NOT NULL, a stored generated column's too (as a plain column).
    return [{ sql: `CREATE TEMPORARY TABLE ${qualified(staging)} ON COMMIT DROP AS SELECT ${cols(columns)} FROM ${qualified(table)} WITH NO DATA`, params: [] }];
  },
  mergeFromStaging(table, staging, { key, columns, update, keepers, identity, scope, keep, types }) {
    const t = qualified(table);
    const s = qualified(staging);
    const other = update ?? columns.filter((c) => !key.includes(c));
    const match = joinOn("t", "s", key, key);
    const inScope = unstaged(staging, key, scope);
    const gone = inScope.sql;
    // Each keeper an anti-join of its own (NOT EXISTS ... AND NOT EXISTS ...): the planner hashes each child's keys
    // once; EXISTS inside an OR would be probed per parent row.
    const unreferenced = keepers.map((fk) => ` AND NOT EXISTS (SELECT 1 FROM ${qualified(fk.table)} c WHERE ${joinOn("c", "t", fk.columns, fk.referencedColumns)})`).join("");
    const unkept = keep ? ` AND CASE WHEN (${keep}) THEN 1 ELSE 0 END = 0` : "";
    return {
      update: {
        sql: other.length
          ? `WITH u AS (UPDATE ${t} t SET ${other.map((c) => `${quoteIdent(c)} = s.${quoteIdent(c)}`).join(", ")} FROM ${s} s
             WHERE ${match} AND ${rowChanged(other, types ?? {}, quoteIdent)} RETURNING 1) SELECT count(*)::text AS n FROM u`
          : `SELECT '0' AS n`,
        params: [],
      },
      insert: {
        sql: `WITH i AS (INSERT INTO ${t} (${cols(columns)})${identity ? " OVERRIDING SYSTEM VALUE" : ""} SELECT ${cols(columns, "s")} FROM ${s} s
              WHERE NOT EXISTS (SELECT 1 FROM ${t} t WHERE ${match}) RETURNING 1) SELECT count(*)::text AS n FROM i`,
        params: [],
      },
      delete: { sql: `WITH d AS (DELETE FROM ${t} t WHERE ${gone}${unreferenced}${unkept} RETURNING 1) SELECT count(*)::text AS n FROM d`, params: inScope.params },
      gone: { sql: `SELECT count(*)::text AS n FROM ${t} t WHERE ${gone}${unkept}`, params: inScope.params },
    };
  },
  insertFromStaging(table, staging, columns, identity) {
    return { sql: `INSERT INTO ${qualified(table)} (${cols(columns)})${identity ? " OVERRIDING SYSTEM VALUE" : ""} SELECT ${cols(columns)} FROM ${qualified(staging)}`, params: [] };
  },
  stagedRowsPresent(table, staging, key) {
    return { sql: `SELECT count(*)::text AS n FROM ${qualified(staging)} s WHERE EXISTS (SELECT 1 FROM ${qualified(table)} t WHERE ${joinOn("t", "s", key, key)})`, params: [] };
  },
  askedKeysTable(table) {
    return { schema: "pg_temp", name: `${`${table.schema}_${table.name}`.slice(0, 50)}__uat_asked` };
  },
  collectUnstagedKeys(table, staging, asked, key, scope) {
    const { sql, params } = unstaged(staging, key.map((c) => c.name), scope);
    const keys = key.map((c, i) => `t.${quoteIdent(c.name)}::text AS k${i}`).join(", ");
    const notNull = key.map((c) => ` AND t.${quoteIdent(c.name)} IS NOT NULL`).join("");
    return {
      collect: { sql: `CREATE TEMPORARY TABLE ${qualified(asked)} ON COMMIT DROP AS SELECT row_number() OVER () AS rn, ${keys} FROM ${qualified(table)} t WHERE ${sql}${notNull}`, params },
      index: { sql: `CREATE UNIQUE INDEX ON ${qualified(asked)} (rn)`, params: [] },
    };
  },
  keysPage(asked, columns, after, upTo) {
    const keys = Array.from({ length: columns }, (_, i) => `k${i}`).join(", ");
    return { sql: `SELECT ${keys} FROM ${qualified(asked)} WHERE rn > $1::bigint AND rn <= $2::bigint`, params: [String(after), String(upTo)] };
  },
  heldRowsTable(table) {
    return { schema: "pg_temp", name: `${`${table.schema}_${table.name}`.slice(0, 50)}__uat_held` };
  },
  holdRows(table, held, columns, filter) {
    const { where, params } = whereClause(filter, quoteIdent, (i, c) => `$${i}::${c.nativeType}`);
    return [{ sql: `CREATE TEMPORARY TABLE ${qualified(held)} ON COMMIT DROP AS SELECT ${cols(columns)} FROM ${qualified(table)}${where}`, params }];
  },
  deleteMatched(from, other, key) {
    return { sql: `WITH d AS (DELETE FROM ${qualified(from)} f WHERE EXISTS (SELECT 1 FROM ${qualified(other)} o WHERE ${joinOn("o", "f", key, key)}) RETURNING 1) SELECT count(*)::text AS n FROM d`, params: [] };
  },
  keptColumnsTable(table) {
    return { schema: "pg_temp", name: `${`${table.schema}_${table.name}`.slice(0, 50)}__uat_keep` };
  },
  saveColumns(table, saved, key, columns) {
    return [{ sql: `CREATE TEMPORARY TABLE ${qualified(saved)} ON COMMIT DROP AS SELECT ${cols([...key, ...columns])} FROM ${qualified(table)}`, params: [] }];
  },
  restoreColumns(table, saved, key, columns) {
    return {
      sql: `WITH u AS (UPDATE ${qualified(table)} t SET ${columns.map((c) => `${quoteIdent(c)} = k.${quoteIdent(c)}`).join(", ")} FROM ${qualified(saved)} k
            WHERE ${joinOn("t", "k", key, key)} RETURNING 1) SELECT count(*)::text AS n FROM u`,
      params: [],
    };
  },
  dropMergeStaging(staging) {
    return { sql: `DROP TABLE IF EXISTS ${qualified(staging)}`, params: [] };
  },
};


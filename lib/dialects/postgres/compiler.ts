// PostgreSQL SQL text. Identifiers are double-quoted (embedded quotes doubled); values are parameters.
// COPY cannot take bind parameters, so SELECTs meant for COPY read them from session settings
// (`current_setting('uat_refresh.pN')`) that the driver sets with set_config($1, $2): still never spliced into SQL.
import type { ColumnInfo, CompiledQuery, Partitioning, PartitionCompiler, QueryCompiler, RowFilter, TableRef } from "../types";
import { both, whereClause, type Placeholder } from "../filters";
import { partitionName } from "../partition-days";
import { exactValue } from "./row-change";
import { slotFor, type Slot } from "./slots";
import { numeric } from "../columns";

export const STAGING_MARKER = "uat-refresh:staging";
export const RETIRED_MARKER = "uat-refresh:retired";

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

export function copyParam(i: number, column: ColumnInfo): string {
  return `current_setting('uat_refresh.p${i}')::${column.nativeType}`;
}

function filterSql(filter: RowFilter | undefined, param: Placeholder) {
  return whereClause(filter, quoteIdent, param);
}

const bindParam = (i: number, c: ColumnInfo) => `$${i}::${c.nativeType}`;

/** hash_record_extended of the values, each in its exact form (./row-change: text where the type's hash forgets a
 *  difference): equal values of the same types give equal hashes. */
function rowHash(columns: ColumnInfo[]): string {
  const value = (c: ColumnInfo) => exactValue(quoteIdent(c.name), c.nativeType, c.encoding);
  return columns.length ? `hash_record_extended(ROW(${columns.map(value).join(", ")}), 0)` : "0";
}

export const postgresCompiler: QueryCompiler = {
  quoteIdent,
  qualified,
  selectRows(table, columns, filter, orderBy, limit, expressions = {}) {
    const { where, params } = filterSql(filter, copyParam);
    const order = orderBy ? ` ORDER BY ${quoteIdent(orderBy)}` : "";
    const lim = limit ? ` LIMIT ${Math.trunc(limit)}` : "";
    const list = columns.map((c) => (expressions[c.name] ? `(${expressions[c.name]})::${c.nativeType} AS ${quoteIdent(c.name)}` : quoteIdent(c.name)));
    return { sql: `SELECT ${list.join(", ")} FROM ${qualified(table)}${where}${order}${lim}`, params };
  },
  keyHistogram(table, column) {
    // pg_stats: equal-frequency histogram bounds (the most common values excluded) plus the most common values with
    // their frequencies and the NULL fraction: relative weights are all a split needs. A partitioned parent's
    // statistics are the inherited ones.
    const t = column.nativeType;
    return {
      sql: `WITH s AS (SELECT histogram_bounds::text::${t}[] AS hb, most_common_vals::text::${t}[] AS mcv, most_common_freqs AS mcf, null_frac
                       FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3 ORDER BY inherited DESC LIMIT 1),
                 b AS (SELECT v AS bound, (1 - s.null_frac - coalesce((SELECT sum(f) FROM unnest(s.mcf) AS f), 0)) / greatest(cardinality(s.hb) - 1, 1) AS rows
                         FROM s, unnest(s.hb[2:]) AS v
                       UNION ALL SELECT m.v, m.f FROM s, unnest(s.mcv, s.mcf) AS m(v, f)
                       UNION ALL SELECT NULL, s.null_frac FROM s WHERE s.null_frac > 0)
            SELECT b.bound::text AS bound, sum(b.rows)::float8 AS rows FROM b GROUP BY b.bound ORDER BY b.bound NULLS FIRST`, // the key's order, not its text's
      params: [table.schema, table.name, column.name],
    };
  },
  keyBounds(table, column, filter) {
    const { where, params } = filterSql(filter, bindParam);
    const col = quoteIdent(column.name);
    return { sql: `SELECT min(${col})::text AS lo, max(${col})::text AS hi FROM ${qualified(table)}${where}`, params };
  },
  keyValues(table, key, filter) {
    const { where, params } = filterSql(filter, bindParam);
    return { sql: `SELECT ${key.map((c, i) => `${quoteIdent(c.name)}::text AS k${i}`).join(", ")} FROM ${qualified(table)}${where}`, params };
  },
  checksum(table, columns, filter) {
    // hash_record_extended of the row, summed exactly (sum(bigint) is numeric, accumulated in 128 bits: 20 % faster
    // than casting each hash to numeric): the same rows give the same sum in any order, whatever the physical layout.
    // It hashes each value with its type's own hash function (3.5x faster than hashing the row's text), each value in
    // its exact form (./row-change: text where the type's hash forgets a difference).
    const { where, params } = filterSql(filter, bindParam);
    return { sql: `SELECT count(*)::bigint::text AS n, coalesce(sum(${rowHash(columns)}), 0)::text AS sum FROM ${qualified(table)}${where}`, params };
  },
  countRows(table, filter) {
    const { where, params } = filterSql(filter, bindParam);
    return { sql: `SELECT count(*)::bigint::text AS n FROM ${qualified(table)}${where}`, params };
  },
  bandCounts(table, column, bounds, filter, summed = numeric(column) ? [column] : undefined) {
    // One number summed as itself; other values (a text, uuid or composite key) as the checksum's hash of them.
    const summable = (cs: ColumnInfo[]) => (cs.length === 1 && numeric(cs[0]) ? `${quoteIdent(cs[0].name)}::numeric` : `${rowHash(cs)}::numeric`);
    const { where, params } = filterSql(filter, bindParam);
    const col = quoteIdent(column.name);
    const bound = (i: number) => bindParam(params.length + i + 1, column);
    const bands = bounds.slice(1).flatMap((_, i) => {
      const within = `FILTER (WHERE ${col} > ${bound(i)} AND ${col} <= ${bound(i + 1)})`;
      const count = `(count(*) ${within})::text AS n${i}`;
      return summed ? [count, `coalesce(sum(${summable(summed)}) ${within}, 0)::text AS s${i}`] : [count];
    });
    return { sql: `SELECT ${bands.join(", ")} FROM ${qualified(table)}${where}`, params: [...params, ...bounds] };
  },
  idGaps(table, column, after, upTo, limit, filter) {
    const { where, params } = filterSql(both(filter, { kind: "upTo", column, after, upTo }), bindParam);
    const col = quoteIdent(column.name);
    const n = params.length;
    // The range's ends join the values as sentinels, so a gap at either end shows as one between neighbours.
    const ids = `SELECT ${col}::numeric AS v FROM ${qualified(table)}${where} UNION ALL SELECT $${n + 1}::numeric UNION ALL SELECT $${n + 2}::numeric + 1`;
    return {
      sql: `SELECT g.a::text AS "after", g.b::text AS "before" FROM (SELECT v AS a, lead(v) OVER (ORDER BY v) AS b FROM (${ids}) AS ids) AS g WHERE g.b > g.a + 1 ORDER BY g.a DESC LIMIT ${Math.trunc(limit)}`,
      params: [...params, after, upTo],
    };
  },
  estimateRows(table) {
    // A partitioned parent has no rows of its own: add up its partitions. reltuples is -1 until analyzed.
    return {
      sql: `SELECT CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(CASE WHEN p.reltuples < 0 THEN NULL ELSE p.reltuples END), -1) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid)
                   ELSE c.reltuples END::bigint::text AS n,
                   CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_relation_size(i.inhrelid)), 0) FROM pg_inherits i WHERE i.inhparent = c.oid)
                   ELSE pg_relation_size(c.oid) END::text AS bytes
            FROM pg_class c WHERE c.oid = to_regclass($1)`,
      params: [qualified(table)],
    };
  },
  watermark(table, column, bufferDays, filter) {
    const col = quoteIdent(column.name);
    const { where, params } = filterSql(filter, bindParam);
    const dated = column.family === "date" || column.family === "datetime";
    const days = `$${params.length + 1}::int`;
    const cutoff = column.family === "date" ? `(max(${col}) - ${days})::text` : column.family === "datetime" ? `(max(${col}) - make_interval(days => ${days}))::text` : `max(${col})::text`;
    return { sql: `SELECT max(${col})::text AS max, ${cutoff} AS cutoff FROM ${qualified(table)}${where}`, params: dated ? [...params, bufferDays] : params };
  },
  isEmpty(table) {
    return { sql: `SELECT NOT EXISTS (SELECT 1 FROM ${qualified(table)}) AS empty`, params: [] };
  },
  emptyTable(table, truncate) {
    return { sql: truncate ? `TRUNCATE TABLE ${qualified(table)}` : `DELETE FROM ${qualified(table)}`, params: [] };
  },
  deleteRows(table, filter) {
    const { where, params } = filterSql(filter, bindParam);
    return { sql: `DELETE FROM ${qualified(table)}${where}`, params };
  },
  resyncIdentity(table, column, floor) {
    // Explicit ids were copied in: the identity's sequence moves past them, and up to UAT's own range when one is
    // kept (while the sequence can hold it), so UAT's inserts collide with neither copied nor future production ids.
    return { sql: sequenceForward(`pg_get_serial_sequence($1, $2)`, "$3", column.name, table), params: [qualified(table), column.name, floor] };
  },
  distinctValues(table, column, filter) {
    const { where, params } = filterSql(filter, bindParam);
    const col = quoteIdent(column.name);
    return { sql: `SELECT DISTINCT ${col}::text AS value FROM ${qualified(table)}${where} ORDER BY 1`, params };
  },
};

/** setval of the sequence `seqExpr` (a regclass-text expression; `floor` the parameter holding UAT's floor or NULL)
 *  to the largest of: the column's max, floor - 1 (the next value is the floor), its own position; never backwards. */
export function sequenceForward(seqExpr: string, floor: string, column: string, table: TableRef): string {
  return `SELECT setval(x.s::regclass, x.v) FROM (
      SELECT q.s, GREATEST((SELECT max(${quoteIdent(column)})::numeric FROM ${qualified(table)}),
                           CASE WHEN ${floor}::numeric - 1 <= ps.seqmax THEN ${floor}::numeric - 1 END,
                           pg_sequence_last_value(q.s::regclass)::numeric)::bigint AS v,
             pg_sequence_last_value(q.s::regclass) AS last
      FROM (SELECT ${seqExpr} AS s) q JOIN pg_sequence ps ON ps.seqrelid = q.s::regclass WHERE q.s IS NOT NULL) x
    WHERE x.v IS NOT NULL AND x.v >= 1 AND (x.last IS NULL OR x.v > x.last)`;
}

/** A bound as SQL text for FOR VALUES and CHECK (which take no parameters): bounds come from the catalog or from
 *  validated day numbers, never from user text; quotes are doubled all the same. */
function literal(p: Partitioning, bound: string): string {
  return p.columnType.family === "integer" ? String(Number(bound)) : `'${bound.replace(/'/g, "''")}'`;
}

/** The partition `day` is switched in with (see ./slots): refused days never reach the statements below. */
function slot(p: Partitioning, day: number): Slot {
  const s = slotFor(p, day);
  if ("refused" in s) throw new Error(`day ${day}: ${s.refused}`);
  return s;
}

function partitionOf(table: TableRef, p: Partitioning, day: number): TableRef {
  const s = slot(p, day);
  return s.existing ? { schema: table.schema, name: s.existing.name } : newPartition(table, s);
}

function newPartition(table: TableRef, s: Slot): TableRef {
  return s.name ? { schema: table.schema, name: s.name } : partitionName(table, s.suffix);
}

function markerComment(t: TableRef, marker: string, of: TableRef): CompiledQuery {
  const text = `${marker}:${of.schema}.${of.name}`.replace(/'/g, "''");
  return { sql: `COMMENT ON TABLE ${qualified(t)} IS '${text}'`, params: [] };
}

export const postgresPartitions: PartitionCompiler = {
  // A range partition never holds NULL: only a DEFAULT partition does (PostgreSQL, "Table Partitioning").
  nullKeyPartition: (p) => p.partitions.find((x) => x.isDefault)?.name ?? null,

  placeDay(p, day) {
    const s = slotFor(p, day);
    if ("refused" in s) return { kind: "refused", reason: s.refused };
    const range = { lower: s.lower, upper: s.upper };
    return s.existing ? { kind: "exists", partition: s.existing, range } : { kind: "create", range };
  },

  createPartition(table, p, day) {
    const s = slot(p, day);
    if (s.existing) return [];
    return [{ sql: `CREATE TABLE ${qualified(newPartition(table, s))} PARTITION OF ${qualified(table)} FOR VALUES FROM (${literal(p, s.lower)}) TO (${literal(p, s.upper)})`, params: [] }];
  },
  createStaging(table, staging) {
    // (PostgreSQL needs no twin: the old partition is detached and renamed.)
    // Columns, defaults, NOT NULL and CHECK constraints as the parent: ATTACH requires them. No indexes yet: they
    // are built after the load, which is several times faster than maintaining them row by row.
    return [
      { sql: `CREATE TABLE ${qualified(staging)} (LIKE ${qualified(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED)`, params: [] },
      markerComment(staging, STAGING_MARKER, table),
    ];
  },
  prepareStaging(_table, staging, indexes, p, day) {
    const stmts: CompiledQuery[] = indexes.map((ix) => {
      const cols = ix.columns.map(quoteIdent).join(", ");
      // Keys as constraints of the staging table's own name: ATTACH adopts them. An index alone under a parent's
      // constraint makes ATTACH create the constraint under the partition's name, which the retired partition's
      // index still holds.
      if (ix.primaryKey) return { sql: `ALTER TABLE ${qualified(staging)} ADD PRIMARY KEY (${cols})`, params: [] };
      if (ix.uniqueConstraint) return { sql: `ALTER TABLE ${qualified(staging)} ADD UNIQUE (${cols})`, params: [] };
      return { sql: `CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ON ${qualified(staging)} (${cols})`, params: [] };
    });
    // A CHECK matching the partition bound lets ATTACH skip its validation scan.
    const col = quoteIdent(p.column);
    const s = slot(p, day);
    stmts.push({
      sql: `ALTER TABLE ${qualified(staging)} ADD CONSTRAINT ${quoteIdent(stagingCheckName(staging))} CHECK (${col} IS NOT NULL AND ${col} >= ${literal(p, s.lower)} AND ${col} < ${literal(p, s.upper)})`,
      params: [],
    });
    stmts.push({ sql: "ANALYZE " + qualified(staging), params: [] });
    return stmts;
  },
  switchIn(table, staging, retired, p, day) {
    const s = slot(p, day);
    const partName = partitionOf(table, p, day);
    const stmts: CompiledQuery[] = [];
    if (s.existing) {
      stmts.push({ sql: `ALTER TABLE ${qualified(table)} DETACH PARTITION ${qualified(partName)}`, params: [] });
      stmts.push({ sql: `ALTER TABLE ${qualified(partName)} RENAME TO ${quoteIdent(retired.name)}`, params: [] });
      stmts.push(markerComment(retired, RETIRED_MARKER, table));
    }
    stmts.push({ sql: `ALTER TABLE ${qualified(staging)} RENAME TO ${quoteIdent(partName.name)}`, params: [] });
    stmts.push({ sql: `ALTER TABLE ${qualified(table)} ATTACH PARTITION ${qualified(partName)} FOR VALUES FROM (${literal(p, s.lower)}) TO (${literal(p, s.upper)})`, params: [] });
    stmts.push({ sql: `ALTER TABLE ${qualified(partName)} DROP CONSTRAINT ${quoteIdent(stagingCheckName(staging))}`, params: [] });
    stmts.push({ sql: `COMMENT ON TABLE ${qualified(partName)} IS NULL`, params: [] });
    return stmts;
  },
  tidyAfterSwitch(table, p, day, staging) {
    // The indexes built on the staging table were named after it (daily_stg_20250207_pkey): rename them as
    // PostgreSQL names a partition's own indexes (<partition>_pkey, <partition>_<columns>_key / _idx). Indexes
    // carried over from the replaced partition get their own names back (ownObjects). Statements are built by the
    // server with format('%I'), so no name is spliced into SQL here; names already taken are left alone.
    const part = partitionOf(table, p, day).name;
    return {
      sql: `SELECT format('ALTER INDEX %I.%I RENAME TO %I', $1::text, i.relname, n.name) AS sql
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            CROSS JOIN LATERAL (SELECT left($2::text || '_' || CASE WHEN x.indisprimary THEN 'pkey' ELSE
                 (SELECT string_agg(a.attname, '_' ORDER BY k.ord) FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum) || CASE WHEN x.indisunique THEN '_key' ELSE '_idx' END END, 63) AS name) n
            WHERE x.indrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND i.relname <> n.name AND starts_with(i.relname, $3::text)
              AND to_regclass(format('%I.%I', $1::text, n.name)) IS NULL`,
      params: [table.schema, part, staging.name],
    };
  },
  ownObjects(table, p, day, staging) {
    const s = slot(p, day);
    if (!s.existing) return null; // a new partition has nothing of its own yet
    return { sql: OWN_OBJECTS, params: [table.schema, s.existing.name, staging.name] };
  },
  invalidOwnIndexes(table, partitions) {
    return { sql: INVALID_OWN_INDEXES, params: [table.schema, partitions] };
  },
  dropTable(t) {
    return { sql: `DROP TABLE IF EXISTS ${qualified(t)}`, params: [] };
  },
  findLeftovers(table) {
    return {
      sql: `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
            WHERE c.relkind = 'r' AND d.description IN ($1, $2)`,
      params: [`${STAGING_MARKER}:${table.schema}.${table.name}`, `${RETIRED_MARKER}:${table.schema}.${table.name}`],
    };
  },
};

/** A partition's own index (not attached to a parent index, not a constraint's). */
const OWN_INDEX = `NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = x.indexrelid)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid)`;

/** Own indexes left invalid ($1 schema, $2 partitions): what a CREATE INDEX CONCURRENTLY that failed leaves behind. */
const INVALID_OWN_INDEXES = `SELECT c.relname AS partition, i.relname AS index
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index x ON x.indrelid = c.oid JOIN pg_class i ON i.oid = x.indexrelid
  WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND NOT x.indisvalid AND ${OWN_INDEX}
  ORDER BY 1, 2`;

/**
 * What a partition has of its own, as statements for the staging table that replaces it ($1 schema, $2 partition,
 * $3 staging table): built by the server from the catalog with format('%I' / '%L'), no name spliced in here.
 * Indexes and index-backed constraints take a temporary name until the old partition (which holds theirs) is gone.
 * An invalid index is no object to carry (pg_dump leaves it out too): building it on production's rows could fail the
 * day, and the plan names it instead (INVALID_OWN_INDEXES). Columns' comments and statistics targets and extended
 * statistics go on once the old partition is dropped (a statistics object's name is unique in its schema); the last
 * are rebuilt from pg_get_statisticsobjdef with the partition's name in its FROM, which the server prints qualified
 * only where the search path does not find it.
 */
const OWN_OBJECTS = `
WITH p AS (SELECT c.oid, c.relowner, c.relacl, c.reloptions, c.relrowsecurity, c.relforcerowsecurity, n.nspname AS nsp, c.relname,
                  format('%I.%I', n.nspname, c.relname) AS q
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(format('%I.%I', $1::text, $2::text))),
     s AS (SELECT format('%I.%I', $1::text, $3::text) AS q, (SELECT relowner FROM pg_class WHERE oid = to_regclass(format('%I.%I', $1::text, $3::text))) AS owner),
     idx AS (SELECT i.relname, x.indexrelid, x.indisunique FROM p JOIN pg_index x ON x.indrelid = p.oid JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indisvalid AND ${OWN_INDEX}),
     keyc AS (SELECT k.oid, k.conname FROM p JOIN pg_constraint k ON k.conrelid = p.oid WHERE k.contype IN ('p', 'u', 'x') AND k.conparentid = 0),
     col AS (SELECT a.attname, col_description(p.oid, a.attnum) AS comment, a.attstattarget::int AS target FROM p JOIN pg_attribute a ON a.attrelid = p.oid WHERE a.attnum > 0 AND NOT a.attisdropped),
     stx AS (SELECT sn.nspname AS nsp, st.stxname, st.stxowner, pg_get_statisticsobjdef(st.oid) AS def
             FROM p JOIN pg_statistic_ext st ON st.stxrelid = p.oid JOIN pg_namespace sn ON sn.oid = st.stxnamespace),
     grantee AS (SELECT a.privilege_type, a.is_grantable, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS who, NULL::name AS col
                 FROM p, aclexplode(p.relacl) a WHERE a.grantee <> p.relowner
                 UNION ALL
                 SELECT a.privilege_type, a.is_grantable, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, att.attname
                 FROM p JOIN pg_attribute att ON att.attrelid = p.oid AND att.attacl IS NOT NULL, aclexplode(att.attacl) a WHERE a.grantee <> p.relowner)
SELECT phase, sql FROM (
  SELECT 1 AS ord, 'before' AS phase, format('ALTER TABLE %s OWNER TO %I', s.q, pg_get_userbyid(p.relowner)) AS sql FROM p, s WHERE p.relowner <> s.owner
  UNION ALL
  SELECT 2, 'before', format('GRANT %s%s ON %s TO %s%s', g.privilege_type, CASE WHEN g.col IS NULL THEN '' ELSE format(' (%I)', g.col) END, s.q, g.who, CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) FROM grantee g, s
  UNION ALL
  SELECT 3, 'before', format('ALTER TABLE %s SET (%s)', s.q, (SELECT string_agg(format('%s = %L', split_part(o, '=', 1), substr(o, strpos(o, '=') + 1)), ', ') FROM unnest(p.reloptions) o))
    FROM p, s WHERE p.reloptions IS NOT NULL
  UNION ALL
  SELECT 4, 'before', format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', s.q) FROM p, s WHERE p.relrowsecurity
  UNION ALL
  SELECT 5, 'before', format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', s.q) FROM p, s WHERE p.relforcerowsecurity
  UNION ALL
  SELECT 6, 'before', format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', pol.policyname, s.q, pol.permissive, pol.cmd,
           (SELECT string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' ELSE quote_ident(r) END, ', ') FROM unnest(pol.roles) r),
           CASE WHEN pol.qual IS NULL THEN '' ELSE ' USING (' || pol.qual || ')' END, CASE WHEN pol.with_check IS NULL THEN '' ELSE ' WITH CHECK (' || pol.with_check || ')' END)
    FROM p, s, pg_policies pol WHERE pol.schemaname = p.nsp AND pol.tablename = p.relname
  UNION ALL
  SELECT 7, 'before', format('ALTER TABLE %s ADD CONSTRAINT %I %s', s.q, k.conname, pg_get_constraintdef(k.oid))
    FROM p, s, pg_constraint k WHERE k.conrelid = p.oid AND k.contype = 'c' AND k.conislocal AND k.coninhcount = 0
  UNION ALL
  SELECT 8, 'before', format('CREATE %sINDEX %I ON %s ', CASE WHEN idx.indisunique THEN 'UNIQUE ' ELSE '' END, left(idx.relname, 55) || '_uatnew', s.q)
           || substr(d.def, length(d.prefix) + 1)
    FROM p, s, idx, LATERAL (SELECT pg_get_indexdef(idx.indexrelid) AS def, format('CREATE %sINDEX %I ON %s ', CASE WHEN idx.indisunique THEN 'UNIQUE ' ELSE '' END, idx.relname, p.q) AS prefix) d
    WHERE starts_with(d.def, d.prefix)
  UNION ALL
  SELECT 9, 'before', format('ALTER TABLE %s ADD CONSTRAINT %I %s', s.q, left(keyc.conname, 55) || '_uatnew', pg_get_constraintdef(keyc.oid)) FROM s, keyc
  UNION ALL
  SELECT 10, 'before', format('ALTER TABLE %s ADD CONSTRAINT %I %s', s.q, k.conname, pg_get_constraintdef(k.oid))
    FROM p, s, pg_constraint k WHERE k.conrelid = p.oid AND k.contype = 'f' AND k.conparentid = 0
  UNION ALL
  SELECT 11, 'before', overlay(d.def PLACING ' ON ' || s.q || ' ' FROM position(' ON ' || p.q || ' ' IN d.def) FOR length(' ON ' || p.q || ' '))
    FROM p, s, pg_trigger t, LATERAL (SELECT pg_get_triggerdef(t.oid) AS def) d
    WHERE t.tgrelid = p.oid AND NOT t.tgisinternal AND t.tgparentid = 0 AND position(' ON ' || p.q || ' ' IN d.def) > 0
  UNION ALL
  SELECT 12, 'before', format('ALTER TABLE %s %s TRIGGER %I', s.q, CASE t.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END, t.tgname)
    FROM p, s, pg_trigger t WHERE t.tgrelid = p.oid AND NOT t.tgisinternal AND t.tgparentid = 0 AND t.tgenabled <> 'O'
  UNION ALL
  SELECT 20, 'after', format('ALTER INDEX %I.%I RENAME TO %I', p.nsp, left(idx.relname, 55) || '_uatnew', idx.relname) FROM p, idx
  UNION ALL
  SELECT 21, 'after', format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', p.q, left(keyc.conname, 55) || '_uatnew', keyc.conname) FROM p, keyc
  UNION ALL
  SELECT 22, 'after', format('COMMENT ON TABLE %s IS %L', p.q, obj_description(p.oid, 'pg_class')) FROM p WHERE obj_description(p.oid, 'pg_class') IS NOT NULL
  UNION ALL
  SELECT 23, 'after', format('COMMENT ON COLUMN %s.%I IS %L', p.q, col.attname, col.comment) FROM p, col WHERE col.comment IS NOT NULL
  UNION ALL
  SELECT 24, 'after', format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS %s', p.q, col.attname, col.target) FROM p, col WHERE col.target >= 0
  UNION ALL
  SELECT 25, 'after', d.prefix || substr(stx.def, length(d.prefix) + 1, length(stx.def) - length(d.prefix) - length(d.suffix)) || ' FROM ' || p.q
    FROM p, stx, LATERAL (SELECT format('CREATE STATISTICS %I.%I', stx.nsp, stx.stxname) AS prefix,
                                 CASE WHEN right(stx.def, length(p.q) + 6) = ' FROM ' || p.q THEN ' FROM ' || p.q ELSE ' FROM ' || quote_ident(p.relname) END AS suffix) d
    WHERE starts_with(stx.def, d.prefix) AND right(stx.def, length(d.suffix)) = d.suffix
  UNION ALL
  SELECT 26, 'after', format('ALTER STATISTICS %I.%I OWNER TO %I', stx.nsp, stx.stxname, pg_get_userbyid(stx.stxowner))
    FROM stx WHERE stx.stxowner <> (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
) x ORDER BY ord, sql`;

export function stagingCheckName(staging: TableRef): string {
  return partitionName({ schema: staging.schema, name: staging.name }, "_ck").name;
}

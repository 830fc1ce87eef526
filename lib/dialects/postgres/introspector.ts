// PostgreSQL catalog reads (pg_catalog): what exists, with which columns, indexes and partitions.
import type { ColumnInfo, ForeignKey, IndexInfo, Introspector, PartitionInfo, Partitioning, Privilege, SequenceUse, TableRef, TypeFamily } from "../types";
import { qualified } from "./compiler";
import { columnNamed } from "../columns";
import { lockWaitsFrom, type LockWaitRow } from "../lock-waits";

type Query = <R>(sql: string, params: unknown[]) => Promise<R[]>;

const FAMILIES: Record<string, TypeFamily> = {
  int2: "integer", int4: "integer", int8: "integer",
  numeric: "decimal", float4: "float", float8: "float", money: "decimal",
  date: "date", timestamp: "datetime", timestamptz: "datetime",
  text: "text", varchar: "text", bpchar: "text", name: "text", uuid: "text", citext: "text",
  bool: "boolean", bytea: "binary",
};

export function postgresIntrospector(query: Query): Introspector {
  return {
    async findTable(name, schema) {
      const rows = await query<TableRef>(
        `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND lower(c.relname) = lower($1)
           AND (CASE WHEN $2::text IS NULL THEN n.nspname = ANY (current_schemas(false)) ELSE lower(n.nspname) = lower($2::text) END)
         ORDER BY (c.relname = $1) DESC, (n.nspname = coalesce($2::text, n.nspname)) DESC, array_position(current_schemas(false), n.nspname::text)`,
        [name, schema ?? null],
      );
      return rows[0] ?? null;
    },

    async columns(table) {
      const rows = await query<{ name: string; native_type: string; typname: string; nullable: boolean; identity: boolean; generated: boolean; default_expr: string | null; encoding: string }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS native_type, current_setting('server_encoding') AS encoding,
                coalesce(bt.typname, t.typname) AS typname, NOT a.attnotnull AS nullable,
                (a.attidentity <> '' OR pg_get_serial_sequence($1, a.attname) IS NOT NULL) AS identity,
                a.attgenerated <> '' AS generated, CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
        [qualified(table)],
      );
      return rows.map<ColumnInfo>((r) => ({
        name: r.name,
        nativeType: r.native_type,
        family: FAMILIES[r.typname] ?? "other",
        nullable: r.nullable,
        identity: r.identity,
        generated: r.generated,
        ...(r.default_expr !== null ? { default: r.default_expr } : {}),
        ...(r.encoding === "UTF8" ? {} : { encoding: r.encoding }),
      }));
    },

    async indexes(table) {
      // Plain column indexes only: expression and partial indexes are left for ATTACH to build itself.
      return query<IndexInfo>(
        `SELECT i.relname AS name, x.indisunique AS unique, x.indisprimary AS "primaryKey", NOT x.indisvalid AS disabled,
                EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype = 'u') AS "uniqueConstraint",
                array(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
         WHERE x.indrelid = to_regclass($1) AND x.indpred IS NULL AND NOT (0 = ANY (x.indkey::int2[]))
         ORDER BY x.indisprimary DESC, i.relname`,
        [qualified(table)],
      );
    },

    async partitioning(table) {
      const keys = await query<{ column: string; strategy: string; nkeys: number }>(
        `SELECT a.attname AS column, p.partstrat AS strategy, p.partnatts AS nkeys FROM pg_partitioned_table p
         JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
         WHERE p.partrelid = to_regclass($1)`,
        [qualified(table)],
      );
      const key = keys[0];
      if (!key) return null;
      if (key.strategy !== "r" || key.nkeys !== 1) throw new Error(`${qualified(table)} must be RANGE-partitioned on a single column for staging_partition_switch`);
      const columnType = columnNamed(await this.columns(table), key.column, table);
      const parts = await query<{ name: string; bound: string }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1) ORDER BY 2`,
        [qualified(table)],
      );
      const partitions = parts.map((p) => parseBound(p.name, p.bound));
      return { column: key.column, columnType, partitions } satisfies Partitioning;
    },

    async foreignKeys(table) {
      // Keys declared on a partitioned table appear once on the parent (conparentid = 0), not per partition. A key
      // declared on a partition itself counts as its partitioned table's (pg_partition_root; NULL for a table that is
      // not partitioned), remembering where it is.
      const rows = await query<{ name: string; cs: string; ct: string; ds: string; dt: string; rs: string; rt: string; columns: string[]; refcolumns: string[]; definition: string }>(
        `SELECT k.conname AS name, rtn.nspname AS cs, rtc.relname AS ct, cn.nspname AS ds, c.relname AS dt, rn.nspname AS rs, r.relname AS rt, pg_get_constraintdef(k.oid) AS definition,
                array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o) AS columns,
                array(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.o) AS refcolumns
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
         JOIN pg_class rtc ON rtc.oid = coalesce(pg_partition_root(k.conrelid), k.conrelid) JOIN pg_namespace rtn ON rtn.oid = rtc.relnamespace
         JOIN pg_class r ON r.oid = coalesce(pg_partition_root(k.confrelid), k.confrelid) JOIN pg_namespace rn ON rn.oid = r.relnamespace
         WHERE k.contype = 'f' AND k.conparentid = 0
           AND (coalesce(pg_partition_root(k.conrelid), k.conrelid) = to_regclass($1) OR coalesce(pg_partition_root(k.confrelid), k.confrelid) = to_regclass($1))
         ORDER BY rtn.nspname, rtc.relname, k.conname`,
        [qualified(table)],
      );
      return rows.map<ForeignKey>((r) => ({
        name: r.name,
        table: { schema: r.cs, name: r.ct },
        columns: r.columns,
        referenced: { schema: r.rs, name: r.rt },
        referencedColumns: r.refcolumns,
        definition: r.definition,
        ...(r.ds !== r.cs || r.dt !== r.ct ? { declaredOn: { schema: r.ds, name: r.dt } } : {}),
      }));
    },

    async triggers(table) {
      // User triggers only (foreign keys are internal triggers), enabled in the origin role ('O') or always ('A').
      const rows = await query<{ name: string }>(
        `SELECT t.tgname AS name FROM pg_trigger t WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal AND t.tgenabled IN ('O', 'A') ORDER BY 1`,
        [qualified(table)],
      );
      return rows.map((r) => r.name);
    },

    async lockWaits(sessionPrefix) {
      // pg_blocking_pids: the sessions holding (or queued ahead for) the lock each waiting session wants.
      const rows = await query<LockWaitRow>(
        `SELECT w.application_name AS waiter, to_char(w.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since,
                b.usename AS "user", nullif(b.application_name, '') AS application, host(b.client_addr) AS client, b.state AS state
         FROM pg_stat_activity w CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) JOIN pg_stat_activity b ON b.pid = bp.pid
         WHERE w.datname = current_database() AND w.wait_event_type = 'Lock' AND starts_with(w.application_name, $1)
         ORDER BY w.pid, b.pid`,
        [sessionPrefix],
      );
      return lockWaitsFrom(rows);
    },

    async missingPrivileges(table, wanted) {
      const [r] = await query<Record<string, boolean>>(
        `SELECT has_table_privilege(c.oid, 'SELECT') AS "SELECT", has_table_privilege(c.oid, 'INSERT') AS "INSERT",
                has_table_privilege(c.oid, 'UPDATE') AS "UPDATE", has_table_privilege(c.oid, 'DELETE') AS "DELETE",
                has_table_privilege(c.oid, 'TRUNCATE') AS "TRUNCATE", pg_has_role(c.relowner, 'USAGE') AS "ALTER",
                has_schema_privilege(c.relnamespace, 'CREATE') AS "CREATE",
                NOT EXISTS (SELECT 1 FROM pg_attrdef d
                  JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid AND dep.refclassid = 'pg_class'::regclass
                  JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
                  -- CASE: has_sequence_privilege raises for a non-sequence, and WHERE terms run in any order
                  WHERE d.adrelid = c.oid AND CASE WHEN s.relkind = 'S' THEN NOT has_sequence_privilege(s.oid, 'UPDATE') ELSE false END) AS "SEQUENCE"
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
        [qualified(table)],
      );
      return r ? wanted.filter((p: Privilege) => !r[p]) : wanted;
    },

    // PostgreSQL's rule (Row Security Policies): superusers and BYPASSRLS roles bypass it; so does the table's owner
    // (or a member of its owner role), unless the table has FORCE ROW LEVEL SECURITY. Enabled without a policy, it
    // hides every row.
    async rowSecurity(table) {
      const [r] = await query<{ applies: boolean; policies: string[] }>(
        `SELECT c.relrowsecurity AND NOT (r.rolsuper OR r.rolbypassrls) AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE')) AS applies,
                ARRAY(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1) AS policies
         FROM pg_class c, pg_roles r WHERE c.oid = to_regclass($1) AND r.rolname = current_user`,
        [qualified(table)],
      );
      return r?.applies ? { policies: r.policies.length ? r.policies.map((p) => `policy ${p}`) : ["no policy: every row hidden"], filtersReads: true } : null;
    },

    async sequences(table) {
      // A default's dependency on a sequence is recorded whether or not the sequence is OWNED BY the column;
      // identity columns' internal sequences are excluded (resyncIdentity moves those).
      const rows = await query<{ column: string; schema: string; name: string }>(
        `SELECT DISTINCT a.attname AS column, sn.nspname AS schema, s.relname AS name
         FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
         JOIN pg_depend dep ON dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid AND dep.refclassid = 'pg_class'::regclass
         JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S' JOIN pg_namespace sn ON sn.oid = s.relnamespace
         WHERE d.adrelid = to_regclass($1) AND a.attidentity = '' ORDER BY 1, 2, 3`,
        [qualified(table)],
      );
      return rows.map<SequenceUse>((r) => ({ column: r.column, sequence: { schema: r.schema, name: r.name } }));
    },
  };
}

export function parseBound(name: string, bound: string): PartitionInfo {
  if (bound === "DEFAULT") return { name, lower: null, upper: null, isDefault: true };
  const m = /^FOR VALUES FROM \((.*)\) TO \((.*)\)$/.exec(bound);
  if (!m) throw new Error(`unexpected partition bound for ${name}: ${bound}`);
  const value = (s: string) => (/^(MINVALUE|MAXVALUE)$/.test(s) ? null : s.replace(/^'(.*)'$/, "$1").replace(/''/g, "'"));
  return { name, lower: value(m[1]), upper: value(m[2]), isDefault: false };
}

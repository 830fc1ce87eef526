// PostgreSQL catalog reads (pg_catalog): what exists, with which columns, indexes and partitions.
import type { ColumnInfo, IndexInfo, Introspector, PartitionInfo, Partitioning, TableRef, TypeFamily } from "../types";
import { qualified } from "./compiler";

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
      const rows = await query<{ name: string; native_type: string; typname: string; nullable: boolean; identity: boolean; generated: boolean }>(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS native_type,
                coalesce(bt.typname, t.typname) AS typname, NOT a.attnotnull AS nullable,
                (a.attidentity <> '' OR pg_get_serial_sequence($1, a.attname) IS NOT NULL) AS identity,
                a.attgenerated <> '' AS generated
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
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
      }));
    },

    async indexes(table) {
      // Plain column indexes only: expression and partial indexes are left for ATTACH to build itself.
      return query<IndexInfo>(
        `SELECT i.relname AS name, x.indisunique AS unique, x.indisprimary AS "primaryKey",
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
      const columnType = (await this.columns(table)).find((c) => c.name === key.column)!;
      const parts = await query<{ name: string; bound: string }>(
        `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1) ORDER BY 2`,
        [qualified(table)],
      );
      const partitions = parts.map((p) => parseBound(p.name, p.bound));
      return { column: key.column, columnType, partitions } satisfies Partitioning;
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

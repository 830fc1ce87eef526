// T-SQL of a full replace through a structural twin: the twin is loaded while readers keep reading the table, then
// exchanged for the table's rows in one short transaction (SWITCH is a metadata operation):
//   ALTER TABLE t SWITCH TO retired; ALTER TABLE twin SWITCH TO t        (a partitioned table: partition by partition)
// SWITCH requires the two tables to be identical in structure (columns with types, collation, nullability and
// computed definitions; the same clustered and nonclustered indexes; trusted CHECKs the target's rows satisfy), on
// the same filegroup or partition scheme, and the receiving table or partition empty (Microsoft's "partition
// switching" requirements). What cannot be reproduced is reported by the introspector as a blocker.
import type { CompiledQuery, IndexInfo, SwapCompiler, TableRef, TableShape, TableStorage } from "../types";
import { qualified, quoteIdent } from "./compiler";
import { checkStatements, columnDef, compressionOption, indexStatements, LOW_PRIORITY, mark } from "./partitions";

/** `ON [filegroup]` or `ON [scheme]([column])`: where the table, or one of its indexes, is stored. */
function placement(storage: TableStorage, dataSpace?: string): string {
  const ds = storage.dataSpace;
  if ("scheme" in ds && (dataSpace === undefined || dataSpace === ds.scheme)) return ` ON ${quoteIdent(ds.scheme)}(${quoteIdent(ds.column)})`;
  return ` ON ${quoteIdent(dataSpace ?? (ds as { filegroup: string }).filegroup)}`;
}

/** Indexes as the target has them, each on the target index's own filegroup or scheme and compressed partition by
 *  partition as the target index is (SWITCH moves the pages as they are: Msg 11406 where they differ). */
function indexesOf(t: TableRef, storage: TableStorage, shape: TableShape): CompiledQuery[] {
  return indexStatements(t, shape.indexes, (ix: IndexInfo) => `${compressionOption(ix.compression)}${placement(storage, ix.dataSpace)}`);
}

function createTable(t: TableRef, storage: TableStorage, shape: TableShape): CompiledQuery {
  const heapCompressed = shape.indexes.some((ix) => ix.clustered) ? "" : compressionOption(storage.compression);
  const lob = storage.lobFilegroup ? ` TEXTIMAGE_ON ${quoteIdent(storage.lobFilegroup)}` : "";
  return { sql: `CREATE TABLE ${qualified(t)} (${shape.columns.map(columnDef).join(", ")})${placement(storage)}${lob}${heapCompressed}`, params: [] };
}

export const sqlServerSwap: SwapCompiler = {
  createTwin(table, twin, retired, storage, shape) {
    return [
      // A heap without constraints: the bulk load is fastest there; indexes and CHECKs follow the load.
      createTable(twin, storage, shape),
      mark(twin, `staging:${table.schema}.${table.name}`),
      createTable(retired, storage, shape),
      mark(retired, `retired:${table.schema}.${table.name}`),
      ...indexesOf(retired, storage, shape),
    ];
  },

  prepareTwin(twin, storage, shape) {
    return [
      ...indexesOf(twin, storage, shape),
      // The target's CHECKs, validated once after the load.
      ...checkStatements(twin, shape.checks),
    ];
  },

  switchIn(table, twin, retired, storage) {
    const ds = storage.dataSpace;
    if (!("scheme" in ds))
      return [
        { sql: `ALTER TABLE ${qualified(table)} SWITCH TO ${qualified(retired)}${LOW_PRIORITY}`, params: [] },
        { sql: `ALTER TABLE ${qualified(twin)} SWITCH TO ${qualified(table)}${LOW_PRIORITY}`, params: [] },
      ];
    // Both twins are on the table's own scheme: partition n goes out to n, and comes in from n.
    return Array.from({ length: ds.partitions }, (_, i) => i + 1).flatMap((n) => [
      { sql: `ALTER TABLE ${qualified(table)} SWITCH PARTITION ${n} TO ${qualified(retired)} PARTITION ${n}${LOW_PRIORITY}`, params: [] },
      { sql: `ALTER TABLE ${qualified(twin)} SWITCH PARTITION ${n} TO ${qualified(table)} PARTITION ${n}${LOW_PRIORITY}`, params: [] },
    ]);
  },
};

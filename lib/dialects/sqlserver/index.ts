import type { Dialect } from "../types";
import { sqlServerCompiler } from "./compiler";
import { Transform } from "node:stream";
import { unloadableColumns } from "./transport";
import { sqlServerPartitions } from "./partitions";
import { sqlServerRelations } from "./relations";
import { sqlServerSwap } from "./swap";

// Deadlock victim (1205), Azure SQL transient faults (40197, 40501, 40613, 49918-49920, 4221), database in
// transition (4060 is not: a wrong database name), and dropped sockets.
const TRANSIENT_NUMBERS = new Set([1205, 40197, 40501, 40613, 49918, 49919, 49920, 4221, 10928, 10929]);
const TRANSIENT_CODES = new Set(["ESOCKET", "ECONNRESET", "ECONNCLOSED", "ETIMEOUT"]);

export const sqlServerDialect: Dialect = {
  engine: "sqlserver",
  compiler: sqlServerCompiler,
  partitions: sqlServerPartitions,
  relations: sqlServerRelations,
  swap: sqlServerSwap,
  // The driver (tedious, about 0.4 s to load with its Entra ID libraries) loads with the first SQL Server session,
  // so planning, the CLI's other commands and PostgreSQL-only installations never pay for it.
  connect: async (target, opts) => (await import("./driver")).connectSqlServer(target, opts),
  prepare: async () => void (await import("./driver")),
  unloadableColumns,
  // The bulk load keeps production's NULLs (KEEP_NULLS), which "disable checking of DEFAULT definitions on a table"
  // for the whole load (Microsoft Learn, Keep nulls or default values during bulk import).
  bulkLoadAppliesDefaults: false,
  // sys.partitions.rows: the storage engine's count of each partition's rows, moved by every insert and delete
  // (Microsoft calls it approximate: it counts rows not yet committed).
  catalogKeepsRowCounts: true,
  // AUTO_UPDATE_STATISTICS (on by default): "the query optimizer ... updates statistics before compiling a query"
  // when they are out of date (Microsoft Learn, Statistics).
  updatesStatisticsOnQuery: true,
  mapRows(rows, columns, map) {
    // Rows are arrays of tedious values: replace the masked positions in place.
    const mapper = new Transform({
      objectMode: true,
      transform(row: unknown[], _enc, cb) {
        const out = map(columns.map((c) => row[c]));
        columns.forEach((c, i) => (row[c] = out[i]));
        cb(null, row);
      },
    });
    rows.stream.on("error", (e) => mapper.destroy(e));
    return { stream: rows.stream.pipe(mapper), done: rows.done };
  },
  async rowValues(rows) {
    const out: unknown[][] = [];
    for await (const row of rows.stream) out.push(row as unknown[]);
    await rows.done;
    return out;
  },
  isTransient(error) {
    const e = error as { number?: number; code?: string };
    return (e?.number !== undefined && TRANSIENT_NUMBERS.has(e.number)) || (!!e?.code && TRANSIENT_CODES.has(e.code));
  },
  hintFor(error) {
    const e = error as { number?: number; code?: string };
    switch (e?.number) {
      case 229:
      case 230:
      case 1088:
        return "The login lacks a permission: the target login needs INSERT, ALTER (TRUNCATE, SWITCH) and for partition switches ALTER on the partition function and scheme; the source login needs SELECT (db_datareader).";
      case 4712:
        return "TRUNCATE is refused on a table referenced by a foreign key: set truncate_target: false to DELETE instead.";
      case 4947:
      case 4948:
      case 4972:
      case 4982:
      case 4904:
      case 4939:
      case 7733:
        return "SWITCH preconditions failed: staging and target must have identical columns, clustered index and aligned indexes, the same filegroup, and a trusted CHECK inside the partition's range.";
      case 7707:
      case 7710:
        return "The partition scheme has no NEXT USED filegroup for the split: check the scheme's filegroups.";
      case 50001:
        return "The day's range already holds rows: splitting it would move data. Keep an empty partition ahead of the data (sliding window).";
      case 547:
      case 2627:
      case 2601:
        return "The target rejected rows (constraint violation): the target's constraints differ from the source's; nothing was committed.";
      case 18456:
        return "Login failed: check the environment variables named by username_env/password_env and options.authentication.";
    }
    if (e?.code === "ETIMEOUT") return "The statement hit command_timeout (or connecting hit connection_timeout): raise the setting or use incremental mode.";
    if (e?.code === "ESOCKET") return "The server did not answer: check host, port, firewall, encrypt/trustServerCertificate.";
    if (e?.code === "READ_ONLY") return "A write reached the read-only source session: the source is never written.";
    return undefined;
  },
};

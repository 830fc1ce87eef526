import type { Dialect } from "../types";
import { postgresCompiler, postgresPartitions } from "./compiler";
import { postgresRelations } from "./relations";
import { CopyTextMapper, decodeField } from "./copy-text";

// SQLSTATE classes worth a retry: connection exceptions (08), serialization failure, deadlock, shutdown/crash
// recovery (57P01-57P03), too many connections (53300).
const TRANSIENT_CODES = new Set(["40001", "40P01", "57P01", "57P02", "57P03", "53300"]);
const TRANSIENT_NODE = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"]);

export const postgresDialect: Dialect = {
  engine: "postgres",
  compiler: postgresCompiler,
  partitions: postgresPartitions,
  relations: postgresRelations,
  // The driver loads with the first PostgreSQL session (a SQL Server installation's stream threads never load it).
  connect: async (target, opts) => (await import("./driver")).connectPostgres(target, opts),
  prepare: async () => void (await import("./driver")),
  // COPY text carries every type PostgreSQL can print and read back.
  unloadableColumns: () => [],
  // "If there are any columns in the table that are not in the column list, COPY FROM will insert the default values
  // for those columns" (PostgreSQL, COPY).
  bulkLoadAppliesDefaults: true,
  // reltuples is what the last VACUUM or ANALYZE counted or sampled.
  catalogKeepsRowCounts: false,
  // Statistics come from ANALYZE, autovacuum's in the background (a minute or more after a large load), never from
  // the query that needs them.
  updatesStatisticsOnQuery: false,
  mapRows(rows, columns, map) {
    const mapper = new CopyTextMapper(columns, map);
    rows.stream.on("error", (e) => mapper.destroy(e));
    return { stream: rows.stream.pipe(mapper), done: rows.done };
  },
  async rowValues(rows) {
    const chunks: Buffer[] = [];
    for await (const c of rows.stream) chunks.push(c as Buffer);
    await rows.done;
    const text = Buffer.concat(chunks).toString("utf8");
    return text ? text.replace(/\n$/, "").split("\n").map((line) => line.split("\t").map(decodeField)) : [];
  },
  isTransient(error) {
    const e = error as { code?: string; message?: string };
    if (e?.code && (TRANSIENT_CODES.has(e.code) || e.code.startsWith("08") || TRANSIENT_NODE.has(e.code))) return true;
    return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e?.message ?? "");
  },
  hintFor(error) {
    const e = error as { code?: string; message?: string };
    switch (e?.code) {
      case "42501":
        if (/row-level security/.test(e.message ?? ""))
          return "A row-level security policy would show this login only some of the table's rows, so nothing is read or written through it: give the login BYPASSRLS (or make it the table's owner) so that it reads every row.";
        return "The login lacks a privilege: the target user needs INSERT/TRUNCATE (and CREATE for partition switches); the source user needs SELECT.";
      case "25006":
        return "The server refused a write as read-only: either it reached the source, whose sessions are read-only (check that source and target are not swapped), or the target became read-only during the run (a standby after a failover, default_transaction_read_only).";
      case "57014":
        if (/statement timeout/.test(e.message ?? "")) return "The statement hit command_timeout: raise settings.command_timeout for this table's size, or use incremental mode.";
        return "The server cancelled the statement (pg_cancel_backend, by an administrator or a monitoring tool).";
      case "55P03":
        return "A lock the refresh needs is held by another session (a tester's open transaction, a long query) and the wait hit lock_timeout, which UAT's database or login sets: nothing was committed; run again once it is released, or find the session in pg_stat_activity.";
      case "57P01":
      case "57P02":
      case "57P03":
        return "The server ended the session (pg_terminate_backend, a restart or crash recovery): a unit is retried up to settings.max_retries times on a new session.";
      case "23503":
        return "A foreign key rejected rows: the referenced table in UAT lacks keys the copied rows use. Configure the referenced table too (related tables refresh together as one group), or refresh it first.";
      case "23505":
      case "23514":
        return "The target rejected rows (constraint violation): the target's constraints differ from the source's; nothing was committed.";
      case "28P01":
        return "Authentication failed: check the environment variables named by username_env/password_env.";
      case "3D000":
        return "The database does not exist on that server: check databases.*.database.";
    }
    if (/ECONNREFUSED|ETIMEDOUT|timeout expired/i.test(e?.message ?? "")) return "The server did not answer: check host, port, firewall and connection_timeout.";
    return undefined;
  },
};

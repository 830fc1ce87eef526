// The conformance suite's view of a database engine: how to create its test databases and fixtures. The scenarios
// in conformance.test.ts are written once against this; PostgreSQL always runs (embedded), SQL Server runs when
// MSSQL_TEST_URL (mssql://user:password@host:port) points at a server.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { connectSqlServer } from "../../lib/dialects/sqlserver/driver";
import type { Session } from "../../lib/dialects/types";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";
import type { RefreshConfig, TableConfigDraft } from "../../lib/config/schema";
import { configSchema } from "../../lib/config/schema";
import { importConfig } from "../../lib/config/store";

export interface Side {
  exec(sql: string): Promise<void>;
  /** Row count and an order-independent checksum. */
  fingerprint(table: string): Promise<{ count: number; sum: string }>;
  scalar(sql: string): Promise<string | null>;
}

export interface ConformanceDb {
  source: Side;
  target: Side;
  env: TestEnv;
  config(tables: TableConfigDraft[], settings?: Partial<RefreshConfig["settings"]>): Promise<void>;
  sql: FixtureSql;
  close(): Promise<void>;
}

/** Fixture DDL/DML in each engine's own SQL. Shapes and values are identical across engines. */
export interface FixtureSql {
  orders: string;
  insertOrders(from: number, to: number, tag: string): string;
  touchOrders(ids: number[], status: string): string;
  dailySource: string;
  /** Target partitioned by day, with daily partitions for `days`. */
  dailyTarget(days: number[]): string;
  insertDaily(day: number, n: number, tag: string): string;
  dailyPartitions: string;
  truncate(table: string): string;
}

const pgSql: FixtureSql = {
  orders: `CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2), status varchar(20) NOT NULL, note varchar(200), placed_at timestamp NOT NULL)`,
  insertOrders: (from, to, tag) =>
    `INSERT INTO orders SELECT g, g % 500, (g % 10000) / 7.0, '${tag}', CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END, timestamp '2025-01-01' + g * interval '1 minute' FROM generate_series(${from}, ${to}) g`,
  touchOrders: (ids, status) => `UPDATE orders SET status = '${status}' WHERE order_id IN (${ids.join(", ")})`,
  dailySource: `CREATE TABLE daily (id bigint NOT NULL, report_date int NOT NULL, region varchar(40) NOT NULL, revenue numeric(14,2), PRIMARY KEY (report_date, id))`,
  dailyTarget: (days) =>
    [`CREATE TABLE daily (id bigint NOT NULL, report_date int NOT NULL, region varchar(40) NOT NULL, revenue numeric(14,2), PRIMARY KEY (report_date, id)) PARTITION BY RANGE (report_date)`,
      ...days.map((d) => `CREATE TABLE daily_p${d} PARTITION OF daily FOR VALUES FROM (${d}) TO (${d + 1})`)].join(";\n"),
  insertDaily: (day, n, tag) => `INSERT INTO daily SELECT g, ${day}, 'r' || (g % 7) || '${tag}', g * 1.5 FROM generate_series(1, ${n}) g`,
  dailyPartitions: `SELECT count(*)::text FROM pg_inherits WHERE inhparent = 'daily'::regclass`,
  truncate: (t) => `TRUNCATE ${t}`,
};

// Numbers without GENERATE_SERIES (SQL Server 2022 only): a cross join of a catalog view, cut with TOP.
const numbers = (from: number, to: number) =>
  `(SELECT TOP (${to - from + 1}) ${from - 1} + ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_columns AS a CROSS JOIN sys.all_columns AS b) AS s`;

const msSql: FixtureSql = {
  orders: `CREATE TABLE orders (order_id bigint NOT NULL PRIMARY KEY, customer_id int NOT NULL, amount decimal(12,2) NULL, status varchar(20) NOT NULL, note varchar(200) NULL, placed_at datetime2(0) NOT NULL)`,
  insertOrders: (from, to, tag) =>
    `INSERT INTO orders SELECT g, g % 500, CAST((g % 10000) / 7.0 AS decimal(12,2)), '${tag}', CASE WHEN g % 3 = 0 THEN NULL ELSE CONCAT('n', g) END, DATEADD(minute, g, CAST('2025-01-01' AS datetime2(0))) FROM ${numbers(from, to)}`,
  touchOrders: (ids, status) => `UPDATE orders SET status = '${status}' WHERE order_id IN (${ids.join(", ")})`,
  dailySource: `CREATE TABLE daily (id bigint NOT NULL, report_date int NOT NULL, region varchar(40) NOT NULL, revenue decimal(14,2) NULL, CONSTRAINT pk_daily_src PRIMARY KEY (report_date, id))`,
  dailyTarget: (days) =>
    [`CREATE PARTITION FUNCTION pf_daily (int) AS RANGE RIGHT FOR VALUES (${[...days, days[days.length - 1] + 1].join(", ")})`,
      `CREATE PARTITION SCHEME ps_daily AS PARTITION pf_daily ALL TO ([PRIMARY])`,
      `CREATE TABLE daily (id bigint NOT NULL, report_date int NOT NULL, region varchar(40) NOT NULL, revenue decimal(14,2) NULL, CONSTRAINT pk_daily PRIMARY KEY CLUSTERED (report_date, id)) ON ps_daily (report_date)`].join(";\n"),
  insertDaily: (day, n, tag) => `INSERT INTO daily SELECT g, ${day}, CONCAT('r', g % 7, '${tag}'), g * 1.5 FROM ${numbers(1, n)}`,
  dailyPartitions: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.partition_range_values AS rv JOIN sys.partition_functions AS pf ON pf.function_id = rv.function_id WHERE pf.name = 'pf_daily'`,
  truncate: (t) => `TRUNCATE TABLE ${t}`,
};

function pgSide(client: pg.Client): Side {
  return {
    exec: async (sql) => void (await client.query(sql)),
    fingerprint: (t) => fingerprint(client, t),
    scalar: async (sql) => Object.values((await client.query(sql)).rows[0] ?? {})[0] as string | null,
  };
}

function msSide(s: Session): Side {
  return {
    exec: (sql) => s.execute({ sql, params: [] }),
    fingerprint: async (t) => {
      const [r] = await s.query<{ count: string; sum: string }>({ sql: `SELECT CAST(COUNT_BIG(*) AS nvarchar(20)) AS [count], CAST(COALESCE(CHECKSUM_AGG(BINARY_CHECKSUM(*)), 0) AS nvarchar(20)) AS [sum] FROM ${t}`, params: [] });
      return { count: Number(r.count), sum: r.sum };
    },
    scalar: async (sql) => Object.values((await s.query<Record<string, string>>({ sql, params: [] }))[0] ?? {})[0] ?? null,
  };
}

export async function postgresDb(): Promise<ConformanceDb> {
  const env = await createTestEnv();
  return {
    env,
    source: pgSide(env.source),
    target: pgSide(env.target),
    sql: pgSql,
    config: async (tables, settings) => void (await env.config(tables, settings)),
    close: () => env.close(),
  };
}

export async function sqlServerDb(url: string): Promise<ConformanceDb> {
  const env = await createTestEnv(); // the metadata DB stays PostgreSQL
  const u = new URL(url);
  process.env.MSSQL_TEST_USER = decodeURIComponent(u.username);
  process.env.MSSQL_TEST_PASSWORD = decodeURIComponent(u.password);
  const base = { engine: "sqlserver" as const, host: u.hostname, port: Number(u.port || 1433), user: process.env.MSSQL_TEST_USER, password: process.env.MSSQL_TEST_PASSWORD, options: { encrypt: true, trustServerCertificate: true } };
  const opts = { readOnly: false, connectionTimeoutSec: 30, commandTimeoutSec: 300 };
  const id = `uatr_${randomBytes(4).toString("hex")}`;
  const master = await connectSqlServer({ ...base, database: "master" }, opts);
  for (const side of ["src", "tgt"]) await master.execute({ sql: `CREATE DATABASE [${id}_${side}]`, params: [] });
  const source = await connectSqlServer({ ...base, database: `${id}_src` }, opts);
  const target = await connectSqlServer({ ...base, database: `${id}_tgt` }, opts);
  const database = (name: string) => ({ engine: "sqlserver", server: u.hostname, port: Number(u.port || 1433), database: name, username_env: "MSSQL_TEST_USER", password_env: "MSSQL_TEST_PASSWORD", options: { encrypt: true, trustServerCertificate: true } });
  return {
    env,
    source: msSide(source),
    target: msSide(target),
    sql: msSql,
    config: async (tables, settings = {}) => {
      await importConfig(
        env.db,
        configSchema.parse({
          databases: { source: database(`${id}_src`), target: database(`${id}_tgt`) },
          tables,
          settings: { default_batch_size: 10000, connection_timeout: 30, command_timeout: 300, max_retries: 0, ...settings },
        }),
      );
    },
    close: async () => {
      await Promise.all([source.close(), target.close()]);
      for (const side of ["src", "tgt"]) await master.execute({ sql: `ALTER DATABASE [${id}_${side}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${id}_${side}]`, params: [] });
      await master.close();
      await env.close();
    },
  };
}

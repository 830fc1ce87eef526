// The conformance suite's view of a database engine: how to create its test databases and fixtures. The scenarios
// in conformance.test.ts are written once against this; PostgreSQL always runs (embedded), SQL Server runs when
// MSSQL_TEST_URL (mssql://user:password@host:port) points at a server.
import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { connectSqlServer } from "../../lib/dialects/sqlserver/driver";
import type { ServerCapabilities, Session } from "../../lib/dialects/types";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";
import type { z } from "zod";
import type { postRefreshStepSchema, RefreshConfig, TableConfigDraft } from "../../lib/config/schema";
import { configSchema } from "../../lib/config/schema";
import { importConfig } from "../../lib/config/store";
import { RUN_SESSION_PREFIX } from "../../lib/engine/connections";

export interface Side {
  exec(sql: string): Promise<void>;
  /** Row count and an order-independent checksum. */
  fingerprint(table: string): Promise<{ count: number; sum: string }>;
  scalar(sql: string): Promise<string | null>;
  /** Every row of a query, each as its values in column order. */
  rows(sql: string): Promise<unknown[][]>;
}

export interface ConformanceDb {
  source: Side;
  target: Side;
  env: TestEnv;
  /** What the target server can do, as the product probes it (absent: the dialect probes nothing). */
  capabilities(): Promise<ServerCapabilities | undefined>;
  /** The server under test's own name for itself (version banner), for the gap list. */
  server: string;
  config(tables: TableConfigDraft[], settings?: Partial<RefreshConfig["settings"]>, steps?: z.input<typeof postRefreshStepSchema>[]): Promise<void>;
  /** Ends, as an administrator would (pg_terminate_backend, KILL), the sessions a refresh run opened on one side;
   *  resolves to how many. */
  endRunSessions(side: "source" | "target"): Promise<number>;
  sql: FixtureSql;
  close(): Promise<void>;
}

/** Fixture DDL/DML in each engine's own SQL. Shapes and values are identical across engines. */
export interface FixtureSql {
  orders: string;
  /** `issues (id int PRIMARY KEY, status, changed)`: changed a date-time without offset (plain literals fill it). */
  issues: string;
  /** `requests (id int PRIMARY KEY, title, updated)`: updated a date-time production leaves NULL until a first update. */
  requests: string;
  /** `placed (id int PRIMARY KEY, note, at)`: at a date-time NOT NULL. */
  placed: string;
  /** `placed_codes (code varchar(20) PRIMARY KEY, note, at)`: the same keyed by text. */
  placedCodes: string;
  /** `placed_lines (desk varchar(20), line int, note, at)`: the same keyed by both. */
  placedLines: string;
  /** `placed_refs (ref decimal(10,2), note, at)`: the same keyed by a decimal. */
  placedRefs: string;
  insertOrders(from: number, to: number, tag: string): string;
  touchOrders(ids: number[], status: string): string;
  dailySource: string;
  /** Target partitioned by day, with daily partitions for `days`. */
  dailyTarget(days: number[]): string;
  insertDaily(day: number, n: number, tag: string): string;
  dailyPartitions: string;
  /** `weekly` partitioned by day with exactly `days` as its partitions/boundaries: on SQL Server RANGE RIGHT, so the
   *  last range [last day, +inf) is open-ended, as in a sliding window nobody extended ahead of the data. */
  weeklyTarget(days: number[]): string;
  weeklySource: string;
  insertWeekly(day: number, n: number): string;
  /** A Chinook-shaped schema of 11 related tables, each keyed by an identity but the playlists' tracks (a composite
   *  key), employees reporting to employees: PascalCase on SQL Server, lower case on PostgreSQL (the statements
   *  shared by both name them in lower case, which SQL Server's case-insensitive names match). */
  music: string[];
  /** Production's day 1 (identities numbered 1..n on the fresh tables) and day 2 (an artist, an album and invoices
   *  with lines added, tracks renamed, tracks taken off playlists). */
  musicDay1: string[];
  musicDay2: string[];
  /** A DBA's index on UAT's tracks and a grant on its invoices, and whether each is there ("1"). */
  musicUatObjects: string[];
  musicUatIndexPresent: string;
  musicUatGrantPresent: string;
  /** `calls (id int, called_on int NULL, who)`: a day key production leaves NULL on some rows. */
  callsSource: string;
  /** `calls` partitioned by day with `days` (PostgreSQL: and a DEFAULT partition, the only one that holds NULL keys;
   *  SQL Server: NULL keys live in the left-most partition). */
  callsTarget(days: number[]): string;
  /** `ids`: an identity-keyed table; rows inserted without ids get generated ones. */
  ids: string;
  insertIds(n: number): string;
  truncate(table: string): string;
  /** The catalog's row figures brought up to date (PostgreSQL's planner estimate; SQL Server keeps its partition row
   *  counts itself). */
  refreshRowFigures(table: string): string;
  /** `parents` and `kids` (a foreign key to parents and a self-reference), each statement on its own. */
  family: string[];
  /** A trigger on the target's kids that would rename every inserted kid to 'fired'. */
  kidsTrigger: string[];
  familyDay1: string[];
  /** Updates, inserts and deletes on both levels, in an order the keys allow. */
  familyDay2: string[];
  /** How many foreign keys of the database are not enforced or not trusted (as text). */
  untrustedKeys: string;
  /** `tickets`: an identity-keyed table testers add rows to in UAT. */
  tickets: string;
  /** `n` rows of `owner` with ids the table generates. */
  insertTickets(n: number, owner: string): string;
  /** Production's day 2: updates, deletes and new rows. */
  ticketsDay2: string[];
  /** What a DBA adds to UAT's `tickets` between refreshes: an index (ix_tickets_uat_owner) and a grant to uat_testers. */
  uatObjects: string[];
  /** 1 when UAT's `tickets` still has that index. */
  uatIndexPresent: string;
  /** 1 when UAT's `tickets` still grants SELECT to uat_testers. */
  uatGrantPresent: string;
  /** `invoices`: keyed by a default drawing from the sequence invoice_no_seq (not an identity), each statement on its own. */
  invoices: string[];
  insertInvoices(n: number, customer: string): string;
  /** `shops` and `sales` (a foreign key to shops, no self-reference), each statement on its own. */
  shops: string[];
  /** A trigger on the target's sales that would set every inserted sale's note to 'fired'. */
  salesTrigger: string[];
  shopsDay1: string[];
  /** Updates, inserts and deletes on both levels, in an order the key allows. */
  shopsDay2: string[];
  /** `people`: personal data (a unique email, a first name, a phone, a birth date, a note), `n` rows. */
  people: string;
  insertPeople(from: number, to: number): string;
  /** `visits`: keyed by id, dated by `at` (a date), `who` made it; `insertVisits` adds ids from..to, one day apart from 2025-01-01. */
  visits: string;
  insertVisits(from: number, to: number, who: string): string;
  /** A visit of a tester's in UAT, dated 2031-01-01. */
  futureVisit: string;
  /** `ledger`: a plain keyed table; `insertLedger` adds ids from..to with `memo`. */
  ledger: string;
  insertLedger(from: number, to: number, memo: string): string;
  /** `members` as production has it: a unicode name of 50 characters, a score of 8 digits (2 decimal places), a time
   *  to 7 fractional digits (6 on PostgreSQL); `insertMembers` adds ids 1..n with names longer than 10 characters. */
  membersSource: string;
  insertMembers(n: number): string;
  /** `members` as UAT has it after a careless change: each of the three columns narrower than production's. */
  membersNarrow: string;
  /** Statements that widen UAT's three columns to production's definitions. */
  membersWiden: string[];
  /** A column production gains (`nickname`, filled), and the same column added to UAT. */
  membersNickname: string[];
  membersNicknameInUat: string;
  /** `gadgets` (id, name, made: a date from 2025-01-01 on, one per 50 ids) as production has it; as UAT has it a release ahead, with columns of its own: `status`
   *  NOT NULL with a default 'new' and `note` NULL, and in `gadgetsUatMust` also `must`, NOT NULL without a default. */
  gadgets: string;
  gadgetsUat: string;
  gadgetsUatMust: string;
  insertGadgets(from: number, to: number): string;
  /** `accounts`: a plain keyed table; `insertAccounts` adds ids from..to owned by lower-case names. */
  accounts: string;
  insertAccounts(from: number, to: number): string;
  /** A UAT trigger that upper-cases each arriving row's owner (as a UAT-only rule might), and its removal. */
  accountsTrigger: string[];
  dropAccountsTrigger: string;
  /** `stamps`: keyed by id, stamped by `at`, a point in time with its offset (SQL Server datetimeoffset, PostgreSQL
   *  timestamptz); `insertStamps` adds rows from literals such as '2025-03-01 03:00:00 -08:00'. */
  stamps: string;
  insertStamps(rows: [number, string][]): string;
  /** `lines`: quantity and price with the total computed by the server (stored); `linesUat` the same with a
   *  computed column of UAT's own, stored and NOT NULL; `insertLines` adds ids from..to. */
  lines: string;
  linesUat: string;
  insertLines(from: number, to: number): string;
  /** A name quoted as the engine quotes identifiers (by the test itself, not the product's quoting). */
  quote(name: string): string;
  /** A tester's open transaction that read `table` and holds a shared table lock until `commit`: UAT's TRUNCATE
   *  waits for it (SQL Server: shared locks are held to the end only with HOLDLOCK). */
  holdTableLock(table: string): string;
  commit: string;
  /** A table named `table` (quoted) with an int key column `key` and a text column `value` (both quoted);
   *  `insertOdd` adds keys from..to with the values 'v' || key. */
  oddTable(table: string, key: string, value: string): string;
  insertOdd(table: string, from: number, to: number): string;
  /** `settings`: keyed by name, with a URL UAT points elsewhere and an owner; production's two rows, and UAT's own
   *  (its site URL, an old row, a tester's flag). */
  settings: string;
  settingsProduction: string;
  settingsUat: string;
  /** A procedure that commits (`commit_now`: updates `steps_items` row 1, then COMMIT), and the statement calling it. */
  committingProcedure: string;
  callCommittingProcedure: string;
  /** Staging tables and twins left in the target (their names end in _stg_* / _old_*). */
  leftoverTables: string;
  /** `persons` declared with the schema's own types, after them: SQL Server alias types as AdventureWorks has them
   *  (dbo.Name, dbo.Flag NOT NULL), a ROWGUIDCOL and a SPARSE column; PostgreSQL domains. `insertPersons` adds ids
   *  from..to. */
  persons: string[];
  insertPersons(from: number, to: number): string;
  /** `types`: one column of every type the product copies exactly, and rows at their extremes. */
  types: string;
  insertTypes: string[];
  /** The rows of `types`, each value as the server writes it as text (binary as the bytes the driver reads). */
  typesAsText: string;
}

/** Production's rows of the music schema, in either engine: `rows(n)` is the FROM of 1..n as g, `hours(g)` a
 *  date-time g hours into 2025. Inserted without ids, each table numbers its rows 1..n. */
const musicRows = (rows: (n: number) => string, hours: (g: string) => string) => ({
  day1: [
    `INSERT INTO genre (name) SELECT CONCAT('genre ', g) FROM ${rows(10)}`,
    `INSERT INTO mediatype (name) SELECT CONCAT('media ', g) FROM ${rows(5)}`,
    `INSERT INTO artist (name) SELECT CONCAT('artist ', g) FROM ${rows(50)}`,
    `INSERT INTO album (title, artistid) SELECT CONCAT('album ', g), g % 50 + 1 FROM ${rows(100)}`,
    `INSERT INTO track (name, albumid, mediatypeid, genreid, milliseconds, unitprice) SELECT CONCAT('track ', g), g % 100 + 1, g % 5 + 1, CASE WHEN g % 17 = 0 THEN NULL ELSE g % 10 + 1 END, 1000 + g, 0.99 FROM ${rows(1000)}`,
    `INSERT INTO employee (lastname, reportsto) VALUES ('Adams', NULL)`,
    `INSERT INTO employee (lastname, reportsto) SELECT CONCAT('employee ', g), 1 FROM ${rows(7)}`,
    `UPDATE employee SET reportsto = 2 WHERE employeeid IN (5, 6)`,
    `INSERT INTO customer (lastname, email, supportrepid) SELECT CONCAT('customer ', g), CONCAT('c', g, '@example.com'), g % 8 + 1 FROM ${rows(200)}`,
    `INSERT INTO invoice (customerid, invoicedate, billingcity, total) SELECT g % 200 + 1, ${hours("g")}, CONCAT('city ', g % 20), 1.98 FROM ${rows(400)}`,
    `INSERT INTO invoiceline (invoiceid, trackid, unitprice, quantity) SELECT g % 400 + 1, g % 1000 + 1, 0.99, 1 FROM ${rows(800)}`,
    `INSERT INTO playlist (name) SELECT CONCAT('playlist ', g) FROM ${rows(10)}`,
    `INSERT INTO playlisttrack (playlistid, trackid) SELECT g % 10 + 1, g FROM ${rows(300)}`,
  ],
  day2: [
    `INSERT INTO artist (name) VALUES ('artist 51')`,
    `INSERT INTO album (title, artistid) VALUES ('album 101', 51)`,
    `INSERT INTO invoice (customerid, invoicedate, billingcity, total) SELECT g, ${hours("500 + g")}, 'city 1', 0.99 FROM ${rows(20)}`,
    `INSERT INTO invoiceline (invoiceid, trackid, unitprice, quantity) SELECT 400 + g, g, 0.99, 1 FROM ${rows(20)}`,
    `UPDATE track SET name = CONCAT(name, ' (remastered)') WHERE trackid <= 10`,
    `DELETE FROM playlisttrack WHERE trackid <= 5`,
  ],
});
const pgMusic = musicRows((n) => `generate_series(1, ${n}) AS s (g)`, (g) => `timestamp '2025-01-01' + (${g}) * interval '1 hour'`);

const pgSql: FixtureSql = {
  music: [
    `CREATE TABLE genre (genreid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(120))`,
    `CREATE TABLE mediatype (mediatypeid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(120))`,
    `CREATE TABLE artist (artistid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(120))`,
    `CREATE TABLE album (albumid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, title varchar(160) NOT NULL, artistid int NOT NULL REFERENCES artist (artistid))`,
    `CREATE TABLE track (trackid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(200) NOT NULL, albumid int REFERENCES album (albumid),
      mediatypeid int NOT NULL REFERENCES mediatype (mediatypeid), genreid int REFERENCES genre (genreid), milliseconds int NOT NULL, unitprice numeric(10,2) NOT NULL)`,
    `CREATE TABLE employee (employeeid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, lastname varchar(20) NOT NULL, reportsto int REFERENCES employee (employeeid))`,
    `CREATE TABLE customer (customerid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, lastname varchar(20) NOT NULL, email varchar(60) NOT NULL, supportrepid int REFERENCES employee (employeeid))`,
    `CREATE TABLE invoice (invoiceid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, customerid int NOT NULL REFERENCES customer (customerid), invoicedate timestamp(0) NOT NULL,
      billingcity varchar(40), total numeric(10,2) NOT NULL)`,
    `CREATE TABLE invoiceline (invoicelineid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, invoiceid int NOT NULL REFERENCES invoice (invoiceid),
      trackid int NOT NULL REFERENCES track (trackid), unitprice numeric(10,2) NOT NULL, quantity int NOT NULL)`,
    `CREATE TABLE playlist (playlistid int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(120))`,
    `CREATE TABLE playlisttrack (playlistid int NOT NULL REFERENCES playlist (playlistid), trackid int NOT NULL REFERENCES track (trackid), PRIMARY KEY (playlistid, trackid))`,
  ],
  musicDay1: pgMusic.day1,
  musicDay2: pgMusic.day2,
  musicUatObjects: [
    `CREATE INDEX ix_track_uat_name ON track (name)`,
    `DO $$ BEGIN CREATE ROLE uat_testers NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    `GRANT SELECT ON invoice TO uat_testers`,
  ],
  musicUatIndexPresent: `SELECT count(*)::text FROM pg_indexes WHERE tablename = 'track' AND indexname = 'ix_track_uat_name'`,
  musicUatGrantPresent: `SELECT count(*)::text FROM information_schema.role_table_grants WHERE table_name = 'invoice' AND grantee = 'uat_testers' AND privilege_type = 'SELECT'`,
  issues: `CREATE TABLE issues (id int PRIMARY KEY, status varchar(20) NOT NULL, changed timestamp NOT NULL)`,
  requests: `CREATE TABLE requests (id int PRIMARY KEY, title varchar(40) NOT NULL, updated timestamp NULL)`,
  placed: `CREATE TABLE placed (id int PRIMARY KEY, note varchar(40) NOT NULL, at timestamp NOT NULL)`,
  placedCodes: `CREATE TABLE placed_codes (code varchar(20) PRIMARY KEY, note varchar(40) NOT NULL, at timestamp NOT NULL)`,
  placedLines: `CREATE TABLE placed_lines (desk varchar(20) NOT NULL, line int NOT NULL, note varchar(40) NOT NULL, at timestamp NOT NULL, PRIMARY KEY (desk, line))`,
  placedRefs: `CREATE TABLE placed_refs (ref numeric(10,2) PRIMARY KEY, note varchar(40) NOT NULL, at timestamp NOT NULL)`,
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
  weeklySource: `CREATE TABLE weekly (id bigint NOT NULL, report_date int NOT NULL, PRIMARY KEY (report_date, id))`,
  weeklyTarget: (days) =>
    [`CREATE TABLE weekly (id bigint NOT NULL, report_date int NOT NULL, PRIMARY KEY (report_date, id)) PARTITION BY RANGE (report_date)`,
      ...days.map((d) => `CREATE TABLE weekly_p${d} PARTITION OF weekly FOR VALUES FROM (${d}) TO (${d + 1})`)].join(";\n"),
  insertWeekly: (day, n) => `INSERT INTO weekly SELECT g, ${day} FROM generate_series(1, ${n}) g`,
  callsSource: `CREATE TABLE calls (id int NOT NULL, called_on int NULL, who varchar(40) NULL)`,
  callsTarget: (days) =>
    [`CREATE TABLE calls (id int NOT NULL, called_on int NULL, who varchar(40) NULL) PARTITION BY RANGE (called_on)`,
      ...days.map((d) => `CREATE TABLE calls_p${d} PARTITION OF calls FOR VALUES FROM (${d}) TO (${d + 1})`),
      `CREATE TABLE calls_other PARTITION OF calls DEFAULT`].join(";\n"),
  ids: `CREATE TABLE ids (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v varchar(20) NOT NULL)`,
  insertIds: (n) => `INSERT INTO ids (v) SELECT 'row ' || g FROM generate_series(1, ${n}) g`,
  truncate: (t) => `TRUNCATE ${t}`,
  refreshRowFigures: (t) => `ANALYZE ${t}`,
  family: [
    `CREATE TABLE parents (id int PRIMARY KEY, name varchar(40) NOT NULL)`,
    `CREATE TABLE kids (id int PRIMARY KEY, parent_id int NOT NULL CONSTRAINT fk_kids_parents REFERENCES parents (id), buddy_id int CONSTRAINT fk_kids_buddy REFERENCES kids (id), name varchar(40) NOT NULL)`,
  ],
  kidsTrigger: [
    `CREATE FUNCTION kids_fired() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := 'fired'; RETURN NEW; END $$`,
    `CREATE TRIGGER trg_kids_fired BEFORE INSERT ON kids FOR EACH ROW EXECUTE FUNCTION kids_fired()`,
  ],
  familyDay1: [
    `INSERT INTO parents SELECT g, 'parent ' || g FROM generate_series(1, 100) g`,
    `INSERT INTO kids SELECT g, 1 + g % 100, CASE WHEN g > 1 THEN g - 1 END, 'kid ' || g FROM generate_series(1, 1000) g`,
  ],
  familyDay2: [
    `UPDATE parents SET name = name || ' v2' WHERE id % 10 = 0`,
    `INSERT INTO parents SELECT g, 'parent ' || g FROM generate_series(101, 110) g`,
    `UPDATE kids SET buddy_id = NULL WHERE buddy_id IN (SELECT id FROM kids WHERE parent_id = 100 OR id > 990)`,
    `DELETE FROM kids WHERE parent_id = 100 OR id > 990`,
    `DELETE FROM parents WHERE id = 100`,
    `INSERT INTO kids VALUES (1001, 101, NULL, 'kid 1001')`,
    `INSERT INTO kids SELECT g, 101 + g % 10, g - 1, 'kid ' || g FROM generate_series(1001, 1050) g WHERE g > 1001`,
  ],
  untrustedKeys: `SELECT count(*)::text FROM pg_constraint WHERE contype = 'f' AND NOT convalidated`,
  types: `CREATE TABLE types (id int PRIMARY KEY, d38 numeric(38,10), n19 numeric(19,4), m money, ts6 timestamp(6), tstz timestamptz(6), t6 time(6),
    u uuid, b bytea, s text, x xml)`,
  insertTypes: [
    `INSERT INTO types VALUES (1, 9999999999999999999999999999.9999999999, 999999999999999.9999, '92233720368547758.07', '9999-12-31 23:59:59.999999', '2025-01-01 10:00:00.123456+02',
      '23:59:59.999999', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\x00ff00ff', 'ü 😀 𝄞', '<a b="1">ü &amp; 😀</a>')`,
    `INSERT INTO types VALUES (2, -9999999999999999999999999999.9999999999, -999999999999999.9999, '-92233720368547758.08', '0001-01-01 00:00:00', '0001-01-01 00:00:00+00',
      '00:00:00', '00000000-0000-0000-0000-000000000000', '\\x', '', '<a/>')`,
    `INSERT INTO types VALUES (3, -0.0000000001, 0.0001, '0.01', '2025-06-30 12:00:00.000001', '2025-06-30 23:30:00.000001-09:30', '12:00:00.000001', '123e4567-e89b-12d3-a456-426614174000', NULL, NULL, NULL)`,
  ],
  typesAsText: `SELECT id, d38::text, n19::text, m::numeric::text, ts6::text, tstz::text, t6::text, u::text, encode(b, 'hex'), s, x::text FROM types ORDER BY id`,
  tickets: `CREATE TABLE tickets (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, owner varchar(20) NOT NULL, total numeric(12,2) NOT NULL, opened date NOT NULL)`,
  insertTickets: (n, owner) => `INSERT INTO tickets (owner, total, opened) SELECT '${owner}', g * 1.25, date '2025-01-01' + g FROM generate_series(1, ${n}) g`,
  ticketsDay2: [`UPDATE tickets SET total = total + 1 WHERE id % 10 = 0`, `DELETE FROM tickets WHERE id % 50 = 0`, `INSERT INTO tickets (owner, total, opened) SELECT 'prod', g, date '2025-06-01' FROM generate_series(1, 20) g`],
  // Roles are the cluster's: created once, whichever database asks first.
  uatObjects: [
    `CREATE INDEX ix_tickets_uat_owner ON tickets (owner, opened)`,
    `DO $$ BEGIN CREATE ROLE uat_testers NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    `GRANT SELECT ON tickets TO uat_testers`,
  ],
  uatIndexPresent: `SELECT count(*)::text FROM pg_indexes WHERE tablename = 'tickets' AND indexname = 'ix_tickets_uat_owner'`,
  uatGrantPresent: `SELECT count(*)::text FROM information_schema.role_table_grants WHERE table_name = 'tickets' AND grantee = 'uat_testers' AND privilege_type = 'SELECT'`,
  invoices: [`CREATE SEQUENCE invoice_no_seq AS bigint START 1`, `CREATE TABLE invoices (invoice_no bigint NOT NULL DEFAULT nextval('invoice_no_seq') PRIMARY KEY, customer varchar(20) NOT NULL)`],
  insertInvoices: (n, customer) => `INSERT INTO invoices (customer) SELECT '${customer}' FROM generate_series(1, ${n})`,
  shops: [
    `CREATE TABLE shops (id int PRIMARY KEY, name varchar(40) NOT NULL)`,
    `CREATE TABLE sales (id int PRIMARY KEY, shop_id int NOT NULL CONSTRAINT fk_sales_shops REFERENCES shops (id), note varchar(40) NOT NULL)`,
  ],
  salesTrigger: [
    `CREATE FUNCTION sales_fired() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'fired'; RETURN NEW; END $$`,
    `CREATE TRIGGER trg_sales_fired BEFORE INSERT ON sales FOR EACH ROW EXECUTE FUNCTION sales_fired()`,
  ],
  shopsDay1: [`INSERT INTO shops SELECT g, 'shop ' || g FROM generate_series(1, 50) g`, `INSERT INTO sales SELECT g, 1 + g % 50, 'sale ' || g FROM generate_series(1, 500) g`],
  shopsDay2: [
    `UPDATE shops SET name = name || ' v2' WHERE id % 10 = 0`,
    `INSERT INTO shops SELECT g, 'shop ' || g FROM generate_series(51, 55) g`,
    `DELETE FROM sales WHERE shop_id = 50`,
    `DELETE FROM shops WHERE id = 50`,
    `UPDATE sales SET note = note || ' v2' WHERE id % 7 = 0`,
    `INSERT INTO sales SELECT g, 51 + g % 5, 'sale ' || g FROM generate_series(501, 520) g`,
  ],
  people: `CREATE TABLE people (id bigint PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, first_name varchar(40), phone varchar(30), born date, note varchar(200))`,
  insertPeople: (from, to) =>
    `INSERT INTO people SELECT g, 'user' || g || '@corp.example', 'Name' || (g % 500), '+44 20 7946 ' || lpad((g % 10000)::text, 4, '0'), date '1950-01-01' + g,
      CASE WHEN g % 2 = 0 THEN 'private note ' || g END FROM generate_series(${from}, ${to}) g`,
  visits: `CREATE TABLE visits (id int PRIMARY KEY, at date NOT NULL, who varchar(20) NOT NULL)`,
  insertVisits: (from, to, who) => `INSERT INTO visits SELECT g, date '2025-01-01' + g, '${who}' FROM generate_series(${from}, ${to}) g`,
  futureVisit: `INSERT INTO visits VALUES (1000, date '2031-01-01', 'tester')`,
  ledger: `CREATE TABLE ledger (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, memo varchar(40) NOT NULL)`,
  insertLedger: (from, to, memo) => `INSERT INTO ledger SELECT g, g * 0.5, '${memo}' FROM generate_series(${from}, ${to}) g`,
  lines: `CREATE TABLE lines (id int PRIMARY KEY, qty int NOT NULL, price numeric(10,2) NOT NULL, total numeric(21,2) GENERATED ALWAYS AS (qty * price) STORED)`,
  linesUat: `CREATE TABLE lines (id int PRIMARY KEY, qty int NOT NULL, price numeric(10,2) NOT NULL, total numeric(21,2) GENERATED ALWAYS AS (qty * price) STORED, doubled int GENERATED ALWAYS AS (qty * 2) STORED NOT NULL)`,
  insertLines: (from, to) => `INSERT INTO lines (id, qty, price) SELECT g, g % 7 + 1, (g % 100) * 1.25 FROM generate_series(${from}, ${to}) g`,
  persons: [
    `CREATE DOMAIN person_name AS varchar(50)`,
    `CREATE DOMAIN flag AS boolean NOT NULL`,
    `CREATE TABLE persons (id int PRIMARY KEY, first_name person_name NOT NULL, active flag NOT NULL, rowguid uuid NOT NULL DEFAULT gen_random_uuid(), nick varchar(20))`,
  ],
  insertPersons: (from, to) => `INSERT INTO persons (id, first_name, active, nick) SELECT g, 'Ünal ' || g, g % 2 = 0, CASE WHEN g % 3 = 0 THEN 'n' || g END FROM generate_series(${from}, ${to}) g`,
  stamps: `CREATE TABLE stamps (id int PRIMARY KEY, at timestamptz NOT NULL)`,
  insertStamps: (rows) => `INSERT INTO stamps VALUES ${rows.map(([id, at]) => `(${id}, '${at}')`).join(", ")}`,
  quote: (n) => `"${n.replace(/"/g, '""')}"`,
  holdTableLock: (t) => `BEGIN; LOCK TABLE ${t} IN ACCESS SHARE MODE`,
  commit: "COMMIT",
  oddTable: (t, k, v) => `CREATE TABLE ${t} (${k} int PRIMARY KEY, ${v} varchar(40))`,
  insertOdd: (t, from, to) => `INSERT INTO ${t} SELECT g, 'v' || g FROM generate_series(${from}, ${to}) g`,
  settings: `CREATE TABLE settings (name varchar(40) PRIMARY KEY, url varchar(200), owner varchar(20) NOT NULL)`,
  settingsProduction: `INSERT INTO settings VALUES ('site', 'https://shop.example.com', 'prod'), ('api', 'https://api.example.com', 'prod')`,
  settingsUat: `INSERT INTO settings VALUES ('site', 'https://uat.shop.example.com', 'uat'), ('old', 'x', 'uat'), ('tester-flag', 'on', 'tester')`,
  committingProcedure: `CREATE PROCEDURE commit_now() LANGUAGE plpgsql AS $$ BEGIN UPDATE steps_items SET label = 'committed' WHERE id = 1; COMMIT; END $$`,
  callCommittingProcedure: "CALL commit_now()",
  accounts: `CREATE TABLE accounts (id int PRIMARY KEY, owner varchar(40) NOT NULL)`,
  insertAccounts: (from, to) => `INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(${from}, ${to}) g`,
  accountsTrigger: [
    `CREATE OR REPLACE FUNCTION accounts_shout() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.owner := upper(NEW.owner); RETURN NEW; END $$`,
    `CREATE TRIGGER accounts_shout BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_shout()`,
  ],
  dropAccountsTrigger: `DROP TRIGGER accounts_shout ON accounts`,
  membersSource: `CREATE TABLE members (id int PRIMARY KEY, name varchar(50) NOT NULL, score numeric(8,2), seen timestamp(6))`,
  insertMembers: (n) => `INSERT INTO members SELECT g, 'a name longer than ten ' || g, g * 1.25, timestamp '2025-01-01 10:00:00.123456' + g * interval '1 hour' FROM generate_series(1, ${n}) g`,
  membersNarrow: `CREATE TABLE members (id int PRIMARY KEY, name varchar(10) NOT NULL, score numeric(6,2), seen timestamp(3))`,
  membersWiden: [`ALTER TABLE members ALTER COLUMN name TYPE varchar(50), ALTER COLUMN score TYPE numeric(8,2), ALTER COLUMN seen TYPE timestamp(6)`],
  membersNickname: [`ALTER TABLE members ADD COLUMN nickname varchar(20)`, `UPDATE members SET nickname = 'n' || id`],
  membersNicknameInUat: `ALTER TABLE members ADD COLUMN nickname varchar(20)`,
  gadgets: `CREATE TABLE gadgets (id int PRIMARY KEY, name varchar(40) NOT NULL, made date NOT NULL)`,
  gadgetsUat: `CREATE TABLE gadgets (id int PRIMARY KEY, name varchar(40) NOT NULL, made date NOT NULL, status varchar(10) NOT NULL DEFAULT 'new', note varchar(40))`,
  gadgetsUatMust: `CREATE TABLE gadgets (id int PRIMARY KEY, name varchar(40) NOT NULL, made date NOT NULL, status varchar(10) NOT NULL DEFAULT 'new', note varchar(40), must int NOT NULL)`,
  insertGadgets: (from, to) => `INSERT INTO gadgets (id, name, made) SELECT g, 'gadget ' || g, DATE '2025-01-01' + g / 50 FROM generate_series(${from}, ${to}) g`,
  leftoverTables: `SELECT count(*)::text FROM pg_class WHERE relkind = 'r' AND relname ~ '_(stg|old)_'`,
};

// Numbers without GENERATE_SERIES (SQL Server 2022 only): a cross join of a catalog view, cut with TOP.
const numbers = (from: number, to: number) =>
  `(SELECT TOP (${to - from + 1}) ${from - 1} + ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_columns AS a CROSS JOIN sys.all_columns AS b) AS s`;

const msMusic = musicRows((n) => numbers(1, n), (g) => `DATEADD(hour, ${g}, CAST('2025-01-01' AS datetime2(0)))`);

const msSql: FixtureSql = {
  music: [
    `CREATE TABLE Genre (GenreId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Genre PRIMARY KEY, Name nvarchar(120) NULL)`,
    `CREATE TABLE MediaType (MediaTypeId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_MediaType PRIMARY KEY, Name nvarchar(120) NULL)`,
    `CREATE TABLE Artist (ArtistId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Artist PRIMARY KEY, Name nvarchar(120) NULL)`,
    `CREATE TABLE Album (AlbumId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Album PRIMARY KEY, Title nvarchar(160) NOT NULL, ArtistId int NOT NULL CONSTRAINT FK_AlbumArtistId REFERENCES Artist (ArtistId))`,
    `CREATE TABLE Track (TrackId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Track PRIMARY KEY, Name nvarchar(200) NOT NULL, AlbumId int NULL CONSTRAINT FK_TrackAlbumId REFERENCES Album (AlbumId),
      MediaTypeId int NOT NULL CONSTRAINT FK_TrackMediaTypeId REFERENCES MediaType (MediaTypeId), GenreId int NULL CONSTRAINT FK_TrackGenreId REFERENCES Genre (GenreId),
      Milliseconds int NOT NULL, UnitPrice numeric(10,2) NOT NULL)`,
    `CREATE TABLE Employee (EmployeeId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Employee PRIMARY KEY, LastName nvarchar(20) NOT NULL, ReportsTo int NULL CONSTRAINT FK_EmployeeReportsTo REFERENCES Employee (EmployeeId))`,
    `CREATE TABLE Customer (CustomerId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Customer PRIMARY KEY, LastName nvarchar(20) NOT NULL, Email nvarchar(60) NOT NULL,
      SupportRepId int NULL CONSTRAINT FK_CustomerSupportRepId REFERENCES Employee (EmployeeId))`,
    `CREATE TABLE Invoice (InvoiceId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Invoice PRIMARY KEY, CustomerId int NOT NULL CONSTRAINT FK_InvoiceCustomerId REFERENCES Customer (CustomerId),
      InvoiceDate datetime2(0) NOT NULL, BillingCity nvarchar(40) NULL, Total numeric(10,2) NOT NULL)`,
    `CREATE TABLE InvoiceLine (InvoiceLineId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_InvoiceLine PRIMARY KEY, InvoiceId int NOT NULL CONSTRAINT FK_InvoiceLineInvoiceId REFERENCES Invoice (InvoiceId),
      TrackId int NOT NULL CONSTRAINT FK_InvoiceLineTrackId REFERENCES Track (TrackId), UnitPrice numeric(10,2) NOT NULL, Quantity int NOT NULL)`,
    `CREATE TABLE Playlist (PlaylistId int IDENTITY(1,1) NOT NULL CONSTRAINT PK_Playlist PRIMARY KEY, Name nvarchar(120) NULL)`,
    `CREATE TABLE PlaylistTrack (PlaylistId int NOT NULL CONSTRAINT FK_PlaylistTrackPlaylistId REFERENCES Playlist (PlaylistId),
      TrackId int NOT NULL CONSTRAINT FK_PlaylistTrackTrackId REFERENCES Track (TrackId), CONSTRAINT PK_PlaylistTrack PRIMARY KEY (PlaylistId, TrackId))`,
  ],
  musicDay1: msMusic.day1,
  musicDay2: msMusic.day2,
  musicUatObjects: [
    `CREATE INDEX IX_Track_UatName ON Track (Name)`,
    `IF DATABASE_PRINCIPAL_ID('uat_testers') IS NULL CREATE ROLE uat_testers`,
    `GRANT SELECT ON Invoice TO uat_testers`,
  ],
  musicUatIndexPresent: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.indexes WHERE object_id = OBJECT_ID('Track') AND name LIKE 'IX[_]Track[_]UatName%'`,
  musicUatGrantPresent: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.database_permissions AS p JOIN sys.database_principals AS r ON r.principal_id = p.grantee_principal_id
    WHERE p.class = 1 AND p.major_id = OBJECT_ID('Invoice') AND r.name = 'uat_testers' AND p.permission_name = 'SELECT' AND p.state = 'G'`,
  issues: `CREATE TABLE issues (id int NOT NULL PRIMARY KEY, status varchar(20) NOT NULL, changed datetime2(0) NOT NULL)`,
  requests: `CREATE TABLE requests (id int NOT NULL PRIMARY KEY, title varchar(40) NOT NULL, updated datetime2(0) NULL)`,
  placed: `CREATE TABLE placed (id int NOT NULL PRIMARY KEY, note varchar(40) NOT NULL, at datetime2(0) NOT NULL)`,
  placedCodes: `CREATE TABLE placed_codes (code varchar(20) NOT NULL PRIMARY KEY, note varchar(40) NOT NULL, at datetime2(0) NOT NULL)`,
  placedLines: `CREATE TABLE placed_lines (desk varchar(20) NOT NULL, line int NOT NULL, note varchar(40) NOT NULL, at datetime2(0) NOT NULL, PRIMARY KEY (desk, line))`,
  placedRefs: `CREATE TABLE placed_refs (ref decimal(10,2) NOT NULL PRIMARY KEY, note varchar(40) NOT NULL, at datetime2(0) NOT NULL)`,
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
  weeklySource: `CREATE TABLE weekly (id bigint NOT NULL, report_date int NOT NULL, CONSTRAINT pk_weekly_src PRIMARY KEY (report_date, id))`,
  weeklyTarget: (days) =>
    [`CREATE PARTITION FUNCTION pf_weekly (int) AS RANGE RIGHT FOR VALUES (${days.join(", ")})`,
      `CREATE PARTITION SCHEME ps_weekly AS PARTITION pf_weekly ALL TO ([PRIMARY])`,
      `CREATE TABLE weekly (id bigint NOT NULL, report_date int NOT NULL, CONSTRAINT pk_weekly PRIMARY KEY CLUSTERED (report_date, id)) ON ps_weekly (report_date)`].join(";\n"),
  insertWeekly: (day, n) => `INSERT INTO weekly SELECT g, ${day} FROM ${numbers(1, n)}`,
  callsSource: `CREATE TABLE calls (id int NOT NULL, called_on int NULL, who varchar(40) NULL)`,
  callsTarget: (days) =>
    [`CREATE PARTITION FUNCTION pf_calls (int) AS RANGE RIGHT FOR VALUES (${[...days, days[days.length - 1] + 1].join(", ")})`,
      `CREATE PARTITION SCHEME ps_calls AS PARTITION pf_calls ALL TO ([PRIMARY])`,
      `CREATE TABLE calls (id int NOT NULL, called_on int NULL, who varchar(40) NULL) ON ps_calls (called_on)`].join(";\n"),
  ids: `CREATE TABLE ids (id bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, v varchar(20) NOT NULL)`,
  insertIds: (n) => `INSERT INTO ids (v) SELECT CONCAT('row ', g) FROM ${numbers(1, n)}`,
  truncate: (t) => `TRUNCATE TABLE ${t}`,
  refreshRowFigures: () => "SELECT 1 AS kept_by_the_server",
  family: [
    `CREATE TABLE parents (id int NOT NULL PRIMARY KEY, name varchar(40) NOT NULL)`,
    `CREATE TABLE kids (id int NOT NULL PRIMARY KEY, parent_id int NOT NULL CONSTRAINT fk_kids_parents REFERENCES parents (id), buddy_id int NULL CONSTRAINT fk_kids_buddy REFERENCES kids (id), name varchar(40) NOT NULL)`,
  ],
  kidsTrigger: [`CREATE TRIGGER trg_kids_fired ON kids AFTER INSERT AS UPDATE k SET name = 'fired' FROM kids AS k JOIN inserted AS i ON i.id = k.id`],
  familyDay1: [
    `INSERT INTO parents SELECT g, CONCAT('parent ', g) FROM ${numbers(1, 100)}`,
    `INSERT INTO kids SELECT g, 1 + g % 100, CASE WHEN g > 1 THEN g - 1 END, CONCAT('kid ', g) FROM ${numbers(1, 1000)}`,
  ],
  familyDay2: [
    `UPDATE parents SET name = CONCAT(name, ' v2') WHERE id % 10 = 0`,
    `INSERT INTO parents SELECT g, CONCAT('parent ', g) FROM ${numbers(101, 110)}`,
    `UPDATE kids SET buddy_id = NULL WHERE buddy_id IN (SELECT id FROM kids WHERE parent_id = 100 OR id > 990)`,
    `DELETE FROM kids WHERE parent_id = 100 OR id > 990`,
    `DELETE FROM parents WHERE id = 100`,
    `INSERT INTO kids VALUES (1001, 101, NULL, 'kid 1001')`,
    `INSERT INTO kids SELECT g, 101 + g % 10, g - 1, CONCAT('kid ', g) FROM ${numbers(1001, 1050)} WHERE g > 1001`,
  ],
  untrustedKeys: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.foreign_keys WHERE is_not_trusted = 1 OR is_disabled = 1`,
  types: `CREATE TABLE types (id int NOT NULL PRIMARY KEY, d38 decimal(38,10) NULL, n19 numeric(19,4) NULL, m money NULL, sm smallmoney NULL, dt2 datetime2(7) NULL,
    dto datetimeoffset(7) NULL, t7 time(7) NULL, u uniqueidentifier NULL, b varbinary(max) NULL, s nvarchar(max) NULL, x xml NULL)`,
  insertTypes: [
    `INSERT INTO types VALUES (1, 9999999999999999999999999999.9999999999, 999999999999999.9999, 922337203685477.5807, 214748.3647, '9999-12-31 23:59:59.9999999',
      '2025-01-01 10:00:00.1234567 +02:00', '23:59:59.999999', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', 0x00FF00FF, N'ü 😀 𝄞', N'<a b="1">ü &amp; 😀</a>')`,
    `INSERT INTO types VALUES (2, -9999999999999999999999999999.9999999999, -999999999999999.9999, -922337203685477.5808, -214748.3648, '0001-01-01 00:00:00',
      '0001-01-01 00:00:00 -14:00', '00:00:00', '00000000-0000-0000-0000-000000000000', 0x, N'', N'<a/>')`,
    `INSERT INTO types VALUES (3, -0.0000000001, 0.0001, 418.9161, 418.9161, '2025-06-30 12:00:00.0000001', '2025-06-30 23:30:00.0000001 -09:30', '12:00:00.0000001',
      '123E4567-E89B-12D3-A456-426614174000', NULL, NULL, NULL)`,
  ],
  typesAsText: `SELECT id, CONVERT(nvarchar(50), d38), CONVERT(nvarchar(50), n19), CONVERT(nvarchar(50), CAST(m AS decimal(19, 4))),
    CONVERT(nvarchar(50), CAST(sm AS decimal(10, 4))), CONVERT(nvarchar(50), dt2, 121), CONVERT(nvarchar(50), dto, 121), CONVERT(nvarchar(50), t7, 121),
    CONVERT(nvarchar(50), u), b, s, CONVERT(nvarchar(max), x) FROM types ORDER BY id`,
  tickets: `CREATE TABLE tickets (id bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, owner varchar(20) NOT NULL, total decimal(12,2) NOT NULL, opened date NOT NULL)`,
  insertTickets: (n, owner) => `INSERT INTO tickets (owner, total, opened) SELECT '${owner}', g * 1.25, DATEADD(day, g, CAST('2025-01-01' AS date)) FROM ${numbers(1, n)}`,
  ticketsDay2: [`UPDATE tickets SET total = total + 1 WHERE id % 10 = 0`, `DELETE FROM tickets WHERE id % 50 = 0`, `INSERT INTO tickets (owner, total, opened) SELECT 'prod', g, CAST('2025-06-01' AS date) FROM ${numbers(1, 20)}`],
  uatObjects: [`CREATE INDEX ix_tickets_uat_owner ON tickets (owner, opened)`, `CREATE ROLE uat_testers`, `GRANT SELECT ON tickets TO uat_testers`],
  // LIKE: Babelfish stores an index under its name with the table's name and a hash appended.
  uatIndexPresent: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.indexes WHERE object_id = OBJECT_ID('tickets') AND name LIKE 'ix[_]tickets[_]uat[_]owner%'`,
  uatGrantPresent: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.database_permissions AS p JOIN sys.database_principals AS r ON r.principal_id = p.grantee_principal_id
    WHERE p.class = 1 AND p.major_id = OBJECT_ID('tickets') AND r.name = 'uat_testers' AND p.permission_name = 'SELECT' AND p.state = 'G'`,
  invoices: [
    `CREATE SEQUENCE invoice_no_seq AS bigint START WITH 1`,
    `CREATE TABLE invoices (invoice_no bigint NOT NULL CONSTRAINT df_invoice_no DEFAULT (NEXT VALUE FOR invoice_no_seq) PRIMARY KEY, customer varchar(20) NOT NULL)`,
  ],
  insertInvoices: (n, customer) => `INSERT INTO invoices (customer) SELECT '${customer}' FROM ${numbers(1, n)}`,
  shops: [
    `CREATE TABLE shops (id int NOT NULL PRIMARY KEY, name varchar(40) NOT NULL)`,
    `CREATE TABLE sales (id int NOT NULL PRIMARY KEY, shop_id int NOT NULL CONSTRAINT fk_sales_shops REFERENCES shops (id), note varchar(40) NOT NULL)`,
  ],
  salesTrigger: [`CREATE TRIGGER trg_sales_fired ON sales AFTER INSERT AS UPDATE s SET note = 'fired' FROM sales AS s JOIN inserted AS i ON i.id = s.id`],
  shopsDay1: [`INSERT INTO shops SELECT g, CONCAT('shop ', g) FROM ${numbers(1, 50)}`, `INSERT INTO sales SELECT g, 1 + g % 50, CONCAT('sale ', g) FROM ${numbers(1, 500)}`],
  shopsDay2: [
    `UPDATE shops SET name = CONCAT(name, ' v2') WHERE id % 10 = 0`,
    `INSERT INTO shops SELECT g, CONCAT('shop ', g) FROM ${numbers(51, 55)}`,
    `DELETE FROM sales WHERE shop_id = 50`,
    `DELETE FROM shops WHERE id = 50`,
    `UPDATE sales SET note = CONCAT(note, ' v2') WHERE id % 7 = 0`,
    `INSERT INTO sales SELECT g, 51 + g % 5, CONCAT('sale ', g) FROM ${numbers(501, 520)}`,
  ],
  people: `CREATE TABLE people (id bigint NOT NULL PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, first_name nvarchar(40) NULL, phone varchar(30) NULL, born date NULL, note nvarchar(200) NULL)`,
  insertPeople: (from, to) =>
    `INSERT INTO people SELECT g, CONCAT('user', g, '@corp.example'), CONCAT('Name', g % 500), CONCAT('+44 20 7946 ', RIGHT(CONCAT('0000', g % 10000), 4)), DATEADD(day, g, CAST('1950-01-01' AS date)),
      CASE WHEN g % 2 = 0 THEN CONCAT('private note ', g) END FROM ${numbers(from, to)}`,
  visits: `CREATE TABLE visits (id int NOT NULL PRIMARY KEY, at date NOT NULL, who varchar(20) NOT NULL)`,
  insertVisits: (from, to, who) => `INSERT INTO visits SELECT g, DATEADD(day, g, CAST('2025-01-01' AS date)), '${who}' FROM ${numbers(from, to)}`,
  futureVisit: `INSERT INTO visits VALUES (1000, CAST('2031-01-01' AS date), 'tester')`,
  ledger: `CREATE TABLE ledger (id int NOT NULL PRIMARY KEY, amount decimal(12,2) NOT NULL, memo varchar(40) NOT NULL)`,
  insertLedger: (from, to, memo) => `INSERT INTO ledger SELECT g, g * 0.5, '${memo}' FROM ${numbers(from, to)}`,
  lines: `CREATE TABLE lines (id int NOT NULL PRIMARY KEY, qty int NOT NULL, price decimal(10,2) NOT NULL, total AS (qty * price) PERSISTED)`,
  linesUat: `CREATE TABLE lines (id int NOT NULL PRIMARY KEY, qty int NOT NULL, price decimal(10,2) NOT NULL, total AS (qty * price) PERSISTED, doubled AS (qty * 2) PERSISTED NOT NULL)`,
  insertLines: (from, to) => `INSERT INTO lines (id, qty, price) SELECT g, g % 7 + 1, (g % 100) * 1.25 FROM ${numbers(from, to)}`,
  persons: [
    `CREATE TYPE dbo.Name FROM nvarchar(50) NULL`,
    `CREATE TYPE dbo.Flag FROM bit NOT NULL`,
    `CREATE TABLE persons (id int NOT NULL PRIMARY KEY, first_name dbo.Name NOT NULL, active dbo.Flag NOT NULL, rowguid uniqueidentifier ROWGUIDCOL NOT NULL DEFAULT NEWID(), nick nvarchar(20) SPARSE NULL)`,
  ],
  insertPersons: (from, to) =>
    `INSERT INTO persons (id, first_name, active, nick) SELECT g, N'Ünal ' + CAST(g AS nvarchar(10)), g % 2, CASE WHEN g % 3 = 0 THEN N'n' + CAST(g AS nvarchar(10)) END FROM ${numbers(from, to)}`,
  stamps: `CREATE TABLE stamps (id int NOT NULL PRIMARY KEY, at datetimeoffset(7) NOT NULL)`,
  insertStamps: (rows) => `INSERT INTO stamps VALUES ${rows.map(([id, at]) => `(${id}, '${at}')`).join(", ")}`,
  quote: (n) => `[${n.replace(/]/g, "]]")}]`,
  holdTableLock: (t) => `BEGIN TRANSACTION; SELECT COUNT(*) AS n FROM ${t} WITH (TABLOCK, HOLDLOCK)`,
  commit: "COMMIT TRANSACTION",
  oddTable: (t, k, v) => `CREATE TABLE ${t} (${k} int NOT NULL PRIMARY KEY, ${v} nvarchar(40) NULL)`,
  insertOdd: (t, from, to) => `INSERT INTO ${t} SELECT g, CONCAT(N'v', g) FROM ${numbers(from, to)}`,
  settings: `CREATE TABLE settings (name varchar(40) NOT NULL PRIMARY KEY, url varchar(200) NULL, owner varchar(20) NOT NULL)`,
  settingsProduction: `INSERT INTO settings VALUES ('site', 'https://shop.example.com', 'prod'), ('api', 'https://api.example.com', 'prod')`,
  settingsUat: `INSERT INTO settings VALUES ('site', 'https://uat.shop.example.com', 'uat'), ('old', 'x', 'uat'), ('tester-flag', 'on', 'tester')`,
  committingProcedure: "CREATE PROCEDURE dbo.commit_now AS BEGIN UPDATE steps_items SET label = 'committed' WHERE id = 1; COMMIT TRANSACTION; END",
  callCommittingProcedure: "EXEC dbo.commit_now",
  accounts: `CREATE TABLE accounts (id int NOT NULL PRIMARY KEY, owner varchar(40) NOT NULL)`,
  insertAccounts: (from, to) => `INSERT INTO accounts SELECT g, CONCAT('owner ', g) FROM ${numbers(from, to)}`,
  accountsTrigger: [`CREATE TRIGGER accounts_shout ON accounts AFTER INSERT AS UPDATE a SET owner = UPPER(a.owner) FROM accounts AS a JOIN inserted AS i ON i.id = a.id`],
  dropAccountsTrigger: `DROP TRIGGER accounts_shout`,
  // nvarchar: the catalog counts bytes (two per character); the product must say characters on both sides.
  membersSource: `CREATE TABLE members (id int NOT NULL PRIMARY KEY, name nvarchar(50) NOT NULL, score decimal(8,2) NULL, seen datetime2(7) NULL)`,
  insertMembers: (n) =>
    `INSERT INTO members SELECT g, CONCAT(N'a name longer than ten ', g), g * 1.25, DATEADD(hour, g, CAST('2025-01-01 10:00:00.1234567' AS datetime2(7))) FROM ${numbers(1, n)}`,
  membersNarrow: `CREATE TABLE members (id int NOT NULL PRIMARY KEY, name nvarchar(10) NOT NULL, score decimal(6,2) NULL, seen datetime2(3) NULL)`,
  // Without NULL / NOT NULL (Babelfish refuses either in ALTER COLUMN): the column then allows NULLs, and UAT allowing
  // NULLs production does not is no drift.
  membersWiden: [`ALTER TABLE members ALTER COLUMN name nvarchar(50)`, `ALTER TABLE members ALTER COLUMN score decimal(8,2)`, `ALTER TABLE members ALTER COLUMN seen datetime2(7)`],
  membersNickname: [`ALTER TABLE members ADD nickname nvarchar(20) NULL`, `UPDATE members SET nickname = CONCAT(N'n', id)`],
  membersNicknameInUat: `ALTER TABLE members ADD nickname nvarchar(20) NULL`,
  gadgets: `CREATE TABLE gadgets (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL, made date NOT NULL)`,
  gadgetsUat: `CREATE TABLE gadgets (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL, made date NOT NULL, status nvarchar(10) NOT NULL DEFAULT N'new', note nvarchar(40) NULL)`,
  gadgetsUatMust: `CREATE TABLE gadgets (id int NOT NULL PRIMARY KEY, name nvarchar(40) NOT NULL, made date NOT NULL, status nvarchar(10) NOT NULL DEFAULT N'new', note nvarchar(40) NULL, must int NOT NULL)`,
  insertGadgets: (from, to) => `INSERT INTO gadgets (id, name, made) SELECT g, CONCAT(N'gadget ', g), DATEADD(day, g / 50, CAST('2025-01-01' AS date)) FROM ${numbers(from, to)}`,
  leftoverTables: `SELECT CAST(COUNT(*) AS nvarchar(10)) FROM sys.tables WHERE name LIKE '%[_]stg[_]%' OR name LIKE '%[_]old[_]%'`,
};

function pgSide(client: pg.Client): Side {
  return {
    exec: async (sql) => void (await client.query(sql)),
    fingerprint: (t) => fingerprint(client, t),
    scalar: async (sql) => Object.values((await client.query(sql)).rows[0] ?? {})[0] as string | null,
    rows: async (sql) => (await client.query({ text: sql, rowMode: "array" })).rows,
  };
}

/** A row's values as the driver hands them, as text both sides compare equal (dates as ISO, binary as hex). */
const valueText = (v: unknown) => (v instanceof Date ? v.toISOString() : Buffer.isBuffer(v) ? v.toString("hex") : v === null ? "\u0000NULL" : String(v));

function msSide(s: Session): Side {
  return {
    exec: async (sql) => void (await s.execute({ sql, params: [] })),
    // Count and an order-independent checksum of every row, computed here from the rows as read (CHECKSUM_AGG is
    // not on every TDS server; the conformance tables are small).
    fingerprint: async (t) => {
      const rows = await s.query<Record<string, unknown>>({ sql: `SELECT * FROM ${t}`, params: [] });
      let sum = 0n;
      for (const r of rows) sum += BigInt(`0x${createHash("sha256").update(JSON.stringify(Object.values(r).map(valueText))).digest("hex").slice(0, 15)}`);
      return { count: rows.length, sum: sum.toString() };
    },
    scalar: async (sql) => Object.values((await s.query<Record<string, string>>({ sql, params: [] }))[0] ?? {})[0] ?? null,
    rows: async (sql) => (await s.query<Record<string, unknown>>({ sql, params: [] })).map((r) => Object.values(r)),
  };
}

export async function postgresDb(): Promise<ConformanceDb> {
  const env = await createTestEnv();
  return {
    env,
    capabilities: async () => undefined,
    server: (await env.target.query("SELECT version() AS v")).rows[0].v as string,
    source: pgSide(env.source),
    target: pgSide(env.target),
    sql: pgSql,
    config: async (tables, settings, steps) => void (await env.config(tables, settings, steps)),
    // This environment's database only: other test files' refreshes run on the same server at the same time.
    endRunSessions: async (side) =>
      (
        await env.source.query<{ n: number }>("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND datname = $2", [
          `${RUN_SESSION_PREFIX}% (${side})`,
          new URL(side === "source" ? env.sourceUrl : env.targetUrl).pathname.slice(1),
        ])
      ).rows[0].n,
    close: () => env.close(),
  };
}

/** TLS of the test server's URL: ?encrypt=false|true|strict&trustServerCertificate=true|false (default: encrypted, the
 *  server's certificate trusted, as a test server's usually is self-signed). */
function mssqlTls(u: URL): Record<string, string | boolean> {
  return { encrypt: u.searchParams.get("encrypt") ?? true, trustServerCertificate: u.searchParams.get("trustServerCertificate") !== "false" };
}

export async function sqlServerDb(url: string): Promise<ConformanceDb> {
  const env = await createTestEnv(); // the metadata DB stays PostgreSQL
  const u = new URL(url);
  process.env.UAT_REFRESH_DB_MSSQL_USER = decodeURIComponent(u.username);
  process.env.UAT_REFRESH_DB_MSSQL_PASSWORD = decodeURIComponent(u.password);
  const tls = mssqlTls(u);
  const base = { engine: "sqlserver" as const, host: u.hostname, port: Number(u.port || 1433), user: process.env.UAT_REFRESH_DB_MSSQL_USER, password: process.env.UAT_REFRESH_DB_MSSQL_PASSWORD, options: tls };
  const opts = { readOnly: false, connectionTimeoutSec: 30, commandTimeoutSec: 300 };
  const id = `uatr_${randomBytes(4).toString("hex")}`;
  const master = await connectSqlServer({ ...base, database: "master" }, opts);
  for (const side of ["src", "tgt"]) await master.execute({ sql: `CREATE DATABASE [${id}_${side}]`, params: [] });
  const source = await connectSqlServer({ ...base, database: `${id}_src` }, opts);
  const target = await connectSqlServer({ ...base, database: `${id}_tgt` }, opts);
  const database = (name: string) => ({ engine: "sqlserver", server: u.hostname, port: Number(u.port || 1433), database: name, username_env: "UAT_REFRESH_DB_MSSQL_USER", password_env: "UAT_REFRESH_DB_MSSQL_PASSWORD", options: tls });
  const [banner] = await master.query<{ v: string }>({ sql: "SELECT @@VERSION AS v", params: [] });
  return {
    env,
    capabilities: () => target.capabilities!(),
    server: banner.v,
    source: msSide(source),
    target: msSide(target),
    sql: msSql,
    config: async (tables, settings = {}, steps) => {
      await importConfig(
        env.db,
        configSchema.parse({
          databases: { source: database(`${id}_src`), target: database(`${id}_tgt`) },
          tables,
          post_refresh_steps: steps,
          settings: { default_batch_size: 10000, connection_timeout: 30, command_timeout: 300, max_retries: 0, ...settings },
        }),
      );
    },
    endRunSessions: async (side) => {
      // This run's database only: another suite may be refreshing on the same server.
      const ids = await master.query<{ id: number }>({
        sql: "SELECT session_id AS id FROM sys.dm_exec_sessions WHERE program_name LIKE @p1 AND database_id = DB_ID(@p2)",
        params: [`${RUN_SESSION_PREFIX}% (${side})`, `${id}_${side === "source" ? "src" : "tgt"}`],
      });
      for (const { id } of ids) await master.execute({ sql: `KILL ${Number(id)}`, params: [] });
      return ids.length;
    },
    close: async () => {
      await Promise.all([source.close(), target.close()]);
      for (const side of ["src", "tgt"]) {
        // SINGLE_USER ends sessions still open on it; a server without ALTER DATABASE drops it as it is.
        await master.execute({ sql: `ALTER DATABASE [${id}_${side}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`, params: [] }).catch(() => {});
        await master.execute({ sql: `DROP DATABASE [${id}_${side}]`, params: [] }).catch(() => {});
      }
      await master.close();
      await env.close();
    },
  };
}

// SQL Server behaviour that a grammar parse cannot see, checked against modelled catalog states (no server):
// partition layouts (RANGE RIGHT / LEFT, open-ended first and last ranges, int / date / datetime2 keys) driven
// through the real staging_partition_switch strategy, identity columns through tedious' own BulkLoad, database
// identity of restored and aliased databases, and CLR-typed columns through the introspector's join.
import { Readable } from "node:stream";
import { Connection } from "tedious";
import { describe, expect, it } from "vitest";
import type { TableConfigInput } from "../../lib/config/schema";
import { bindStepParameters } from "../../lib/config/step-parameters";
import { settingsSchema } from "../../lib/config/schema";
import { sqlServerDialect } from "../../lib/dialects/sqlserver";
import { sqlServerCompiler } from "../../lib/dialects/sqlserver/compiler";
import { bulkLoad, DRIVER_SQL, identityOf, rowPuller, sentAs, type BulkConnection, type IdentityRow } from "../../lib/dialects/sqlserver/driver";
import { SQL, sqlServerIntrospector } from "../../lib/dialects/sqlserver/introspector";
import { sameDatabase, type ColumnInfo } from "../../lib/dialects/types";
import { resolveTable } from "../../lib/engine/context";
import { ProgressTracker } from "../../lib/engine/progress";
import { partitionSwitch } from "../../lib/engine/strategies/partition-switch";
import { modelSession, privilegesAsked, SqlServerModel, type KeyType, type IndexFact, type PartitionedTable, type Structure } from "../support/sqlserver-model";
import { tsqlErrors } from "../support/tsql-check";

const TABLE = { schema: "dbo", name: "daily_reports" };

function layout(keyType: KeyType, rangeRight: boolean, boundaries: string[], rows: string[], filegroups?: string[]): PartitionedTable {
  return { table: TABLE, key: "report_date", keyType, functionName: "pf_daily_reports", schemeName: "ps_daily_reports", rangeRight, boundaries, rows, filegroups };
}

/** Runs the real strategy (plan, then execute) with the SQL Server dialect over a modelled target and source. */
async function refresh(target: PartitionedTable, sourceRows: string[], config: Partial<TableConfigInput> = {}) {
  const model = new SqlServerModel(target);
  const sessions = {
    source: modelSession({ table: TABLE, key: "report_date", keyType: target.keyType, rows: sourceRows }, "source"),
    target: modelSession(model, "target"),
    async reopen() {},
  };
  const table: TableConfigInput = { name: "daily_reports", schema: "dbo", strategy: "staging_partition_switch", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true, ...config };
  const ctx = await resolveTable(table, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", table.name));
  const plan = await partitionSwitch.plan(ctx);
  const outcome = await partitionSwitch.execute(ctx, plan);
  return { model, plan, outcome };
}

function expectGrammarValid(model: SqlServerModel) {
  const bad = model.statements.map((sql) => ({ sql, errors: tsqlErrors(sql) })).filter((r) => r.errors.length);
  expect(bad).toEqual([]);
}

const sorted = (rows: string[]) => [...rows].sort();
const switches = (model: SqlServerModel) => model.statements.filter((s) => / SWITCH /.test(s));

describe("staging_partition_switch on modelled SQL Server partition functions", () => {
  it("adds days after the last boundary of a RANGE RIGHT function (the open-ended last range)", async () => {
    // pf_daily(int) AS RANGE RIGHT FOR VALUES (20250101, 20250102, 20250103): 20250103 and every later day fall in
    // partition 4, [20250103, +inf).
    const { model, plan, outcome } = await refresh(layout("int", true, ["20250101", "20250102", "20250103"], ["20250101", "20250102", "20250103"]), [
      "20250103",
      "20250103",
      "20250104",
    ]);
    expect(plan.days).toEqual([20250103, 20250104]);
    expect(plan.missingDays).toEqual([20250103, 20250104]);
    expect(model.t.boundaries).toEqual(["20250101", "20250102", "20250103", "20250104", "20250105"]);
    expect(model.movedRows).toBe(0);
    expect(outcome.partitionsSwitched).toEqual(["20250103", "20250104"]);
    expect(sorted(model.t.rows)).toEqual(["20250101", "20250102", "20250103", "20250103", "20250104"]);
    expect(model.partitionNumber("20250104")).toBe(5);
    expectGrammarValid(model);
  });

  it("runs the original design's example: partition 20250206 exists, rows for 20250207 and 20250208 arrive", async () => {
    const { model, plan, outcome } = await refresh(
      layout("int", true, ["20250205", "20250206"], ["20250205", "20250206", "20250206"]),
      ["20250205", "20250206", "20250206", "20250207", "20250208", "20250208"],
      { sync_mode: "incremental", incremental_column: "report_date", incremental_type: "date", date_buffer_days: 1 },
    );
    expect(plan.days).toEqual([20250205, 20250206, 20250207, 20250208]);
    expect(outcome.partitionsCreated).toEqual(["20250206", "20250207", "20250208"]);
    expect(outcome.partitionsSwitched).toEqual(["20250205", "20250206", "20250207", "20250208"]);
    expect(model.t.boundaries).toEqual(["20250205", "20250206", "20250207", "20250208", "20250209"]);
    expect(model.movedRows).toBe(0);
    expect(sorted(model.t.rows)).toEqual(["20250205", "20250206", "20250206", "20250207", "20250208", "20250208"]);
    expectGrammarValid(model);
  });

  it("adds a day before the first boundary (the open-ended first range) on the filegroup that range uses", async () => {
    const { model } = await refresh(layout("int", true, ["20250110", "20250111"], ["20250110"], ["FG_OLD", "FG_A", "FG_B"]), ["20250105", "20250110"]);
    expect(model.t.boundaries).toEqual(["20250105", "20250106", "20250110", "20250111"]);
    expect(model.t.filegroups).toEqual(["FG_OLD", "FG_OLD", "FG_OLD", "FG_A", "FG_B"]);
    expect(model.movedRows).toBe(0);
    expect(sorted(model.t.rows)).toEqual(["20250105", "20250110"]);
  });

  it("handles RANGE LEFT functions, whose boundary belongs to the partition on its left", async () => {
    // RANGE LEFT (20250101, 20250102): partitions (-inf, 20250101], (20250101, 20250102], (20250102, +inf).
    const { model, outcome } = await refresh(layout("int", false, ["20250101", "20250102"], ["20250101", "20250102"]), ["20250102", "20250103", "20250201"]);
    expect(outcome.partitionsSwitched).toEqual(["20250102", "20250103", "20250201"]);
    expect(model.t.boundaries).toEqual(["20250101", "20250102", "20250103", "20250131", "20250201"]);
    expect(model.movedRows).toBe(0);
    expect(sorted(model.t.rows)).toEqual(["20250101", "20250102", "20250103", "20250201"]);
    expectGrammarValid(model);
  });

  it("handles date keys, RANGE RIGHT and RANGE LEFT, across a month end", async () => {
    for (const rangeRight of [true, false]) {
      const { model } = await refresh(layout("date", rangeRight, ["2025-01-30", "2025-01-31"], ["2025-01-30"]), ["2025-01-30", "2025-01-31", "2025-02-01"]);
      expect(model.movedRows).toBe(0);
      expect(sorted(model.t.rows)).toEqual(["2025-01-30", "2025-01-31", "2025-02-01"]);
      expect(model.t.boundaries).toContain(rangeRight ? "2025-02-02" : "2025-02-01");
      expectGrammarValid(model);
    }
  });

  it("handles datetime2 keys with RANGE RIGHT, and reads a noon boundary as a noon boundary", async () => {
    const { model } = await refresh(layout("datetime2", true, ["2025-01-01 00:00:00.0000000", "2025-01-02 00:00:00.0000000"], ["2025-01-01 10:00:00.0000000"]), [
      "2025-01-02 09:30:00.0000000",
      "2025-01-03 23:59:59.9999999",
    ]);
    expect(model.t.boundaries).toEqual(["2025-01-01 00:00:00.0000000", "2025-01-02 00:00:00.0000000", "2025-01-03 00:00:00.0000000", "2025-01-04 00:00:00.0000000"]);
    expect(model.movedRows).toBe(0);
    expectGrammarValid(model);

    // A boundary at noon: [2025-01-05 00:00, 2025-01-05 12:00) is not the day 2025-01-05; it must be split to a day.
    await expect(refresh(layout("datetime2", true, ["2025-01-05 00:00:00.0000000", "2025-01-05 12:00:00.0000000"], []), ["2025-01-05 08:00:00.0000000"])).rejects.toThrow(
      /day 20250105: pf_daily_reports has a boundary inside day 20250105/,
    );
  });

  it("refuses RANGE LEFT on a datetime2 key before touching anything", async () => {
    const target = layout("datetime2", false, ["2025-01-01 00:00:00.0000000"], ["2025-01-01 00:00:00.0000000"]);
    await expect(refresh(target, ["2025-01-02 10:00:00.0000000"])).rejects.toThrow(/RANGE LEFT on the date-time column report_date/);
    expect(target.boundaries).toEqual(["2025-01-01 00:00:00.0000000"]);
  });

  it("monthly partitions: a changed day reloads its month whole; a new month gets monthly boundaries", async () => {
    // RANGE RIGHT (20250101, 20250201, 20250301): January and February are months, [20250301, +inf) is open.
    const { model, plan, outcome } = await refresh(
      layout("int", true, ["20250101", "20250201", "20250301"], ["20250103", "20250120", "20250215", "20250216"]),
      ["20250103", "20250120", "20250121", "20250216", "20250310"],
      { sync_mode: "incremental", incremental_column: "report_date", incremental_type: "date", date_buffer_days: 5 },
    );
    // Days from 20250211 (target max 20250216 - 5): February reloaded whole, March created as a month. Below the
    // buffer production has a row of January 21 that UAT lacks (a late-arriving fact; the band of days after
    // 20250117 differs, lib/engine/late-rows): January is reloaded whole too.
    expect(plan.reason).toMatch(/^days from 20250117 \(target max 20250216 - 5 day buffer; from 20250117: production has 1 more row\(s\) in the days below the buffer than UAT/);
    expect(plan.days).toEqual([20250120, 20250216, 20250310]);
    expect(outcome.partitionsSwitched).toEqual(["20250101..20250201", "20250201..20250301", "20250301..20250401"]);
    expect(model.t.boundaries).toEqual(["20250101", "20250201", "20250301", "20250401"]);
    expect(model.movedRows).toBe(0);
    // January, February and March exactly the source's (February's 15th, gone from production, goes).
    expect(sorted(model.t.rows)).toEqual(["20250103", "20250120", "20250121", "20250216", "20250310"]);
    expectGrammarValid(model);
  });

  it("refuses a split that would move rows, leaving the function and the rows as they were", async () => {
    // Monthly function whose open-ended last range already holds a row of March 20: giving March 5 its month
    // [20250301, 20250401) would move that row.
    const target = layout("int", true, ["20250101", "20250201"], ["20250103", "20250320"]);
    await expect(refresh(target, ["20250305"])).rejects.toThrow(/refusing to split pf_daily_reports at 20250301: rows in the range it cuts off would move/);
    expect(target.boundaries).toEqual(["20250101", "20250201"]);
    expect(sorted(target.rows)).toEqual(["20250103", "20250320"]);
  });

  for (const [noSwitch, why] of [
    ["updatable ledger", "it is a ledger table (SWITCH IN / OUT is not supported for ledger tables)"],
    ["system-versioned", "it is system-versioned (SWITCH needs SYSTEM_VERSIONING off, which a refresh does not change)"],
  ] as const)
    it(`plans each day in place where UAT's table (${noSwitch}) takes no SWITCH, and says why before the run`, async () => {
      // Microsoft Learn, "Ledger considerations and limitations": "SWITCH IN/OUT partition isn't supported"; a
      // system-versioned table takes none while SYSTEM_VERSIONING is ON (the model refuses both). Before, the plan
      // promised a switch and the run failed at it after loading the staging table. The in-place path itself runs on
      // the real TDS server (the conformance suite's server without SWITCH).
      const model = new SqlServerModel({ ...layout("int", true, ["20250101", "20250102"], ["20250101", "20250102"]), noSwitch });
      expect(() => model.execute("ALTER TABLE [dbo].[x] SWITCH TO [dbo].[daily_reports] PARTITION 2")).toThrow(`SWITCH IN / OUT is not supported for the ${noSwitch} table`);
      const sessions = { source: modelSession({ table: TABLE, key: "report_date", keyType: "int", rows: ["20250102", "20250103"] }, "source"), target: modelSession(model, "target"), async reopen() {} };
      const table: TableConfigInput = { name: "daily_reports", schema: "dbo", strategy: "staging_partition_switch", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
      const ctx = await resolveTable(table, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", table.name));
      const plan = await partitionSwitch.plan(ctx);
      expect(plan.inPlace).toBe(true);
      expect(plan.reason).toContain(`UAT's table takes no SWITCH: ${why}: each day is replaced in place, in one transaction`);
      const plain = await resolveTable(table, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, { ...sessions, target: modelSession(new SqlServerModel(layout("int", true, ["20250101"], [])), "target") }, new ProgressTracker(() => {}, "run", table.name));
      expect((await partitionSwitch.plan(plain)).inPlace).toBeUndefined();
    });
});

describe("staging_partition_switch: what a cancel after a day's commit reports", () => {
  it("a cancel right after a day's switch committed counts that day's rows as committed (they stay), never fewer", async () => {
    // pf_daily_reports(int) RANGE RIGHT (20250101, 20250102, 20250103): days 20250102 (2 rows) and 20250103 (1 row).
    const model = new SqlServerModel(layout("int", true, ["20250101", "20250102", "20250103"], ["20250101", "20250102"]));
    const sessions = { source: modelSession({ table: TABLE, key: "report_date", keyType: "int", rows: ["20250102", "20250102", "20250103"] }, "source"), target: modelSession(model, "target"), async reopen() {} };
    const table: TableConfigInput = { name: "daily_reports", schema: "dbo", strategy: "staging_partition_switch", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
    const cancel = new AbortController();
    // The cancel arrives as the first day switches; the connection it cuts fails the statement after the commit.
    const progress = new ProgressTracker((e) => {
      if (e.phase !== "switching" || cancel.signal.aborted) return;
      cancel.abort("by ada");
      model.failOn = /^DROP TABLE IF EXISTS \[dbo\]\.\[daily_reports_old_/;
    }, "run", table.name);
    const ctx = await resolveTable(table, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, progress, cancel.signal);
    const plan = await partitionSwitch.plan(ctx);
    expect(plan.days).toEqual([20250102, 20250103]);
    await expect(partitionSwitch.execute(ctx, plan)).rejects.toThrow(/injected failure/);
    expect(sorted(model.t.rows)).toEqual(["20250101", "20250102", "20250102"]);
    expect(ctx.progress.committed).toBe(2);
  });

  it("a connection lost after a day's switch committed retries the tidying on fresh sessions, not the day's load and switch", async () => {
    const model = new SqlServerModel(layout("int", true, ["20250101", "20250102", "20250103"], ["20250101", "20250102"]));
    const sessions = { source: modelSession({ table: TABLE, key: "report_date", keyType: "int", rows: ["20250102", "20250102", "20250103"] }, "source"), target: modelSession(model, "target"), async reopen() {} };
    const table: TableConfigInput = { name: "daily_reports", schema: "dbo", strategy: "staging_partition_switch", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
    // The connection drops at the first statement after the first day's commit: dropping the old rows switched out.
    let switching = 0;
    const progress = new ProgressTracker((e) => {
      if (e.phase === "switching" && !switching++) model.lostOnce = /^DROP TABLE IF EXISTS \[dbo\]\.\[daily_reports_old_20250102\]/;
    }, "run", table.name);
    const ctx = await resolveTable(table, settingsSchema.parse({ max_retries: 1 }), sqlServerDialect, sessions, progress);
    const plan = await partitionSwitch.plan(ctx);
    const outcome = await partitionSwitch.execute(ctx, plan);
    expect(sorted(model.t.rows)).toEqual(["20250101", "20250102", "20250102", "20250103"]);
    expect(switching).toBe(2);
    expect(switches(model)).toHaveLength(4);
    expect(outcome.rowsWritten).toBe(3);
    expect(ctx.progress.committed).toBe(3);
    expect([...model.tables.keys()]).toEqual([]);
  });
});

describe("staging_partition_switch: a connection lost at any one statement", () => {
  it("the retry leaves exactly production's days, no staging table behind, each row counted once", async () => {
    const table: TableConfigInput = { name: "daily_reports", schema: "dbo", strategy: "staging_partition_switch", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
    const source = ["20250102", "20250102", "20250103"];
    const run = async (lostAt?: number) => {
      const model = new SqlServerModel(layout("int", true, ["20250101", "20250102", "20250103"], ["20250101", "20250102"]));
      model.lostAt = lostAt;
      const sessions = { source: modelSession({ table: TABLE, key: "report_date", keyType: "int", rows: source }, "source"), target: modelSession(model, "target"), async reopen() {} };
      const ctx = await resolveTable(table, settingsSchema.parse({ max_retries: 1 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", table.name));
      const outcome = await partitionSwitch.execute(ctx, await partitionSwitch.plan(ctx));
      return { model, ctx, outcome };
    };
    const clean = await run();
    for (let i = 0; i < clean.model.statements.length; i++) {
      const at = `lost at ${clean.model.statements[i].slice(0, 70)}`;
      const { model, ctx, outcome } = await run(i);
      expect(sorted(model.t.rows), at).toEqual(["20250101", ...source]);
      expect([...model.tables.keys()], at).toEqual([]);
      expect(outcome.rowsWritten, at).toBe(3);
      expect(ctx.progress.committed, at).toBe(3);
    }
  });
});

describe("staging_partition_switch where UAT's table takes no SWITCH of a staging table", () => {
  // A day's staging table is built as a full replace's twin is: without foreign keys, with rowstore indexes only.
  // SQL Server switches a table in or out only with the same trusted foreign keys on both sides, never one another
  // table's key references, and only with identical indexes (Microsoft Learn, "Transferring Data Efficiently by Using
  // Partition Switching": table and index structure requirements, constraint requirements); the model refuses them.
  // Before, the plan promised a switch for such a table, and the run loaded each day's staging table and then failed
  // at its SWITCH. The in-place path itself runs on the real TDS server (a server without SWITCH).
  const structure = (storage: Record<string, unknown>, indexes: IndexFact[] = []): Structure => ({
    filegroup: "ps_daily_reports",
    columns: [
      { name: "id", type: "bigint", nullable: false },
      { name: "report_date", type: "int", nullable: false },
    ],
    indexes: [{ name: "pk_daily_reports", clustered: true, unique: true, primaryKey: true, keys: [{ column: "report_date" }, { column: "id" }], dataSpace: "ps_daily_reports" }, ...indexes],
    checks: [],
    storage,
  });
  // A DBA's unique index without the partition key cannot be partitioned with the table: it is on a filegroup.
  const unaligned: IndexFact = { name: "ux_daily_reports_id", clustered: false, unique: true, primaryKey: false, keys: [{ column: "id" }], dataSpace: "PRIMARY" };
  for (const [st, why] of [
    [structure({ foreignKey: "fk_daily_reports_customer" }), "it has the foreign key fk_daily_reports_customer"],
    [structure({ referencedBy: "dbo.report_notes" }), "a foreign key of dbo.report_notes references it"],
    [structure({ otherIndex: "cci_daily_reports (CLUSTERED COLUMNSTORE)" }), "index cci_daily_reports (CLUSTERED COLUMNSTORE) is not a rowstore index"],
    [structure({}, [unaligned]), "index ux_daily_reports_id is not partitioned as the table is (it is on PRIMARY, the table on ps_daily_reports"],
  ] as const)
    it(`plans each day in place, saying why: ${why}`, async () => {
      const model = new SqlServerModel({ ...layout("int", true, ["20250101", "20250102"], ["20250101", "20250102"]), structure: st });
      expect(() => model.execute("ALTER TABLE [dbo].[x] SWITCH TO [dbo].[daily_reports] PARTITION 2")).toThrow(/ALTER TABLE SWITCH' statement failed|ALTER TABLE SWITCH statement failed/);
      const sessions = { source: modelSession({ table: TABLE, key: "report_date", keyType: "int", rows: ["20250102", "20250103"] }, "source"), target: modelSession(model, "target"), async reopen() {} };
      const table: TableConfigInput = { name: "daily_reports", schema: "dbo", strategy: "staging_partition_switch", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
      const ctx = await resolveTable(table, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", table.name));
      const plan = await partitionSwitch.plan(ctx);
      expect(plan.inPlace).toBe(true);
      expect(plan.reason).toContain(`UAT's table takes no SWITCH: ${why}`);
      expect(plan.reason).toContain("each day is replaced in place, in one transaction");
      // Without the fact, the same table is switched.
      const plain = new SqlServerModel({ ...layout("int", true, ["20250101", "20250102"], ["20250101", "20250102"]), structure: structure({}) });
      const switched = await resolveTable(table, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, { ...sessions, target: modelSession(plain, "target") }, new ProgressTracker(() => {}, "run", table.name));
      expect((await partitionSwitch.plan(switched)).inPlace).toBeUndefined();
    });
});

describe("identity columns through tedious' own bulk load", () => {
  const cols: ColumnInfo[] = [
    { name: "order_id", nativeType: "bigint", family: "integer", nullable: false, identity: true, generated: false },
    { name: "we]ird", nativeType: "nvarchar(40)", family: "text", nullable: true, identity: false, generated: false },
  ];

  /** tedious' real newBulkLoad (an unconnected Connection builds the same BulkLoad); the server side records what it
   *  would be sent: the INSERT BULK text and the rows of each bulk load. */
  function recordingConnection(serverRefusesShortBatch = false) {
    const real = new Connection({ server: "localhost", authentication: { type: "default", options: { userName: "u", password: "p" } }, options: { encrypt: false } });
    const loads: { sql: string; rows: unknown[][] }[] = [];
    let done: (err?: Error | null, rowCount?: number) => void = () => {};
    const connection: BulkConnection = {
      newBulkLoad: ((table: string, options: object, cb: (err?: Error | null, rowCount?: number) => void) => {
        done = cb;
        return real.newBulkLoad(table, options, cb);
      }) as BulkConnection["newBulkLoad"],
      execBulkLoad: ((bulk: { getBulkInsertSql(): string }, rows: AsyncIterable<unknown[]>) => {
        // As tedious does: the rows are drained into the load; a failing row source fails the bulk load.
        void (async () => {
          const load = { sql: bulk.getBulkInsertSql(), rows: [] as unknown[][] };
          for await (const r of rows) load.rows.push(r);
          loads.push(load);
          done(undefined, load.rows.length);
        })().catch((e) =>
          // What a TDS server was seen to answer a batch whose rows stopped (Babelfish, the source's session KILLed).
          done(serverRefusesShortBatch ? new Error("Trying to read more data than available in BCP request.") : e),
        );
      }) as unknown as BulkConnection["execBulkLoad"],
    };
    return { connection, loads };
  }

  async function* rows(n: number) {
    for (let i = 1; i <= n; i++) yield [i * 10, `row ${i}`];
  }

  it("lists the identity column, sends no KEEP_IDENTITY, and never an empty INSERT BULK", async () => {
    const { connection, loads } = recordingConnection();
    const n = await bulkLoad(connection, { schema: "dbo", name: "orders" }, cols, rows(6), { batchSize: 3 });
    expect(n).toBe(6);
    expect(loads.map((l) => l.rows.length)).toEqual([3, 3]);
    expect(loads[0].sql).toBe("insert bulk [dbo].[orders]([order_id] bigint, [we]]ird] nvarchar(40)) WITH (CHECK_CONSTRAINTS,KEEP_NULLS,TABLOCK)");
    expect(loads.flatMap((l) => l.rows.map((r) => r[0]))).toEqual([10, 20, 30, 40, 50, 60]);
    for (const l of loads) expect(l.sql).not.toMatch(/KEEP_IDENTITY/i);
  });

  it("sends nothing for an empty source, and a short last batch", async () => {
    const empty = recordingConnection();
    expect(await bulkLoad(empty.connection, { schema: "dbo", name: "orders" }, cols, rows(0), { batchSize: 3 })).toBe(0);
    expect(empty.loads).toEqual([]);
    const short = recordingConnection();
    await bulkLoad(short.connection, { schema: "dbo", name: "orders" }, cols, rows(7), { batchSize: 3 });
    expect(short.loads.map((l) => l.rows.length)).toEqual([3, 3, 1]);
  });

  it("hands rows over as they come: a bounded read-ahead, never the whole stream", async () => {
    let pulled = 0;
    function* counting() {
      for (let i = 0; i < 100_000; i++) {
        pulled++;
        yield [i];
      }
    }
    const pull = rowPuller(Readable.from(counting(), { highWaterMark: 16 }));
    expect(await pull()).toEqual([0]);
    expect(pulled).toBeLessThanOrEqual(17); // the stream's own buffer, then backpressure
    // Any other async iterable: exactly one row at a time.
    let asked = 0;
    const gen = (async function* () {
      for (let i = 0; i < 5; i++) {
        asked++;
        yield i;
      }
    })();
    const next = rowPuller(gen);
    expect(await next()).toBe(0);
    expect(asked).toBe(1);
  });

  it("a source error reaches the bulk load, which fails with it", async () => {
    const broken = new Readable({ objectMode: true, read() {} });
    const { connection } = recordingConnection();
    const loading = bulkLoad(connection, { schema: "dbo", name: "orders" }, cols, broken, { batchSize: 10 });
    broken.push([1, "a"]);
    setTimeout(() => broken.destroy(new Error("source connection lost")), 10);
    await expect(loading).rejects.toThrow("source connection lost");
  });

  it("a source that fails mid-batch is the load's error, even when the server then refuses the short batch", async () => {
    const broken = new Readable({ objectMode: true, read() {} });
    const { connection } = recordingConnection(true);
    const loading = bulkLoad(connection, { schema: "dbo", name: "orders" }, cols, broken, { batchSize: 10 });
    broken.push([1, "a"]);
    setTimeout(() => broken.destroy(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })), 10);
    await expect(loading).rejects.toMatchObject({ message: "socket hang up", code: "ECONNRESET" });
  });

  it("a source that failed before the bulk load began still says why (not 'closed before its end')", async () => {
    // The source's request failed at once (its connection was gone) and its stream was destroyed with that error,
    // before the load attached its listeners: the error is the stream's own.
    const failed = new Readable({ objectMode: true, read() {} });
    failed.on("error", () => {});
    failed.destroy(Object.assign(new Error("the server ended the connection: it closed while a request waited for its answer"), { code: "ECONNCLOSED" }));
    await new Promise((r) => setImmediate(r));
    const { connection } = recordingConnection();
    await expect(bulkLoad(connection, { schema: "dbo", name: "orders" }, cols, failed, { batchSize: 10 })).rejects.toMatchObject({ code: "ECONNCLOSED" });
  });

  it("reseeds the identity after loading explicit values, into UAT's range, with an explicit value (grammar-valid)", () => {
    const q = sqlServerCompiler.resyncIdentity({ schema: "dbo", name: "ord'ers" }, cols[0], "2000000000")!;
    // the name travels as a parameter and enters DBCC as a plain '' literal, quotes doubled by the server
    expect(q.params).toEqual(["[dbo].[ord'ers]", "2000000000", cols[0].name]);
    expect(q.sql).toContain("N'DBCC CHECKIDENT (''' + REPLACE(@p1, N'''', N'''''') + N''', RESEED, ' + CAST(@v AS nvarchar(40))");
    expect(tsqlErrors(q.sql)).toEqual([]);
    // what the server builds and runs
    expect(tsqlErrors("DBCC CHECKIDENT ('[dbo].[ord''ers]', RESEED, 2000000000) WITH NO_INFOMSGS")).toEqual([]);
  });
});

describe("which database a session is on", () => {
  const row = (server: string, dbId: number, db: string, agDatabase: string | null = null): IdentityRow => ({ server, dbId, db, agDatabase, version: "Microsoft SQL Server 2022" });

  it("lets a UAT restored from a production backup on the same instance through (same broker GUID, other DB_ID)", () => {
    // RESTORE keeps service_broker_guid: the identity must not rest on it.
    expect(sameDatabase(identityOf(row("SQL01", 5, "Sales")), identityOf(row("SQL01", 9, "Sales_UAT")))).toBe(false);
    expect(DRIVER_SQL.identity).not.toMatch(/service_broker_guid/);
  });

  it("refuses one database reached under two names (alias, IP, listener): the server names itself", () => {
    // Whatever host name was dialled, SERVERPROPERTY('ServerName') and DB_ID() are the server's own.
    expect(sameDatabase(identityOf(row("SQL01", 5, "Sales")), identityOf(row("sql01", 5, "Sales")))).toBe(true);
    expect(sameDatabase(identityOf(row("SQL01\\PROD", 5, "Sales")), identityOf(row("SQL01\\UAT", 5, "Sales")))).toBe(false);
  });

  it("refuses the primary and a readable secondary of one availability-group database", () => {
    const ag = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
    expect(sameDatabase(identityOf(row("NODE1", 5, "Sales", ag)), identityOf(row("NODE2", 7, "Sales", ag.toUpperCase())))).toBe(true);
  });

  it("says a database that takes no writes: Updateability READ_ONLY", () => {
    // DATABASEPROPERTYEX 'Updateability' (Microsoft): READ_ONLY = data can be read but not modified. The run refuses
    // such a target by name before planning (lib/engine/runner.ts); the query itself runs on the TDS server in every
    // conformance scenario (a READ_WRITE database there: Babelfish has no ALTER DATABASE ... SET READ_ONLY).
    expect(identityOf({ ...row("SQL01", 9, "Sales_UAT"), updateability: "READ_ONLY" }).readOnly).toBe("the database is READ_ONLY");
    expect(identityOf({ ...row("SQL01", 9, "Sales_UAT"), updateability: "READ_WRITE" }).readOnly).toBeUndefined();
    expect(DRIVER_SQL.identity).toMatch(/DATABASEPROPERTYEX\(DB_NAME\(\), 'Updateability'\)/);
  });
});

describe("CLR-typed columns in the catalog", () => {
  // sys.types as SQL Server ships it: system types have user_type_id = system_type_id; the CLR types geography (130),
  // geometry (129) and hierarchyid (128) share system_type_id 240; an alias type keeps its base's system_type_id.
  const TYPES = [
    { name: "int", system_type_id: 56, user_type_id: 56, is_assembly_type: false },
    { name: "nvarchar", system_type_id: 231, user_type_id: 231, is_assembly_type: false },
    { name: "hierarchyid", system_type_id: 240, user_type_id: 128, is_assembly_type: true },
    { name: "geometry", system_type_id: 240, user_type_id: 129, is_assembly_type: true },
    { name: "geography", system_type_id: 240, user_type_id: 130, is_assembly_type: true },
    { name: "Phone", system_type_id: 231, user_type_id: 257, is_assembly_type: false },
  ];
  const COLUMNS = [
    { name: "id", system_type_id: 56, user_type_id: 56, max_length: 4 },
    { name: "location", system_type_id: 240, user_type_id: 130, max_length: -1 },
    { name: "org_node", system_type_id: 240, user_type_id: 128, max_length: 892 },
    { name: "phone", system_type_id: 231, user_type_id: 257, max_length: 40 },
  ];

  /** Evaluates SQL.columns' joins on the modelled sys.columns / sys.types, as the server would. */
  function catalogQuery(sql: string) {
    const on = (alias: string) => /([a-z_]+)\.user_type_id = c\.([a-z_]+)/.exec(sql.slice(sql.indexOf(`sys.types AS ${alias}`)))![2] as "system_type_id" | "user_type_id";
    const inner = on("ty");
    const left = sql.includes("LEFT JOIN sys.types AS bt") ? on("bt") : null;
    return COLUMNS.flatMap((c) => {
      const ty = TYPES.find((t) => t.user_type_id === c[inner]);
      if (!ty) return []; // an inner join drops the column
      const bt = left ? TYPES.find((t) => t.user_type_id === c[left]) : ty;
      return [{ name: c.name, type: bt?.name ?? ty.name, declaredType: ty.name, clr: ty.is_assembly_type, maxLength: c.max_length, precision: 0, scale: 0, nullable: true, identity: false, computed: false }];
    });
  }

  it("lists geography and hierarchyid columns with their declared type, alias types with their base type", async () => {
    const cols = await sqlServerIntrospector(async <R>(sql: string) => catalogQuery(sql) as R[]).columns({ schema: "dbo", name: "sites" });
    expect(cols.map((c) => [c.name, c.nativeType])).toEqual([
      ["id", "int"],
      ["location", "geography"],
      ["org_node", "hierarchyid"],
      ["phone", "nvarchar(20)"],
    ]);
    expect(SQL.columns).toMatch(/ty\.user_type_id = c\.user_type_id/);
  });

  it("copies CLR columns as their serialized varbinary form (refusing none of them)", async () => {
    const cols = await sqlServerIntrospector(async <R>(sql: string) => catalogQuery(sql) as R[]).columns({ schema: "dbo", name: "sites" });
    expect(sqlServerDialect.unloadableColumns(cols)).toEqual([]);
    const select = sqlServerCompiler.selectRows({ schema: "dbo", name: "sites" }, cols);
    expect(select.sql).toContain("CONVERT(varbinary(max), [location]) AS [location]");
    expect(select.sql).toContain("CONVERT(varbinary(max), [org_node]) AS [org_node]");
    expect(tsqlErrors(select.sql)).toEqual([]);
  });
});

describe("every SQL Server type through the row path, exactly", () => {
  // The extreme values of each type, as the source's SELECT reads them: types the driver reads exactly arrive as
  // tedious values; the others arrive as the exact text (or binary) of their CONVERT (./transport).
  const types: { c: ColumnInfo; values: unknown[]; select: string; sent: string }[] = [
    { c: colOf("d38", "decimal(38,10)", "decimal"), values: ["9999999999999999999999999999.9999999999", "-0.0000000001"], select: "CONVERT(varchar(41), [d38])", sent: "decimal(38, 10)" },
    { c: colOf("d18", "decimal(18,2)", "decimal"), values: ["9999999999999999.99", "-1234567890123456.78"], select: "CONVERT(varchar(41), [d18])", sent: "decimal(38, 2)" },
    { c: colOf("n19", "numeric(19,4)", "decimal"), values: ["922337203685477.5807"], select: "CONVERT(varchar(41), [n19])", sent: "decimal(38, 4)" },
    { c: colOf("m", "money", "decimal"), values: ["922337203685477.5807", "-922337203685477.5808", "900719925474.0993"], select: "CONVERT(varchar(41), CAST([m] AS decimal(19, 4)))", sent: "money" },
    { c: colOf("sm", "smallmoney", "decimal"), values: [214748.3647, -214748.3648, 418.9161], select: "[sm]", sent: "money" },
    { c: colOf("dto", "datetimeoffset(7)", "datetime"), values: ["2025-01-01 10:00:00.1234570 +02:00", "0001-01-01 00:00:00.0000000 -14:00", "9999-12-31 23:59:59.9999999 +14:00"], select: "CONVERT(varchar(34), [dto])", sent: "datetimeoffset(7)" },
    { c: colOf("doc", "xml", "other"), values: ["<a b=\"1\">ü &amp; 😀</a>"], select: "CONVERT(nvarchar(max), [doc])", sent: "nvarchar(max)" },
    { c: colOf("geo", "geography", "other"), values: [Buffer.from("e610000001148716d9cef7d34740d7a3703d0a975ec08716d9cef7d34740cba145b6f3955ec0", "hex")], select: "CONVERT(varbinary(max), [geo])", sent: "varbinary(max)" },
    { c: colOf("node", "hierarchyid", "other"), values: [Buffer.from("5ade", "hex")], select: "CONVERT(varbinary(max), [node])", sent: "varbinary(max)" },
    { c: colOf("udt", "dbo.Point", "other"), values: [Buffer.from("01020304", "hex")], select: "CONVERT(varbinary(max), [udt])", sent: "varbinary(max)" },
    { c: colOf("d15", "decimal(15,2)", "decimal"), values: [9999999999999.99], select: "[d15]", sent: "decimal(38, 2)" },
    { c: colOf("last", "int", "integer"), values: [2147483647], select: "[last]", sent: "int" },
  ];

  function colOf(name: string, nativeType: string, family: ColumnInfo["family"]): ColumnInfo {
    return { name, nativeType, family, nullable: true, identity: false, generated: false };
  }

  it("reads each type through the expression that keeps it exact (grammar-valid), masking `sql` rules included", () => {
    const cols = types.map((t) => t.c);
    const q = sqlServerCompiler.selectRows({ schema: "dbo", name: "all_types" }, cols);
    for (const t of types) expect(q.sql).toMatch(new RegExp(`[ ,]${(t.select === `[${t.c.name}]` ? t.select : `${t.select} AS [${t.c.name}]`).replace(/[[\]()*]/g, "\\$&")}[, ]`));
    expect(tsqlErrors(q.sql)).toEqual([]);
    const masked = sqlServerCompiler.selectRows({ schema: "dbo", name: "all_types" }, cols, undefined, undefined, undefined, { m: "[m] * 0" });
    expect(masked.sql).toContain("CONVERT(varchar(41), CAST(CAST(([m] * 0) AS money) AS decimal(19, 4))) AS [m]");
    expect(tsqlErrors(masked.sql)).toEqual([]);
  });

  it("declares each column as what it is sent as and sends every value unchanged (tedious' own BulkLoad)", async () => {
    const real = new Connection({ server: "localhost", authentication: { type: "default", options: { userName: "u", password: "p" } }, options: { encrypt: false } });
    const sent: { sql: string; rows: unknown[][] } = { sql: "", rows: [] };
    const connection = {
      newBulkLoad: ((table: string, options: object, cb: (err?: Error | null) => void) => {
        const bulk = real.newBulkLoad(table, options, cb);
        return Object.assign(bulk, { __done: cb });
      }) as unknown as BulkConnection["newBulkLoad"],
      execBulkLoad: ((bulk: { getBulkInsertSql(): string; __done: (e?: Error | null) => void }, rows: AsyncIterable<unknown[]>) => {
        void (async () => {
          sent.sql = bulk.getBulkInsertSql();
          for await (const r of rows) sent.rows.push(r);
          bulk.__done(null);
        })();
      }) as unknown as BulkConnection["execBulkLoad"],
    } satisfies BulkConnection;
    const width = Math.max(...types.map((t) => t.values.length));
    const rows = Array.from({ length: width }, (_, i) => types.map((t) => t.values[i % t.values.length]));
    const n = await bulkLoad(connection, { schema: "dbo", name: "all_types" }, types.map((t) => t.c), Readable.from(rows), { batchSize: 1000 });
    expect(n).toBe(width);
    for (const t of types) expect(sent.sql).toContain(`[${t.c.name}] ${t.sent}`);
    // Exact: the text and bytes the source's CONVERT produced are what the bulk load encodes (./exact-types.test.ts
    // decodes what it writes).
    expect(sent.rows).toEqual(rows);
  });

  it("skips rowversion and GENERATED ALWAYS columns (the target generates them) and refuses sql_variant, naming why", async () => {
    const cols = await sqlServerIntrospector(async <R>(sql: string) =>
      (sql === SQL.columns
        ? [
            { name: "id", type: "int", declaredType: "int", clr: false, maxLength: 4, precision: 10, scale: 0, nullable: false, identity: false, computed: false },
            { name: "rv", type: "timestamp", declaredType: "timestamp", clr: false, maxLength: 8, precision: 0, scale: 0, nullable: false, identity: false, computed: false },
            { name: "v", type: "sql_variant", declaredType: "sql_variant", clr: false, maxLength: 8016, precision: 0, scale: 0, nullable: true, identity: false, computed: false },
            // A system-versioned table's period: generated_always_type 1 AS_ROW_START, 2 AS_ROW_END (sys.columns);
            // an explicit value is refused (Msg 13536).
            ...[["valid_from", 1], ["valid_to", 2], ["plain", 0]].map(([name, generatedAlways]) => ({ name, type: "datetime2", declaredType: "datetime2", clr: false, maxLength: 8, precision: 27, scale: 7, nullable: false, identity: false, computed: false, generatedAlways })),
          ]
        : []) as R[],
    ).columns({ schema: "dbo", name: "t" });
    expect(cols.filter((c) => c.generated).map((c) => c.name)).toEqual(["rv", "valid_from", "valid_to"]);
    expect(sqlServerDialect.unloadableColumns(cols.filter((c) => !c.generated))).toEqual([
      "column v has type sql_variant: each value carries its own base type, which no bulk-load representation keeps (text or binary would turn every value into one type)",
    ]);
  });
});

describe("privileges asked of the catalog", () => {
  it("evaluates only the privileges asked for, and names those the login lacks (a NULL answer is a lack)", async () => {
    const sent: string[] = [];
    const answer: Record<string, number | null> = { SELECT: 1, INSERT: 1, DELETE: 0, TRUNCATE: null, SEQUENCE: 1, CREATE: 1 };
    const introspector = sqlServerIntrospector(async <R,>(sql: string) => {
      sent.push(sql);
      return [Object.fromEntries((privilegesAsked(sql) ?? []).map((p) => [p, answer[p]]))] as R[];
    });
    // The source is asked for SELECT alone: none of the target's tests (the sequences' catalog views) run there.
    expect(await introspector.missingPrivileges(TABLE, ["SELECT"])).toEqual([]);
    expect(sent[0]).toBe("SELECT HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'SELECT') AS [SELECT]");
    expect(await introspector.missingPrivileges(TABLE, ["INSERT", "DELETE", "TRUNCATE", "SEQUENCE"])).toEqual(["DELETE", "TRUNCATE"]);
    expect(sent[1]).toContain("sys.sql_expression_dependencies");
    expect(sent[1]).not.toContain("'SELECT'");
    expect(await introspector.missingPrivileges(TABLE, [])).toEqual([]);
    expect(sent).toHaveLength(2);
    expect(sent.flatMap((sql) => tsqlErrors(sql))).toEqual([]);
  });
});

describe("indexes read from the catalog", () => {
  it("with their compression per partition, except where indexCompression is false (a source session: only UAT's indexes are ever built again)", async () => {
    const sent: string[] = [];
    const answer = (sql: string) =>
      sql === SQL.indexes
        ? [{ index: "pk_t", unique: true, primaryKey: true, type: 1, column: "id", descending: false, included: false, filter: null, dataSpace: "PRIMARY" }]
        : [{ indexId: 1, index: "pk_t", partition: 1, compression: "PAGE" }];
    const reading = (options?: { indexCompression?: boolean }) =>
      sqlServerIntrospector(async <R,>(sql: string) => {
        sent.push(sql);
        return answer(sql) as R[];
      }, options);
    expect((await reading().indexes(TABLE))[0].compression).toEqual(["PAGE"]);
    expect(sent).toEqual([SQL.indexes, SQL.compression]);
    sent.length = 0;
    expect((await reading({ indexCompression: false }).indexes(TABLE))[0]).toMatchObject({ name: "pk_t", columns: ["id"], primaryKey: true });
    expect(sent).toEqual([SQL.indexes]);
  });
});

describe("lock waits read from the server's request views", () => {
  it("names each of the run's waiting sessions once, with every session in its way; one parameterised SELECT the grammar accepts", async () => {
    const sent: unknown[][] = [];
    const row = (waiter: string, application: string | null) => ({ waiter, since: "2026-12-04T10:00:00Z", user: "tester", application, client: "10.0.0.7", state: "sleeping in an open transaction" });
    const introspector = sqlServerIntrospector(async <R,>(sql: string, params: unknown[]) => {
      sent.push([sql, ...params]);
      return [row("uat-refresh run r1 target", "SSMS"), row("uat-refresh run r1 target", null), row("uat-refresh run r1 stream 2 target", "SSMS")] as R[];
    });
    expect(await introspector.lockWaits!("uat-refresh run ")).toEqual([
      { session: "uat-refresh run r1 target", since: "2026-12-04T10:00:00Z", blockers: [{ user: "tester", application: "SSMS", client: "10.0.0.7", state: "sleeping in an open transaction" }, { user: "tester", application: null, client: "10.0.0.7", state: "sleeping in an open transaction" }] },
      { session: "uat-refresh run r1 stream 2 target", since: "2026-12-04T10:00:00Z", blockers: [{ user: "tester", application: "SSMS", client: "10.0.0.7", state: "sleeping in an open transaction" }] },
    ]);
    expect(sent).toEqual([[SQL.lockWaits, "uat-refresh run "]]);
    expect(tsqlErrors(SQL.lockWaits)).toEqual([]);
    // Only lock waits (LCK_M_*, the underscore escaped from LIKE's wildcard), in this database, of sessions the prefix names.
    expect(SQL.lockWaits).toContain("r.wait_type LIKE 'LCK[_]M[_]%'");
    expect(SQL.lockWaits).toContain("r.database_id = DB_ID()");
  });
});

describe("how requests go to the server", () => {
  it("a post-refresh step runs in a scope of its own (sp_executesql), so its SET options end with it; the product's own statements go as batches", () => {
    // Microsoft Learn, SET Statements: a SET run in dynamic SQL through sp_executesql is restored when that batch
    // returns; a SET in a plain batch lasts for the session (a step's SET NOCOUNT ON would then hide every later
    // step's row count). Babelfish keeps the SET after sp_executesql too (a gap of that server), so this is pinned here.
    const step = (sql: string) => ({ ...bindStepParameters(sql, "sqlserver", { run_id: "r", run_started_at: "2026-12-04 00:00:00.000", triggered_by: "t" }), ownScope: true });
    expect(sentAs(step("SET NOCOUNT ON; UPDATE dbo.t SET a = 1"), false)).toBe("sp_executesql");
    expect(sentAs(step("INSERT INTO dbo.log VALUES (@run_id)"), false)).toBe("sp_executesql");
    expect(sentAs({ sql: "TRUNCATE TABLE [dbo].[t]", params: [] }, false)).toBe("batch");
    expect(sentAs({ sql: "DELETE FROM [dbo].[t] WHERE [id] > @p1", params: [5] }, false)).toBe("sp_executesql");
    expect(sentAs({ sql: "SELECT 1", params: [] }, true)).toBe("sp_executesql");
  });
});

// The engine's conformance suite: the same scenarios and assertions for every dialect. PostgreSQL runs always;
// SQL Server runs when MSSQL_TEST_URL is set and is reported as skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { openSession } from "../../lib/engine/connections";
import { exportConfig } from "../../lib/config/store";
import { runRefresh } from "../../lib/engine/runner";
import { postgresDb, sqlServerDb, type ConformanceDb } from "./dialects";

registerBuiltInDialects();

const MSSQL = process.env.MSSQL_TEST_URL;
const engines = [
  { name: "postgres", open: postgresDb, skip: false },
  { name: "sqlserver", open: () => sqlServerDb(MSSQL!), skip: !MSSQL },
];

for (const engine of engines) {
  describe.skipIf(engine.skip)(`conformance: ${engine.name}`, () => {
    let db: ConformanceDb;
    const run = (tables?: string[]) => runRefresh(db.env.db, db.env.metaUrl, { trigger: "cli", triggeredBy: "conformance", tables });

    beforeAll(async () => {
      db = await engine.open();
      await db.source.exec(db.sql.orders);
      await db.target.exec(db.sql.orders);
      await db.source.exec(db.sql.dailySource);
      await db.target.exec(db.sql.dailyTarget([20250101, 20250102]));
    });
    afterAll(() => db?.close());

    it("full_replace: the target ends with exactly the source's rows", async () => {
      await db.source.exec(db.sql.insertOrders(1, 50_000, "new"));
      await db.target.exec(db.sql.insertOrders(70_001, 70_500, "stale"));
      await db.config([{ name: "orders", strategy: "simple_copy", sync_mode: "full_replace", batch_size: 7000 }]);
      const r = await run(["orders"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(r.tables[0].outcome?.rowsWritten).toBe(50_000);
      expect(await db.target.fingerprint("orders")).toEqual(await db.source.fingerprint("orders"));
    });

    it("incremental identity: only new rows, in batches, no duplicates on re-run", async () => {
      await db.target.exec(db.sql.truncate("orders"));
      await db.target.exec(db.sql.insertOrders(1, 40_000, "new"));
      await db.config([{ name: "orders", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "order_id", incremental_type: "identity", batch_size: 3000 }]);
      const first = await run(["orders"]);
      expect(first.tables[0].plan?.watermarkBefore).toBe("40000");
      expect(first.tables[0].outcome?.rowsWritten).toBe(10_000);
      expect((await run(["orders"])).tables[0].outcome?.rowsWritten).toBe(0);
      expect(await db.target.fingerprint("orders")).toEqual(await db.source.fingerprint("orders"));
    });

    it("incremental datetime: the buffer window is re-synced, changed recent rows updated, none duplicated", async () => {
      await db.source.exec(db.sql.touchOrders([49_990, 100], "changed"));
      await db.config([{ name: "orders", strategy: "simple_copy", sync_mode: "incremental", incremental_column: "placed_at", incremental_type: "datetime", date_buffer_days: 1 }]);
      const r = await run(["orders"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(await db.target.scalar("SELECT status FROM orders WHERE order_id = 49990")).toBe("changed");
      expect(await db.target.scalar("SELECT status FROM orders WHERE order_id = 100")).toBe("new");
      expect((await db.target.fingerprint("orders")).count).toBe(50_000);
    });

    it("smart_sync: empty target -> full, then incremental, and the run says why", async () => {
      await db.target.exec(db.sql.truncate("orders"));
      await db.config([{ name: "orders", strategy: "simple_copy", sync_mode: "smart_sync", incremental_column: "order_id", incremental_type: "identity" }]);
      const full = await run(["orders"]);
      expect(full.tables[0].plan?.mode).toBe("full_replace");
      expect(full.tables[0].plan?.reason).toMatch(/^smart_sync: target is empty, copying everything/);
      await db.source.exec(db.sql.insertOrders(50_001, 50_250, "new"));
      const inc = await run(["orders"]);
      expect(inc.tables[0].plan?.mode).toBe("incremental");
      expect(inc.tables[0].outcome?.rowsWritten).toBe(250);
      expect(await db.target.fingerprint("orders")).toEqual(await db.source.fingerprint("orders"));
    });

    it("staging_partition_switch: missing days get partitions, an existing day is replaced, older days kept", async () => {
      await db.target.exec(db.sql.insertDaily(20250101, 300, "old"));
      await db.target.exec(db.sql.insertDaily(20250102, 400, "old"));
      await db.source.exec(db.sql.insertDaily(20250102, 1000, "new"));
      await db.source.exec(db.sql.insertDaily(20250103, 1200, "new"));
      await db.source.exec(db.sql.insertDaily(20250104, 500, "new"));
      const before = Number(await db.target.scalar(db.sql.dailyPartitions));
      await db.config([{ name: "daily", strategy: "staging_partition_switch", date_buffer_days: 0 }]);
      const r = await run(["daily"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(r.tables[0].outcome?.partitionsSwitched).toEqual(["20250102", "20250103", "20250104"]);
      expect(r.tables[0].outcome?.rowsWritten).toBe(2700);
      expect(Number(await db.target.scalar(db.sql.dailyPartitions))).toBeGreaterThan(before);
      expect(Number(await db.target.scalar("SELECT COUNT(*) FROM daily WHERE report_date = 20250101"))).toBe(300);
      expect(Number(await db.target.scalar("SELECT COUNT(*) FROM daily WHERE report_date = 20250102"))).toBe(1000);
      expect(Number(await db.target.scalar("SELECT COUNT(*) FROM daily WHERE report_date >= 20250102"))).toBe(2700);
    });

    it("parallel streams: a partition loaded in 4 key-range streams (each on its own sessions and thread) is exact", async () => {
      await db.source.exec(db.sql.insertDaily(20250105, 2000, "streams"));
      await db.config([{ name: "daily", strategy: "staging_partition_switch", date_buffer_days: 0 }], { max_streams_per_table: 4, min_rows_per_stream: 200 });
      const r = await run(["daily"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(r.tables[0].plan?.reason).toMatch(/largest partition: 4 streams on id ranges/);
      expect(r.tables[0].outcome?.streams?.count).toBe(4);
      expect(Number(await db.target.scalar("SELECT COUNT(*) FROM daily WHERE report_date = 20250105"))).toBe(2000);
      expect(Number(await db.target.scalar("SELECT COUNT(DISTINCT id) FROM daily WHERE report_date = 20250105"))).toBe(2000);
    });

    it("full_replace through a twin where the engine can exchange one (SQL Server SWITCH), in streams, nothing left behind", async () => {
      await db.config([{ name: "orders", strategy: "simple_copy", sync_mode: "full_replace" }], { max_streams_per_table: 4, min_rows_per_stream: 5000 });
      const r = await run(["orders"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      const twin = engine.name === "sqlserver";
      expect(r.tables[0].plan?.twin ?? false).toBe(twin);
      // SQL Server: as many streams as its statistics cut (up to 4); PostgreSQL loads a plain full replace in place.
      if (twin) expect(r.tables[0].outcome?.streams?.count).toBeGreaterThan(1);
      else expect(r.tables[0].outcome?.streams).toBeUndefined();
      expect(await db.target.fingerprint("orders")).toEqual(await db.source.fingerprint("orders"));
      expect(await db.target.scalar(db.sql.leftoverTables)).toBe("0");
    });

    it("staging_partition_switch: days after the last boundary get partitions (the open-ended last range)", async () => {
      await db.source.exec(db.sql.weeklySource);
      await db.target.exec(db.sql.weeklyTarget([20250101, 20250102, 20250103]));
      await db.target.exec(db.sql.insertWeekly(20250103, 10));
      await db.source.exec(db.sql.insertWeekly(20250103, 30));
      await db.source.exec(db.sql.insertWeekly(20250104, 40));
      await db.config([{ name: "weekly", strategy: "staging_partition_switch", partition_function: "pf_weekly", partition_scheme: "ps_weekly" }]);
      const r = await run(["weekly"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(r.tables[0].outcome?.partitionsSwitched).toEqual(["20250103", "20250104"]);
      expect(await db.target.fingerprint("weekly")).toEqual(await db.source.fingerprint("weekly"));
    });

    it("identity-keyed tables keep their values, and the next row inserted in UAT takes UAT's own range (bigint: from 9e18)", async () => {
      await db.source.exec(db.sql.ids);
      await db.target.exec(db.sql.ids);
      await db.source.exec(db.sql.insertIds(2500));
      await db.source.exec("DELETE FROM ids WHERE id <= 100");
      await db.config([{ name: "ids", strategy: "simple_copy", sync_mode: "full_replace" }]);
      const r = await run(["ids"]);
      expect(r.status, r.tables[0].error).toBe("succeeded");
      expect(await db.target.fingerprint("ids")).toEqual(await db.source.fingerprint("ids"));
      await db.target.exec(db.sql.insertIds(1));
      expect(String(await db.target.scalar("SELECT CAST(MAX(id) AS varchar(30)) FROM ids"))).toBe("9000000000000000000");
    });

    describe("related tables (foreign keys, a self-reference, a target trigger)", () => {
      const family = async (kids: Record<string, unknown>) => {
        await db.config([{ name: "parents", strategy: "simple_copy", sync_mode: "full_replace" }, { name: "kids", strategy: "simple_copy", ...kids }]);
        const r = await run(["kids", "parents"]);
        expect(r.tables.map((t) => [t.table, t.status, t.error ?? ""])).toEqual([["kids", "succeeded", ""], ["parents", "succeeded", ""]]);
        return r;
      };
      beforeAll(async () => {
        for (const side of [db.source, db.target]) for (const sql of db.sql.family) await side.exec(sql);
        for (const sql of db.sql.kidsTrigger) await db.target.exec(sql);
        for (const sql of db.sql.familyDay1) await db.source.exec(sql);
      });

      it("day 1 and day 2 of a full replace: one group, parents first, equal to the source, the trigger not fired, keys trusted", async () => {
        const day1 = await family({ sync_mode: "full_replace" });
        expect(day1.tables[0].plan?.reason).toMatch(/refreshed as one group: parents -> kids; checked after the load: fk_kids_buddy/);
        for (const sql of db.sql.familyDay2) await db.source.exec(sql);
        await family({ sync_mode: "full_replace" });
        for (const t of ["parents", "kids"]) expect(await db.target.fingerprint(t)).toEqual(await db.source.fingerprint(t));
        expect(await db.target.scalar("SELECT COUNT(*) FROM kids WHERE name = 'fired'")).toMatch(/^0$/);
        expect(await db.target.scalar(db.sql.untrustedKeys)).toBe("0");
      });

      it("identity-incremental kids keep their rows: the parents are merged, never emptied", async () => {
        await db.source.exec("UPDATE parents SET name = 'merged' WHERE id = 1");
        await db.source.exec("INSERT INTO parents VALUES (111, 'parent 111')");
        await db.source.exec("INSERT INTO kids VALUES (1051, 111, 1050, 'kid 1051')");
        const r = await family({ sync_mode: "incremental", incremental_column: "id", incremental_type: "identity" });
        expect(r.tables[1].plan?.reason).toMatch(/merged: 1 updated, 1 inserted, 0 deleted/);
        for (const t of ["parents", "kids"]) expect(await db.target.fingerprint(t)).toEqual(await db.source.fingerprint(t));
        expect(await db.target.scalar(db.sql.untrustedKeys)).toBe("0");
      });
    });

    it("the source session refuses writes", async () => {
      const config = await exportConfig(db.env.db);
      const s = await openSession(config.databases.source, "source", config.settings, { kind: "check" });
      try {
        await expect(s.execute({ sql: "DELETE FROM orders", params: [] })).rejects.toThrow(/read-only/);
      } finally {
        await s.close();
      }
    });
  });
}

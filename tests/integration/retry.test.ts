// "Refresh again what did not finish", through the real CLI on real PostgreSQL: a run where one table of two fails
// is retried with --retry RUN_ID; only that table runs again, in the run's environment, and the new run names the
// run it retries. Runs that cannot be taken up (still under way, all succeeded, never ran, unknown) are refused by
// name, and a retry's tables and kind come from the run, never from the command line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";
import { retryScope } from "../../lib/run-retry";

describe("refresh again what a run did not finish", () => {
  let env: TestEnv;
  const cli = (args: string[]) =>
    runCli(args, { DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD! });
  const lastRun = () => env.db.refreshRun.findFirstOrThrow({ orderBy: { startedAt: "desc" }, include: { tables: { orderBy: { tableName: "asc" } } } });

  beforeAll(async () => {
    env = await createTestEnv();
    for (const c of [env.source, env.target]) {
      await c.query("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)");
      await c.query("CREATE TABLE orders (id int PRIMARY KEY, note varchar(40) NOT NULL)");
    }
    await env.source.query("INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 300) g");
    await env.source.query("INSERT INTO orders SELECT g, 'an order note of some length ' || g FROM generate_series(1, 500) g");
    // UAT's orders.note is narrower than production's: its refresh is refused (drift), the customers' succeeds.
    await env.target.query("ALTER TABLE orders ALTER COLUMN note TYPE varchar(10)");
    await env.config([{ name: "customers" }, { name: "orders" }], { review_new_columns: false });
  });
  afterAll(() => env?.close());

  it("takes up only the failed table, in the run's environment, names the run it retries, and is audited", async () => {
    const first = await cli(["--force"]);
    expect(first.code, first.output).toBe(1);
    const partial = await lastRun();
    expect(partial.status).toBe("partial");
    expect(partial.tables.map((t) => [t.tableName, t.status])).toEqual([["customers", "succeeded"], ["orders", "failed"]]);

    // Still refused: the retry is a run of orders alone, which fails again (and can itself be retried).
    const again = await cli(["--retry", partial.id]);
    expect(again.code, again.output).toBe(1);
    const second = await lastRun();
    expect(second.id).not.toBe(partial.id);
    expect(second).toMatchObject({ retryOf: partial.id, environment: partial.environment, dryRun: false, status: "failed", trigger: "cli" });
    expect(second.tables.map((t) => t.tableName)).toEqual(["orders"]);

    await env.target.query("ALTER TABLE orders ALTER COLUMN note TYPE varchar(40)");
    const customersBefore = (await env.target.query("SELECT xmin::text AS x FROM customers WHERE id = 1")).rows[0].x;
    const fixed = await cli(["--retry", second.id]);
    expect(fixed.code, fixed.output).toBe(0);
    expect(fixed.output).toContain("✓ orders");
    const third = await lastRun();
    expect(third).toMatchObject({ retryOf: second.id, status: "succeeded", tablesTotal: 1 });
    expect(await fingerprint(env.target, "orders")).toEqual(await fingerprint(env.source, "orders"));
    // customers was not refreshed again: its rows are the ones the first run wrote.
    expect((await env.target.query("SELECT xmin::text AS x FROM customers WHERE id = 1")).rows[0].x).toBe(customersBefore);

    const audited = await env.db.auditEvent.findFirstOrThrow({ where: { action: "refresh.trigger", target: third.id } });
    expect(audited.details).toMatchObject({ tables: ["orders"], retryOf: second.id, via: "cli" });
  });

  it("refuses runs with nothing to take up, by name, and a command line that would change what the run asked", async () => {
    const succeeded = await lastRun();
    const refusals: [string[], string][] = [
      [["--retry", succeeded.id], `error: run ${succeeded.id} succeeded: every table finished`],
      [["--retry", "no-such-run"], "error: run no-such-run does not exist (or was removed from the history)"],
      [["--retry", succeeded.id, "--table", "customers"], "--retry takes its tables, its environment and its kind (a refresh or a dry run) from the run it retries: drop --table"],
      [["--retry", succeeded.id, "--dry-run"], "--retry takes its tables, its environment and its kind (a refresh or a dry run) from the run it retries: drop --dry-run"],
    ];
    for (const [args, said] of refusals) {
      const r = await cli(args);
      expect(r.code, r.output).toBe(2);
      expect(r.output.split("\n")[0]).toBe(said);
    }
    const partial = await env.db.refreshRun.findFirstOrThrow({ where: { status: "partial" } });
    const otherEnv = await cli(["--retry", partial.id, "--env", "qa"]);
    expect(otherEnv.code).toBe(2);
    expect(otherEnv.output).toContain(`error: run ${partial.id} refreshed environment ${env.environment}, not qa: drop --env, or name that one`);

    // Still under way, or never ran: each says what to do instead.
    for (const [status, said] of [
      ["running", "is still running: wait for it, or cancel it first"],
      ["queued", "is still queued: wait for it, or cancel it first"],
      ["awaiting_approval", "is waiting for approval: approve it, or reject it and ask again"],
      ["rejected", "was rejected and never ran: ask for a new run"],
    ] as const) {
      const run = await env.db.refreshRun.create({ data: { environment: env.environment, trigger: "web", triggeredBy: "someone", status, tables: { create: [{ tableName: "orders", strategy: "simple_copy", status: "pending" }] } } });
      await expect(retryScope(env.db, run.id)).rejects.toMatchObject({ status: 409, message: `run ${run.id} ${said}` });
      await env.db.refreshRun.delete({ where: { id: run.id } });
    }
    // A run stopped before it reached a table: that table is taken up too (skipped, never started).
    const stopped = await env.db.refreshRun.create({
      data: { environment: env.environment, trigger: "web", triggeredBy: "someone", status: "cancelled", tables: { create: [{ tableName: "customers", strategy: "simple_copy", status: "succeeded" }, { tableName: "orders", strategy: "simple_copy", status: "skipped" }] } },
    });
    expect(await retryScope(env.db, stopped.id)).toEqual({ retryOf: stopped.id, environment: env.environment, tables: ["orders"], dryRun: false });
  });

  it("a dry run's retry plans again and writes nothing", async () => {
    await env.target.query("ALTER TABLE orders ALTER COLUMN note TYPE varchar(10) USING left(note, 10)");
    const before = await fingerprint(env.target, "orders");
    const dry = await cli(["--dry-run"]);
    expect(dry.code, dry.output).toBe(1);
    const planned = await lastRun();
    expect(planned).toMatchObject({ dryRun: true, status: "partial" });
    const again = await cli(["--retry", planned.id]);
    expect(again.code, again.output).toBe(1);
    expect(again.output).toContain("UAT's character varying(10) is shorter than production's character varying(40)");
    expect(await lastRun()).toMatchObject({ dryRun: true, retryOf: planned.id, tablesTotal: 1 });
    expect(await fingerprint(env.target, "orders")).toEqual(before);
  });
});

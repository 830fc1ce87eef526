// The audit trail's CSV export on a real metadata database: every column the page shows (the environment too), in
// the page's order, and no cell a spreadsheet would run as a formula.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit, auditCsv } from "../../lib/audit";
import { createTestEnv, type TestEnv } from "../support/env";

describe("the audit trail's CSV export", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(() => env?.close());

  const exported = async (filters = {}) => {
    let out = "";
    for await (const chunk of auditCsv(env.db, filters)) out += chunk;
    return out.split("\r\n").filter(Boolean);
  };

  it("has the environment of each event, and filters by it", async () => {
    await env.config([]);
    await audit({ actor: "ada@example.test", environment: env.environment, action: "refresh.trigger", target: "run-1", details: { tables: "all enabled" } }, env.db);
    await audit({ actor: "ada@example.test", action: "user.role", target: "bob", details: { before: "viewer", after: "operator" } }, env.db);
    const [header, ...rows] = await exported();
    expect(header).toBe("time,actor,environment,action,target,outcome,details");
    expect(rows.map((r) => r.split(",").slice(1, 6))).toEqual([
      ["ada@example.test", "", "user.role", "bob", "ok"],
      ["ada@example.test", env.environment, "refresh.trigger", "run-1", "ok"],
    ]);
    expect((await exported({ environment: env.environment })).slice(1).map((r) => r.split(",")[3])).toEqual(["refresh.trigger"]);
  });

  it("never starts a cell with what a spreadsheet runs as a formula (=, +, -, @, tab, carriage return)", async () => {
    for (const [i, actor] of ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tx", "\rx"].entries())
      await audit({ actor, action: "request.refused", target: `t${i}` }, env.db);
    const rows = (await exported({ action: "request.refused" })).slice(1);
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row.split(",")[1].replace(/^"/, "")).toMatch(/^'/);
  });
});

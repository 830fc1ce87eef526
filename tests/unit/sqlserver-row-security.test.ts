// Row-level security on SQL Server, said in the plan. Microsoft Learn, "Row-level security": filter predicates
// silently filter the rows available to read operations (SELECT, UPDATE, DELETE), block predicates refuse writes
// that violate them, and "if the dbo user, a member of the db_owner role, or the table owner queries a table that
// has a security policy defined and enabled, the rows are filtered or blocked as defined by the security policy".
// No login bypasses them, so an enabled predicate on a table is what the catalog can tell; whether a predicate lets
// the refresh's login see every row is the administrator's word (options.rowSecurityExempt). The TDS server here
// has no security policies (no sys.security_predicates): this is verified on modelled catalog rows, and the
// conformance suite runs every scenario there through the probe that finds none.
import { describe, expect, it } from "vitest";
import { databaseSchema, settingsSchema, type TableConfigInput } from "../../lib/config/schema";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { sqlServerDialect } from "../../lib/dialects/sqlserver";
import { SQL, sqlServerIntrospector } from "../../lib/dialects/sqlserver/introspector";
import { resolveTable } from "../../lib/engine/context";
import { refuseMissingPrivileges } from "../../lib/engine/privileges";
import { ProgressTracker } from "../../lib/engine/progress";
import { simpleCopy } from "../../lib/engine/strategies/simple-copy";
import { modelSession, SqlServerModel, type ModelTable } from "../support/sqlserver-model";
import { tsqlErrors } from "../support/tsql-check";

registerBuiltInDialects();
const TABLE = { schema: "dbo", name: "orders" };
const TENANT_FILTER = { policy: "sec.tenant_policy", kind: "FILTER" as const, predicate: "[sec].[fn_tenant]([tenant_id])" };
const TENANT_BLOCK = { policy: "sec.tenant_policy", kind: "BLOCK" as const, predicate: "[sec].[fn_tenant]([tenant_id])" };

function table(rows: string[], securityPredicates: ModelTable["securityPredicates"] = [], maskedColumns: ModelTable["maskedColumns"] = []): ModelTable {
  return { table: TABLE, key: "order_no", keyType: "int", rows, securityPredicates, maskedColumns };
}

/** Plans a full replace of dbo.orders the way a run does (resolve, plan, the target's privileges), nothing executed. */
async function plan(source: ModelTable, target: ModelTable) {
  const model = new SqlServerModel({ ...target, functionName: "", schemeName: "", rangeRight: true, boundaries: [] });
  const sessions = { source: modelSession(source, "source"), target: modelSession(model, "target"), async reopen() {} };
  const config: TableConfigInput = { name: "orders", schema: "dbo", strategy: "simple_copy", sync_mode: "full_replace", truncate_target: true, fire_triggers: false, enabled: true };
  const ctx = await resolveTable(config, settingsSchema.parse({ max_retries: 0 }), sqlServerDialect, sessions, new ProgressTracker(() => {}, "run", "orders"));
  const p = await simpleCopy.plan(ctx);
  await refuseMissingPrivileges(ctx, p);
  return { model, plan: p };
}

/** An introspector over a server whose security views have these object ids (null: none), every other question
 *  answered with `rows`; what it was asked. */
function securityCatalog(rows: object[], views: { policies: number | null; masks: number | null }) {
  const sent: { sql: string; params: unknown[] }[] = [];
  const introspector = sqlServerIntrospector(async <R,>(sql: string, params: unknown[]) => {
    sent.push({ sql, params });
    return (sql === SQL.securityViews ? [views] : rows) as R[];
  });
  return { introspector, sent };
}

describe("SQL Server row-level security in the catalog", () => {
  /** sys.security_predicates has object id `view` and holds `predicates`. */
  const catalog = (predicates: object[], view: number | null = -411) => securityCatalog(predicates, { policies: view, masks: null });

  it("reads the enabled policies' predicates on the table, plain SELECTs the grammar accepts; whether the server has policies is asked once per session", async () => {
    const { introspector, sent } = catalog([TENANT_BLOCK, TENANT_FILTER]);
    expect(await introspector.rowSecurity!(TABLE)).toEqual({
      policies: ["security policy sec.tenant_policy: BLOCK [sec].[fn_tenant]([tenant_id])", "security policy sec.tenant_policy: FILTER [sec].[fn_tenant]([tenant_id])"],
      filtersReads: true,
    });
    await introspector.rowSecurity!({ schema: "dbo", name: "lines" });
    expect(sent).toEqual([
      { sql: SQL.securityViews, params: [] },
      { sql: SQL.rowSecurity, params: ["[dbo].[orders]"] },
      { sql: SQL.rowSecurity, params: ["[dbo].[lines]"] },
    ]);
    expect([SQL.securityViews, SQL.rowSecurity].flatMap((sql) => tsqlErrors(sql))).toEqual([]);
    // Only enabled policies count: a policy WITH (STATE = OFF) filters and blocks nothing.
    expect(SQL.rowSecurity).toMatch(/sp\.is_enabled = 1/);
  });

  it("block predicates alone refuse writes but filter no read", async () => {
    expect((await catalog([TENANT_BLOCK]).introspector.rowSecurity!(TABLE))?.filtersReads).toBe(false);
    expect(await catalog([]).introspector.rowSecurity!(TABLE)).toBeNull();
  });

  it("a server without the catalog view (before 2016, or a TDS server that lacks it: OBJECT_ID is NULL) has no policies, and the view is never named in a query there", async () => {
    const { introspector, sent } = catalog([TENANT_FILTER], null);
    expect(await introspector.rowSecurity!(TABLE)).toBeNull();
    expect(sent.map((q) => q.sql)).toEqual([SQL.securityViews]);
  });

  it("options.rowSecurityExempt: the administrator's word that the predicates let this login see every row; nothing is asked", async () => {
    let asked = 0;
    const introspector = sqlServerIntrospector(
      async <R,>() => {
        asked++;
        return [TENANT_FILTER] as R[];
      },
      { rowSecurityExempt: true },
    );
    expect(await introspector.rowSecurity!(TABLE)).toBeNull();
    expect(asked).toBe(0);
  });

  it("the option is checked where it is written: SQL Server only, true or false", () => {
    const db = (engine: string, rowSecurityExempt: unknown) => databaseSchema.safeParse({ engine, server: "h", database: "d", options: { rowSecurityExempt } });
    expect(db("sqlserver", true).success).toBe(true);
    expect(db("sqlserver", "yes").error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["options.rowSecurityExempt", "must be true or false"]]);
    expect(db("postgres", true).error?.issues[0].message).toMatch(/^is for SQL Server; PostgreSQL reads who bypasses row-level security from its catalog/);
  });
});

describe("SQL Server row-level security refused in the plan (modelled catalog)", () => {
  it("a filter predicate on production's table: the copy would hold only the rows it shows, so the plan refuses it, nothing read or written", async () => {
    const refused = plan(table(["1", "2", "3"], [TENANT_FILTER]), table(["7"]));
    await expect(refused).rejects.toThrow(
      "row-level security on dbo.orders (security policy sec.tenant_policy: FILTER [sec].[fn_tenant]([tenant_id])) filters what the source login reads: the copy would hold only the rows it allows",
    );
    await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/db_owner and the table's owner too.*options\.rowSecurityExempt: true on the source connection/) });
  });

  it("a block predicate on production's table is no obstacle to reading it", async () => {
    const { plan: p, model } = await plan(table(["1", "2", "3"], [TENANT_BLOCK]), table(["7"]));
    expect(p.mode).toBe("full_replace");
    expect(model.t.rows).toEqual(["7"]);
  });

  it("any enabled predicate on UAT's table (a filter hides rows from the DELETE and the merge, a block refuses the load): refused, UAT as it was", async () => {
    for (const predicate of [TENANT_FILTER, TENANT_BLOCK]) {
      const refused = plan(table(["1", "2", "3"]), table(["7", "8"], [predicate]));
      await expect(refused).rejects.toThrow(`row-level security on dbo.orders (security policy sec.tenant_policy: ${predicate.kind} [sec].[fn_tenant]([tenant_id])) applies to the target login`);
      await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/WITH \(STATE = OFF\).*on the target connection; nothing was written/) });
    }
  });
});

// Dynamic data masking (SQL Server 2016+), Microsoft Learn, "Dynamic data masking": "Users with SELECT permission on a
// table can view the table data. Columns that are defined as masked, will display the masked data"; "using SELECT INTO
// or INSERT INTO to copy data from a masked column into another table results in masked data in the target table";
// an expression over a masked column is masked too. UNMASK (in CONTROL, so db_owner's) lifts it. The TDS server here
// has no sys.masked_columns: verified on modelled catalog rows; the conformance suite runs every scenario through the
// probe that finds no view.
describe("SQL Server dynamic data masks in the catalog", () => {
  /** sys.masked_columns has object id `view`; the login reads `masked` through their masks. */
  const catalog = (masked: object[], view: number | null = -431) => securityCatalog(masked, { policies: null, masks: view });

  it("reads the table's masked columns this login has no UNMASK for; the views are asked about once per session, for policies and masks alike", async () => {
    const { introspector, sent } = catalog([{ column: "email", mask: "email()" }]);
    expect(await introspector.maskedColumns!(TABLE)).toEqual([{ column: "email", mask: "email()" }]);
    expect(await introspector.rowSecurity!(TABLE)).toBeNull();
    expect(sent).toEqual([
      { sql: SQL.securityViews, params: [] },
      { sql: SQL.maskedColumns, params: ["[dbo].[orders]"] },
    ]);
    expect(tsqlErrors(SQL.maskedColumns)).toEqual([]);
  });

  it("UNMASK decides per column where the server grants it so (2022), else on the database: HAS_PERMS_BY_NAME answers NULL for a permission a class does not have", () => {
    expect(SQL.maskedColumns).toMatch(/c\.is_masked = 1/);
    expect(SQL.maskedColumns).toContain("COALESCE(HAS_PERMS_BY_NAME(@p1, 'OBJECT', 'UNMASK', c.name, 'COLUMN'), HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'UNMASK'), 0) = 0");
  });

  it("a server without sys.masked_columns (before 2016, or this TDS server) has no masks, and the view is never named in a query there", async () => {
    const { introspector, sent } = catalog([{ column: "email", mask: "email()" }], null);
    expect(await introspector.maskedColumns!(TABLE)).toEqual([]);
    expect(sent.map((q) => q.sql)).toEqual([SQL.securityViews]);
  });
});

describe("SQL Server dynamic data masks refused in the plan (modelled catalog)", () => {
  const MASKED_KEY = [{ column: "order_no", mask: "random(1, 100)" }];

  it("a copied column production masks from the source login: refused before anything is read, saying which and what to grant", async () => {
    const refused = plan(table(["1", "2", "3"], [], MASKED_KEY), table(["7"]));
    await expect(refused).rejects.toThrow("dynamic data masking on dbo.orders hides order_no (random(1, 100)) from the source login: the copy would hold the masks, not production's values");
    await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/^Grant the source login UNMASK .*masking rules.*nothing was read\.$/) });
  });

  it("a masked column production has and the copy does not read (UAT lacks it) is no obstacle", async () => {
    const { plan: p } = await plan(table(["1", "2", "3"], [], [{ column: "email", mask: "email()" }]), table(["7"]));
    expect(p.mode).toBe("full_replace");
  });

  it("a copied column UAT masks from the target login: refused", async () => {
    const refused = plan(table(["1", "2", "3"]), table(["7"], [], MASKED_KEY));
    await expect(refused).rejects.toThrow("dynamic data masking on dbo.orders hides order_no (random(1, 100)) from the target login: the refresh would read masks back instead of the rows it wrote");
    await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/^Grant the target login UNMASK on UAT/) });
  });
});

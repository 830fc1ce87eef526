// Live progress of a refresh that takes a few seconds: it survives a page reload, and an operator can cancel one.
import { readFileSync } from "node:fs";
import pg from "pg";
import { expect, test } from "@playwright/test";
import { spawnCli } from "../tests/support/cli";
import { login, metaQuery } from "./helpers";

const stack = () => JSON.parse(readFileSync(".data/e2e/stack.json", "utf8")) as { targetUrl: string; metaUrl: string };

test.describe("a slow refresh", () => {
  let uat: pg.Client;
  test.beforeAll(async () => {
    uat = new pg.Client({ connectionString: stack().targetUrl });
    await uat.connect();
    // ~1 ms per row: 5,000 customers take several seconds to load. customers is referenced by orders, which keep
    // their rows, so a refresh of customers merges it: every row it updates passes the slow trigger.
    await uat.query(`CREATE OR REPLACE FUNCTION e2e_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$`);
    await uat.query("CREATE TRIGGER e2e_slow BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION e2e_slow()");
    // Triggers are off during a load unless the table fires them.
    await metaQuery(`UPDATE "TableConfig" SET "fireTriggers" = true WHERE name = 'customers'`);
  });
  test.afterAll(async () => {
    await metaQuery(`UPDATE "TableConfig" SET "fireTriggers" = false WHERE name = 'customers'`);
    await uat.query("DROP TRIGGER IF EXISTS e2e_slow ON customers");
    await uat.end();
  });

  /** UAT's customers all differ from production's again, so the next refresh updates every row. */
  async function diverge() {
    await uat.query("ALTER TABLE customers DISABLE TRIGGER e2e_slow; UPDATE customers SET segment = segment || ' (uat)'; ALTER TABLE customers ENABLE TRIGGER e2e_slow");
  }

  async function startCustomers(page: import("@playwright/test").Page) {
    await login(page, "operator");
    const row = page.getByTestId("table-row-customers");
    await row.getByRole("button", { name: "Refresh customers" }).click();
    await page.getByRole("dialog").getByRole("button", { name: /^Refresh 127/ }).click();
    await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
    await expect(page.getByTestId("run-status")).toContainText("running");
  }

  test("live progress survives a reload and reaches done", async ({ page }) => {
    await diverge();
    await startCustomers(page);
    const bar = page.getByRole("progressbar", { name: "customers progress" });
    await expect.poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.reload();
    await expect(page.getByTestId("run-status")).toContainText("running");
    await expect(page.getByText("Live: updates stream in")).toBeVisible();
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
    // customers is merged (orders keep their rows): the rows it changed, of the source rows it compared.
    await expect(page.getByTestId("run-table-customers").getByTestId("table-rows")).toHaveText("5,000 changed of 5,000");
  });

  test("an operator cancels a running refresh and the target keeps its rows", async ({ page }) => {
    await diverge();
    const before = (await uat.query("SELECT count(*)::int AS n, md5(string_agg(customer_id::text || name || segment, ',' ORDER BY customer_id)) AS h FROM customers")).rows[0];
    await startCustomers(page);
    await page.getByRole("button", { name: "Cancel run" }).click();
    await expect(page.getByTestId("run-status")).toContainText("cancelled", { timeout: 30_000 });
    await expect(page.getByTestId("run-table-customers")).toContainText("cancelled by oscar@example.test");
    // the cancelled transaction is rolled back: same rows as before
    await expect.poll(async () => (await uat.query("SELECT count(*)::int AS n, md5(string_agg(customer_id::text || name || segment, ',' ORDER BY customer_id)) AS h FROM customers")).rows[0], { timeout: 30_000 }).toEqual(before);
  });

  test("an operator cancels, from the run page, a refresh that the CLI runs on another host", async ({ page }) => {
    const checksum = "SELECT count(*)::int AS n, md5(string_agg(customer_id::text || name || segment, ',' ORDER BY customer_id)) AS h FROM customers";
    await diverge();
    const before = (await uat.query(checksum)).rows[0];
    const meta = new pg.Client({ connectionString: stack().metaUrl });
    await meta.connect();
    try {
      const cli = spawnCli(["--env", "demo_uat", "--table", "customers", "--force"], { DATABASE_URL: stack().metaUrl, UAT_REFRESH_DB_USER: "postgres", UAT_REFRESH_DB_PASSWORD: "postgres" });
      let runId: string | undefined;
      await expect
        .poll(async () => (runId = (await meta.query(`SELECT id FROM "RefreshRun" WHERE trigger = 'cli' AND status = 'running' ORDER BY "startedAt" DESC LIMIT 1`)).rows[0]?.id), { timeout: 30_000 })
        .toBeTruthy();
      await login(page, "operator");
      await page.goto(`/runs/${runId}`);
      await expect(page.getByTestId("run-executor")).toContainText("executed by cli ");
      await page.getByRole("button", { name: "Cancel run" }).click();
      await expect(page.getByTestId("run-status")).toContainText("cancelled", { timeout: 30_000 });
      await expect(page.getByTestId("run-table-customers")).toContainText("cancelled by oscar@example.test");
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toContain(`run ${runId}: cancelled`);
      expect((await uat.query(checksum)).rows[0]).toEqual(before);
    } finally {
      await meta.end();
    }
  });
});

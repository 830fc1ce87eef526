// A run where one table failed: its page offers to refresh again what did not finish; an operator fixes the cause
// and presses it, and the new run refreshes only that table, names the run it retries, and succeeds.
import { expect, test } from "@playwright/test";
import pg from "pg";
import { login, stack } from "./helpers";

test("an operator refreshes again only the table a run did not finish, from the run's page", async ({ page }) => {
  const uat = new pg.Client({ connectionString: stack().targetUrl });
  await uat.connect();
  try {
    await login(page, "operator");
    // UAT gains a NOT NULL column production lacks, with nothing to fill it: customers fails, daily_reports (no
    // foreign key to it, so not in its group) succeeds.
    await uat.query("ALTER TABLE customers ADD COLUMN e2e_retry int NOT NULL DEFAULT 0");
    await uat.query("ALTER TABLE customers ALTER COLUMN e2e_retry DROP DEFAULT");
    const res = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["customers", "daily_reports"] } });
    expect(res.status()).toBe(202);
    const { runId } = await res.json();
    await page.goto(`/runs/${runId}`);
    await expect(page.getByTestId("run-status")).toContainText("partial", { timeout: 30_000 });
    const retry = page.getByTestId("retry");
    await expect(retry).toContainText("customers");
    await expect(retry).not.toContainText("daily_reports");
    await page.screenshot({ path: "test-results/screenshots/run-retry.png" });

    await uat.query("ALTER TABLE customers DROP COLUMN e2e_retry");
    await retry.getByRole("button", { name: "Refresh again the 1 table that did not finish" }).click();
    await expect(page).not.toHaveURL(new RegExp(`/runs/${runId}$`));
    await expect(page.getByTestId("run-title")).toHaveText("Refresh of customers by oscar@example.test (web)");
    await expect(page.getByTestId("retry-of")).toContainText(runId);
    await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 30_000 });
    await expect(page.getByTestId("retry")).toHaveCount(0);
    const retryId = page.url().split("/").pop()!;
    // The retried run links to its retry, which says how it ended.
    await page.getByTestId("retry-of").getByRole("link", { name: runId }).click();
    await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
    await expect(page.getByTestId("retried-by")).toContainText(`${retryId} (succeeded)`);
    await page.screenshot({ path: "test-results/screenshots/run-retried.png" });
    // A run that succeeded has nothing to take up: the server says so (409), whatever a client sends.
    const nothing = await page.request.post(`/api/runs/${retryId}/retry`, { data: {} });
    expect(nothing.status()).toBe(409);
    expect((await nothing.json()).error).toBe(`run ${retryId} succeeded: every table finished`);
  } finally {
    await uat.query("ALTER TABLE customers DROP COLUMN IF EXISTS e2e_retry");
    await uat.end();
  }
});

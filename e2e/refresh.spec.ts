// An operator refreshes a real table of the embedded PostgreSQL demo and watches it finish.
import { expect, test } from "@playwright/test";
import { login } from "./helpers";

test("operator triggers a refresh, watches live progress reach done with the right row count, then finds it in history and the audit trail", async ({ page }) => {
  await login(page, "operator");
  const row = page.getByTestId("table-row-orders");
  await expect(row).toBeVisible();
  // e2e seed: production has 20,000 orders, UAT 18,000. Production is read through its
  // statistics only (the seed analyses), so its figure is marked as an estimate.
  await expect(row.getByTestId("source-rows")).toHaveText("≈20,000");
  await expect(row.getByTestId("target-rows")).toHaveText("18,000");
  await expect(page.getByTestId("overview-demo_qa")).toBeVisible();
  await page.screenshot({ path: "test-results/screenshots/dashboard.png", fullPage: true });

  await row.getByRole("button", { name: "Refresh orders" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("target 127.0.0.1/demo_uat");
  // Before confirming: the plan, from a dry run of exactly this request.
  await expect(dialog.getByTestId("plan-orders")).toContainText(/orders: smart_sync → incremental, about [0-9,]+ rows/);
  await expect(dialog.getByTestId("plan-orders")).toContainText(/Verifies: row counts and the values of \d+ of \d+ column\(s\)/);
  await page.screenshot({ path: "test-results/screenshots/confirm-plan.png" });
  await dialog.getByRole("button", { name: "Refresh 127.0.0.1/demo_uat" }).click();

  await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
  const runId = page.url().split("/").pop()!;
  await expect(page.getByTestId("run-status")).toContainText("succeeded");
  const table = page.getByTestId("run-table-orders");
  await expect(table.getByTestId("run-table-mode")).toHaveText("simple_copy / smart_sync → incremental");
  // 2,000 new orders; the 10,000 ids below the watermark are re-read (identity_buffer) and found unchanged
  await expect(table.getByTestId("table-rows")).toHaveText("2,000 changed of 12,000");
  await expect(table).toContainText("18000 → 20000");
  await page.screenshot({ path: "test-results/screenshots/run-detail.png", fullPage: true });

  await page.goto("/");
  await expect(page.getByTestId("table-row-orders").getByTestId("target-rows")).toHaveText("20,000");
  // The page itself carries the last figures the server computed (no wait for /api/status), then updates them live.
  const html = await (await page.request.get("/")).text();
  expect(html).toContain('data-testid="table-row-orders"');
  // Configured, then what the refresh did: smart_sync resolved to incremental.
  await expect(page.getByTestId("table-row-orders").getByTestId("table-mode")).toHaveText("simple_copy / smart_sync → incremental");

  await page.goto("/runs?table=orders");
  await expect(page.locator(`a[href="/runs/${runId}"]`)).toBeVisible();
  // What the history keeps, from the installation's settings (the defaults here).
  await expect(page.getByTestId("runs-retention")).toHaveText("Runs that finished more than 365 days ago are removed once a day; each table's last results stay.");
  await page.goto("/audit?action=refresh&actor=oscar");
  await expect(page.locator(`a[href="/runs/${runId}"]`).first()).toBeVisible();
  await expect(page.getByTestId("audit-retention")).toHaveText("Events are kept for good.");

  await page.goto("/tables/orders");
  await expect(page.getByTestId("table-config")).toContainText("simple_copy / smart_sync → incremental");
  await expect(page.getByTestId("trend-chart")).toBeVisible();
});

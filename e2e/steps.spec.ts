// An admin adds a post-refresh step from a template (customers' addresses to a sink, in the customers refresh
// transaction), is told what is wrong with a broken one, refreshes, and sees the step on the run page and its effect
// in UAT; every change audited; an incremental refresh's verification shown on its run page. Runs last (workers: 1)
// and removes its step.
import { expect, test } from "@playwright/test";
import pg from "pg";
import { login, stack } from "./helpers";

test("admin adds a post-refresh step from a template; the refresh runs it in the table's transaction and the run page shows it", async ({ page }) => {
  test.setTimeout(120_000);
  await login(page, "admin");
  await page.goto("/admin/steps");
  await expect(page.getByText("No steps yet.")).toBeVisible();

  // A broken step is refused with the field and the reason, nothing saved.
  await page.fill("input[name=name]", "broken");
  await page.fill("textarea[name=sql]", "UPDATE customers SET name = 'x");
  await page.getByRole("button", { name: "Save step" }).click();
  await expect(page.getByTestId("step-form").getByRole("alert")).toContainText("post_refresh_steps[0].sql: has an unterminated string literal starting at character 29");

  await page.getByLabel("Template").selectOption({ label: "Cut outbound email: customer addresses to a sink" });
  await expect(page.locator("textarea[name=sql]")).toHaveValue(/SET email = 'uat\+' \|\| customer_id \|\| '@example\.invalid'/);
  await expect(page.getByLabel("customers", { exact: true })).toBeChecked();
  await page.getByRole("button", { name: "Save step" }).click();
  const step = page.getByTestId("step-Cut outbound email: customer addresses to a sink");
  await expect(step).toContainText("in the transaction of customers");

  await page.goto("/");
  await page.getByTestId("table-row-customers").getByRole("button", { name: "Refresh customers" }).click();
  await page.getByRole("dialog").getByRole("button", { name: /^Refresh / }).click();
  await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
  await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
  // The run is titled by what it refreshes and who asked.
  await expect(page.getByTestId("run-title")).toHaveText(/^Refresh of customers(, [a-z_]+)* by ada@example\.test \(web\)$/);
  const ran = page.getByTestId("step-Cut outbound email: customer addresses to a sink");
  await expect(ran).toContainText("in the transaction of customers");
  await expect(ran).toContainText("succeeded");

  // UAT holds no production address, and the rows the run page shows are the rows the step changed.
  const target = new pg.Client({ connectionString: stack().targetUrl });
  await target.connect();
  try {
    const { rows } = await target.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE email NOT LIKE '%@example.invalid')::int AS real FROM customers");
    expect(rows[0].real).toBe(0);
    await expect(ran).toContainText(rows[0].n.toLocaleString("en-US"));
  } finally {
    await target.end();
  }

  // An incremental window is verified by count and checksum after the commit, and the run page says so.
  await page.goto("/");
  await page.getByTestId("table-row-order_events").getByRole("button", { name: "Refresh order_events" }).click();
  await page.getByRole("dialog").getByRole("button", { name: /^Refresh / }).click();
  await expect(page.getByTestId("run-status")).toContainText("succeeded", { timeout: 60_000 });
  await expect(page.getByTestId("run-table-order_events").getByTestId("verification")).toHaveText(/^verified: [\d]+ row\(s\), counts and checksums equal \(the copied window\)$/);

  await page.goto("/admin/steps");
  // A delete asks first; accepted, the step goes.
  page.once("dialog", (d) => void d.accept());
  await step.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("No steps yet.")).toBeVisible();
  await page.goto("/audit?action=step");
  await expect(page.getByTestId("audit-row").filter({ hasText: "step.create" }).first()).toContainText("Cut outbound email");
  await expect(page.getByTestId("audit-row").filter({ hasText: "step.delete" }).first()).toBeVisible();
});

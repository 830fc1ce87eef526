// An admin configures a new table from the browser, is stopped by the live catalog check, saves a valid config,
// schedules it every minute, and sees the scheduler run it against the embedded PostgreSQL; records a decision on a
// table outside the configuration.
import { expect, test } from "@playwright/test";
import pg from "pg";
import { login, metaQuery, stack } from "./helpers";

test("admin adds a table config (catalog-checked), schedules it, and the scheduled run completes", async ({ page }) => {
  test.setTimeout(180_000);
  await login(page, "admin");
  await page.goto("/admin/tables/new");
  await page.fill("#name", "currencies");
  await page.selectOption("#sync_mode", "incremental");
  await page.fill("#incremental_column", "no_such_column");
  await page.selectOption("#incremental_type", "identity");
  await page.getByRole("button", { name: "Check & preview" }).click();
  await expect(page.getByText("incremental_column no_such_column is not a column of public.currencies (columns: code, name, minor_units)")).toBeVisible();

  // schema errors use the same messages as YAML import
  await page.selectOption("#sync_mode", "smart_sync");
  // smart_sync copies by identity once UAT has rows: its buffer is editable (before, only under incremental).
  await expect(page.getByLabel("Identity buffer")).toBeVisible();
  await page.fill("#incremental_column", "");
  await page.getByRole("button", { name: "Check & preview" }).click();
  await expect(page.getByText("incremental_column: is required when sync_mode is smart_sync")).toBeVisible();

  // An option that does not apply says so.
  await page.selectOption("#sync_mode", "incremental");
  await expect(page.getByTestId("truncate-applies")).toHaveText("Does not apply: an incremental copy never empties the table.");
  await page.selectOption("#sync_mode", "full_replace");
  await expect(page.getByTestId("truncate-applies")).toContainText("Applies to the full replace");
  await page.getByRole("button", { name: "Check & preview" }).click();
  const plan = page.getByTestId("plan");
  await expect(plan).toContainText("Rows expected: 12");
  // What the verification after the commit will compare: every column here (none masked, none typed differently).
  await expect(plan.getByTestId("plan-verifies")).toHaveText("Verifies: row counts and the values of 3 of 3 column(s), on both sides after the commit");
  await expect(plan).toContainText('SELECT "code", "name", "minor_units" FROM "public"."currencies"');
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/admin\/tables\?saved=currencies/);
  await expect(page.getByTestId("admin-table-currencies")).toContainText("simple_copy / full_replace");

  await page.goto("/admin/schedules");
  await page.fill("input[name=name]", "currencies-every-minute");
  await page.fill("input[name=cron]", "not a cron");
  await expect(page.getByTestId("cron-preview")).toContainText("is not a valid cron expression");
  await page.fill("input[name=cron]", "* * * * *");
  await expect(page.getByTestId("cron-preview")).toContainText("Every minute");
  await page.getByLabel("these tables:").check();
  await page.getByLabel("currencies").check();
  await page.getByRole("button", { name: "Save schedule" }).click();
  await expect(page.getByTestId("schedule-currencies-every-minute")).toContainText("Every minute");

  // the in-process scheduler fires at the next minute boundary
  await expect(async () => {
    await page.goto("/runs?table=currencies&status=succeeded");
    await expect(page.getByRole("row").filter({ hasText: "schedule:currencies-every-minute" }).first()).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 130_000, intervals: [5_000] });
  await page.goto("/");
  await expect(page.getByTestId("table-row-currencies").getByTestId("target-rows")).toHaveText("12");

  // Its first run recorded the columns it copies as reviewed; a later edit of the form keeps that baseline (before,
  // a save dropped it and the next run would take a column production gained meanwhile as reviewed).
  const reviewed = async () => (await metaQuery<{ c: string[] }>(`SELECT "reviewedColumns" AS c FROM "TableConfig" WHERE name = 'currencies'`))[0].c;
  expect(await reviewed()).toEqual(["code", "name", "minor_units"]);
  await page.goto("/admin/tables/currencies");
  await page.fill("#batch_size", "5000");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(/\/admin\/tables\?saved=currencies/);
  expect(await reviewed()).toEqual(["code", "name", "minor_units"]);

  // Deleting a table's configuration asks first (its masking rules and decisions go with it); dismissed, it stays.
  let asked = "";
  page.once("dialog", (d) => {
    asked = d.message();
    void d.dismiss();
  });
  await page.getByRole("button", { name: "Delete currencies" }).click();
  await expect.poll(() => asked).toBe("Delete the configuration of currencies in demo_uat, with its masking rules and decisions? Its runs stay in the history; UAT's data is not touched.");
  await page.reload();
  await expect(page.getByTestId("admin-table-currencies")).toBeVisible();

  await page.goto("/audit?action=schedule");
  await expect(page.getByTestId("audit-row").filter({ hasText: "schedule.create" }).first()).toContainText("currencies-every-minute");
  await page.goto("/audit?action=table");
  await expect(page.getByTestId("audit-row").filter({ hasText: "table.create" }).first()).toContainText('"after"');
});

test("operator cannot open admin pages or call admin endpoints: 403 and audited", async ({ page }) => {
  await login(page, "operator");
  const res = await page.goto("/admin/tables");
  expect(res?.status()).toBe(403);
  await expect(page.getByText("403: not allowed")).toBeVisible();
  expect((await page.request.get("/api/config/yaml")).status()).toBe(403);
  await page.goto("/audit?outcome=forbidden&actor=oscar");
  await expect(page.getByTestId("audit-row").filter({ hasText: "export configuration" }).first()).toBeVisible();
});

test("admin previews and applies a YAML import with a diff, and can export", async ({ page }) => {
  await login(page, "admin");
  const yaml = await (await page.request.get("/api/config/yaml?env=demo_uat")).text();
  expect(yaml).toContain("username_env: UAT_REFRESH_DB_USER");
  await page.goto("/admin/config");
  const uat = page.getByTestId("environment-demo_uat");
  await expect(uat.getByTestId("connection-config-source")).toContainText("UAT_REFRESH_DB_PASSWORD");
  await expect(uat.getByTestId("connection-config-source")).toContainText("set");
  await page.getByLabel("Configuration YAML").fill(yaml.replace("max_retries: 3", "max_retries: 5").replace("batch_size: 250000", "batch_size: -1"));
  await page.getByRole("button", { name: "Preview changes" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "invalid" })).toContainText("tables[1].batch_size: Too small");
  await page.getByLabel("Configuration YAML").fill(yaml.replace("max_retries: 3", "max_retries: 5"));
  await page.getByRole("button", { name: "Preview changes" }).click();
  await expect(page.getByTestId("config-diff")).toContainText("settings.max_retries: 3 → 5");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("config-diff")).toContainText("Applied.");
  expect(await (await page.request.get("/api/config/yaml?env=demo_uat")).text()).toContain("max_retries: 5");
});

test("an import that changes a connection needs its own confirmation, and is audited before/after", async ({ page }) => {
  await login(page, "admin");
  const yaml = await (await page.request.get("/api/config/yaml?env=demo_uat")).text();
  const changed = yaml.replace(/(target:\n(?:    .*\n)*?    options: )\{\}/, "$1{ application_name: uat-e2e }");
  expect(changed).not.toBe(yaml);
  await page.goto("/admin/config");
  await page.getByLabel("Configuration YAML").fill(changed);
  await page.getByRole("button", { name: "Preview changes" }).click();
  await expect(page.getByText("I confirm these connection changes")).toBeVisible();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "confirm the connection changes" })).toBeVisible();
  expect(await (await page.request.get("/api/config/yaml?env=demo_uat")).text()).not.toContain("uat-e2e");
  await page.getByLabel(/I confirm these connection changes/).check();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("config-diff")).toContainText("Applied.");
  expect(await (await page.request.get("/api/config/yaml?env=demo_uat")).text()).toContain("application_name: uat-e2e");
  // put it back (confirmed again), then read the audit trail
  await page.getByLabel("Configuration YAML").fill(yaml);
  await page.getByRole("button", { name: "Preview changes" }).click();
  await page.getByLabel(/I confirm these connection changes/).check();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("config-diff")).toContainText("Applied.");
  await page.goto("/audit?action=config.connection_change");
  await expect(page.getByTestId("audit-row").first()).toContainText("target");
});

test("admin changes a user's role (audited with before/after) and cannot demote themselves", async ({ page }) => {
  await login(page, "admin");
  const roleOf = (email: string) => page.getByTestId(`user-${email}`).getByLabel(`Role of ${email}`);
  /** Saves a role, then waits until a fresh page load shows it stored (the select alone changes at once). */
  const setRole = async (email: string, role: string) => {
    await page.goto("/admin/users");
    await roleOf(email).selectOption(role);
    // wait for the server action's response before navigating, so the navigation cannot cancel it
    await Promise.all([page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/admin/users")), page.getByTestId(`user-${email}`).getByRole("button", { name: "Save" }).click()]);
    await expect(async () => {
      await page.goto("/admin/users");
      await expect(roleOf(email)).toHaveValue(role, { timeout: 1000 });
    }).toPass({ timeout: 15_000 });
  };
  await setRole("vera@example.test", "operator");
  await page.goto("/audit?action=user");
  await expect(page.getByTestId("audit-row").first()).toContainText('{"after":{"role":"operator"},"before":{"role":"viewer"}}');
  await setRole("vera@example.test", "viewer");
  await expect(roleOf("ada@example.test")).toBeDisabled();
});

test("a deactivated user cannot sign in until reactivated", async ({ page, browser }) => {
  await login(page, "admin");
  await page.goto("/admin/users");
  const actionDone = () => page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/admin/users"));
  await Promise.all([actionDone(), page.getByTestId("user-vera@example.test").getByRole("button", { name: "Deactivate" }).click()]);
  await expect(async () => {
    await page.goto("/admin/users");
    await expect(page.getByTestId("user-vera@example.test")).toContainText("deactivated", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });

  const other = await browser.newContext();
  const vera = await other.newPage();
  await vera.goto("/login");
  await vera.getByRole("button", { name: /Sign in with Demo identity provider/ }).click();
  await vera.fill("#username", "vera");
  await vera.fill("#password", "vera");
  await vera.click("#sign-in");
  // (Next's route announcer is also an alert region: look for ours by its text)
  await expect(vera.getByRole("alert").filter({ hasText: "deactivated" })).toContainText("Your account is deactivated");
  await other.close();

  await Promise.all([actionDone(), page.getByTestId("user-vera@example.test").getByRole("button", { name: "Activate" }).click()]);
  await expect(async () => {
    await page.goto("/admin/users");
    await expect(page.getByTestId("user-vera@example.test").getByRole("button", { name: "Deactivate" })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await page.goto("/audit?action=user");
  await expect(page.getByTestId("audit-row").filter({ hasText: "user.deactivate" }).first()).toContainText("vera@example.test");
});

test("an admin records that a table outside the configuration keeps its UAT rows, and it is audited", async ({ page }) => {
  const uat = new pg.Client({ connectionString: stack().targetUrl });
  await uat.connect();
  try {
    await uat.query("CREATE TABLE e2e_notes (id int PRIMARY KEY, customer_id int NOT NULL CONSTRAINT e2e_notes_customer_fk REFERENCES customers (customer_id), note text)");
    await login(page, "admin");
    await page.goto("/admin/tables/customers");
    const ref = page.getByTestId("outside-e2e_notes_customer_fk");
    await expect(ref).toContainText("public.e2e_notes (customer_id) via e2e_notes_customer_fk: refuses the refresh of customers");
    await ref.getByLabel("Reason to keep public.e2e_notes").fill("testers keep notes on customers in UAT");
    await ref.getByRole("button", { name: "Keep UAT's rows" }).click();
    await expect(ref).toContainText("UAT's rows are kept (testers keep notes on customers in UAT; ada@example.test). customers is merged, never emptied.");
    await page.goto("/audit?action=table.keep_referencing");
    await expect(page.getByTestId("audit-row").first()).toContainText("customers");
    // Withdrawn again, so the other tests see the demo as it was.
    await page.goto("/admin/tables/customers");
    await page.getByTestId("outside-e2e_notes_customer_fk").getByRole("button", { name: "Withdraw" }).click();
    await expect(page.getByTestId("outside-e2e_notes_customer_fk")).toContainText("refuses the refresh");
  } finally {
    await uat.query("DROP TABLE IF EXISTS e2e_notes");
    await uat.end();
  }
});

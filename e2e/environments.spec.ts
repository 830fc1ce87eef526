// Two environments in the demo (demo_uat and demo_qa, one production): an operator of QA only refreshes QA from its
// dashboard, is refused on UAT with a 403 that the audit trail records with the environment, and an admin sees
// both environments and grants roles per environment.
import { expect, test } from "@playwright/test";
import pg from "pg";
import { login, stack } from "./helpers";

test("an operator of QA refreshes QA (masked) and is refused on UAT: 403, audited with the environment", async ({ page, browser }) => {
  await login(page, "qaOperator");
  // The dashboard has a tab per environment; on UAT (the first) she only watches.
  // The overview: a card per environment.
  await expect(page.getByTestId("overview-demo_uat")).toContainText("table(s)");
  await expect(page.getByTestId("overview-demo_qa")).toContainText("table(s)");
  const tabs = page.getByRole("navigation", { name: "Environments" });
  await expect(tabs.getByRole("link")).toHaveText(["demo_uat", "demo_qa"]);
  await expect(page.getByTestId("table-row-orders")).toBeVisible();
  await expect(page.getByRole("button", { name: "Refresh all" })).toHaveCount(0);
  const refused = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["customers"] } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error).toBe("trigger refresh of customers needs the operator role in demo_uat; you are viewer there");
  // The same refusal when UAT is named as ?env= (the role is checked on the environment however it is named).
  const byQuery = await page.request.post("/api/runs?env=demo_uat", { data: { tables: ["customers"] } });
  expect([byQuery.status(), (await byQuery.json()).error]).toEqual([403, "trigger refresh of customers needs the operator role in demo_uat; you are viewer there"]);

  // QA: her tables, and the button.
  await tabs.getByRole("link", { name: "demo_qa" }).click();
  await expect(page).toHaveURL(/\?env=demo_qa$/);
  await expect(page.getByTestId("table-row-customers")).toBeVisible();
  await expect(page.getByTestId("table-row-orders")).toHaveCount(0);
  await page.getByTestId("table-row-customers").getByRole("button", { name: "Refresh customers" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("environment demo_qa");
  await dialog.getByRole("button", { name: "Refresh 127.0.0.1/demo_qa" }).click();
  await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
  await expect(page.getByTestId("run-status")).toContainText("succeeded");
  await expect(page.getByTestId("run-environment")).toHaveText("demo_qa");

  // QA holds production's customers with names and addresses masked; UAT was not touched by her run.
  const src = new pg.Client({ connectionString: stack().sourceUrl });
  const tgt = new pg.Client({ connectionString: stack().qaUrl });
  await Promise.all([src.connect(), tgt.connect()]);
  try {
    const production = new Set((await src.query("SELECT email FROM customers")).rows.map((r) => r.email));
    const copied = (await tgt.query("SELECT email FROM customers")).rows.map((r) => r.email);
    expect(copied).toHaveLength(5000);
    expect(copied.filter((e) => production.has(e))).toEqual([]);
  } finally {
    await Promise.all([src.end(), tgt.end()]);
  }

  // The refusal is in the audit trail, with the environment.
  const admin = await browser.newPage();
  await login(admin, "admin");
  await admin.goto("/audit?outcome=forbidden&actor=quinn&env=demo_uat");
  const row = admin.getByTestId("audit-row").first();
  await expect(row).toContainText("trigger refresh of customers");
  await expect(row).toContainText("demo_uat");
});

test("an admin sees every environment's runs and grants a role in one environment", async ({ page }) => {
  await login(page, "admin");
  await page.goto("/runs?env=demo_qa");
  await expect(page.getByRole("cell", { name: "demo_qa" }).first()).toBeVisible();
  await expect(page.getByRole("cell", { name: "demo_uat" })).toHaveCount(0);
  await page.goto("/admin/users");
  const vera = page.getByTestId("user-vera@example.test");
  await vera.getByLabel("Environment for vera@example.test").selectOption("demo_qa");
  await vera.getByLabel("Grant role to vera@example.test").selectOption("operator");
  await Promise.all([page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/admin/users")), vera.getByRole("button", { name: "Grant" }).click()]);
  await expect(vera.getByTestId("grants")).toContainText("demo_qa: operator");
  await page.goto("/audit?action=user.grant&env=demo_qa");
  await expect(page.getByTestId("audit-row").first()).toContainText("vera@example.test");
  // Taken back: her installation-wide role applies in QA again.
  await page.goto("/admin/users");
  await vera.getByLabel("Environment for vera@example.test").selectOption("demo_qa");
  await vera.getByLabel("Grant role to vera@example.test").selectOption("default");
  await Promise.all([page.waitForResponse((r) => r.request().method() === "POST" && r.url().includes("/admin/users")), vera.getByRole("button", { name: "Grant" }).click()]);
  await expect(vera.getByTestId("grants")).toContainText("viewer everywhere");
});

test("an environment that requires approval: the requester waits, another operator approves on the run page, it runs", async ({ page, browser }) => {
  // An admin turns approval on for QA (an import of QA's own file, with the rule added).
  const admin = await browser.newPage();
  await login(admin, "admin");
  const qaYaml = await (await admin.request.get("/api/config/yaml?env=demo_qa")).text();
  const withApproval = `${qaYaml}approval:\n  required: true\n  expires_after_hours: 4\n`;
  const applied = await admin.request.post("/api/config/yaml", { data: { yaml: withApproval, apply: true } });
  expect(applied.status(), await applied.text()).toBe(200);
  try {
    // Quinn (operator of QA) asks; the run waits, and she cannot approve her own request.
    await login(page, "qaOperator");
    const asked = await page.request.post("/api/runs", { data: { environment: "demo_qa", tables: ["customers"] } });
    expect(asked.status()).toBe(202);
    const { runId } = await asked.json();
    await page.goto(`/runs/${runId}`);
    await expect(page.getByTestId("run-status")).toContainText("awaiting_approval");
    await expect(page.getByTestId("approval")).toContainText("You asked for this run: another operator decides on it.");
    await expect(page.getByRole("button", { name: "Approve" })).toHaveCount(0);
    const own = await page.request.post(`/api/runs/${runId}/approval`, { data: { decision: "approve" } });
    expect(own.status()).toBe(403);

    // Oscar (an operator everywhere) approves it on the run page; it is queued and runs.
    const oscar = await browser.newPage();
    await login(oscar, "operator");
    await oscar.goto(`/runs/${runId}`);
    await oscar.getByLabel("Decision note").fill("QA campaign starts Monday");
    await oscar.getByRole("button", { name: "Approve" }).click();
    await expect(oscar.getByTestId("decision")).toContainText("Approved by oscar@example.test: QA campaign starts Monday");
    await expect(oscar.getByTestId("run-status")).toContainText("succeeded", { timeout: 30_000 });
    await admin.goto("/audit?action=refresh.approve&env=demo_qa");
    await expect(admin.getByTestId("audit-row").first()).toContainText("oscar@example.test");
  } finally {
    const restored = await admin.request.post("/api/config/yaml", { data: { yaml: qaYaml, apply: true } });
    expect(restored.status()).toBe(200);
  }
});

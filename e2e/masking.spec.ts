// An admin scans the demo production for personal data, accepts one proposal and edits another, previews the
// masking, refreshes, and UAT holds masked values only. Operators and viewers may not preview (403, audited).
import { readFileSync } from "node:fs";
import pg from "pg";
import { expect, test, type Browser } from "@playwright/test";
import { login, USERS } from "./helpers";

const stack = () => JSON.parse(readFileSync(".data/e2e/stack.json", "utf8")) as { targetUrl: string; sourceUrl: string; metaUrl: string };

async function client(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

test("admin: PII scan, accept a proposal, edit another, preview, refresh: the target holds masked values", async ({ page }) => {
  await login(page, "admin");
  await page.goto("/admin/masking");
  await page.getByRole("button", { name: "Scan source for personal data" }).click();
  await expect(page.getByRole("status")).toContainText(/Scanned every table: \d+ column\(s\) look like personal data/);

  // Found by the scan: customers.email (by name and values) and customers.name (by name); flagged, so refused for now
  const email = page.getByTestId("proposal-customers-email");
  await expect(email).toContainText("customers.email");
  await expect(page.getByTestId("masking-customers")).toContainText("refused: name, email not masked");
  await email.getByRole("button", { name: "Accept fake_email" }).click();
  await expect(email).toBeHidden();

  // Edit the name proposal: partial instead of the proposed fake_full_name; the schema's message on a missing parameter
  const name = page.getByTestId("proposal-customers-name");
  await name.getByRole("link", { name: "Edit the rule first" }).click();
  await expect(page).toHaveURL(/\/admin\/masking\/customers\?column=name&rule=fake_full_name/);
  await expect(page.getByLabel("Rule 2 column")).toHaveValue("name");
  await page.getByLabel("Rule 2 rule").selectOption("partial");
  await page.getByRole("button", { name: "Save rules" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "masking[1]" })).toHaveText("masking[1].keep_first: partial needs keep_first and/or keep_last");
  await page.getByLabel("Rule 2 keep_first").fill("2");
  await page.getByRole("button", { name: "Save rules" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Masking rules saved." })).toBeVisible();

  // Preview: the first source rows before and after, nothing written
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByRole("table", { name: "Masking preview" });
  await expect(preview).toBeVisible();
  const firstRow = preview.locator("tbody tr").first();
  await expect(firstRow.locator("td").nth(1).getByTestId("before")).toHaveText("ben.1@example.com");
  await expect(firstRow.locator("td").nth(1).getByTestId("after")).toHaveText(/^[a-z]+\.[a-z]+\.[0-9a-f]{16}@example\.com$/);
  await expect(firstRow.locator("td").nth(2).getByTestId("after")).toHaveText(/^Be\*+$/);
  const previewedEmail = await firstRow.locator("td").nth(1).getByTestId("after").textContent();

  // Any other proposal (a configured table's false positive): an explicit, reasoned decision
  await page.goto("/admin/masking");
  const proposals = page.locator('[data-testid^="proposal-"]');
  let decided = 0;
  while ((await proposals.count()) > 0) {
    const id = (await proposals.first().getAttribute("data-testid"))!;
    await page.getByTestId(id).getByRole("textbox").fill("e2e: reviewed, not personal data");
    await page.getByTestId(id).getByRole("button", { name: "No masking needed" }).click();
    await expect(page.getByTestId(id)).toBeHidden();
    decided++;
  }
  await expect(page.getByText("None: every flagged column is masked or has a recorded decision.")).toBeVisible();
  await expect(page.getByTestId("masking-customers")).toContainText("allowed");

  // Refresh customers from the dashboard
  await page.goto("/");
  await page.getByTestId("table-row-customers").getByRole("button", { name: "Refresh customers" }).click();
  await page.getByRole("dialog").getByRole("button", { name: /^Refresh / }).click();
  await expect(page).toHaveURL(/\/runs\/[a-z0-9]+$/);
  await expect(page.getByTestId("run-status")).toContainText("succeeded");
  await expect(page.getByTestId("run-table-customers").getByTestId("masked-columns")).toHaveText("Masked: email (fake_email), name (partial)");

  const [source, target] = [await client(stack().sourceUrl), await client(stack().targetUrl)];
  try {
    const sourceEmails = new Set((await source.query("SELECT email FROM customers")).rows.map((r) => r.email));
    const sourceNames = new Set((await source.query("SELECT name FROM customers")).rows.map((r) => r.name));
    const rows = (await target.query("SELECT customer_id, name, email FROM customers ORDER BY customer_id")).rows;
    expect(rows.length).toBe(sourceEmails.size);
    expect(rows.filter((r) => sourceEmails.has(r.email))).toEqual([]);
    expect(rows.filter((r) => sourceNames.has(r.name))).toEqual([]);
    expect(rows.every((r) => /^[a-z]+\.[a-z]+\.[0-9a-f]{16}@example\.com$/.test(r.email))).toBe(true);
    expect(rows[0].email).toBe(previewedEmail); // the preview showed what the refresh wrote
  } finally {
    await Promise.all([source.end(), target.end()]);
  }

  // Every step is in the audit trail: the scan, the accepted rule, the edit, the decisions, the preview
  const meta = await client(stack().metaUrl);
  try {
    const actions = (await meta.query("SELECT action FROM \"AuditEvent\" WHERE actor = 'ada@example.test' AND action LIKE ANY (ARRAY['pii.%', 'masking.%'])")).rows.map((r) => r.action);
    expect(new Set(actions)).toEqual(new Set(["pii.scan", "masking.flag", "masking.rules", "masking.preview", ...(decided ? ["masking.no_masking_needed"] : [])]));
    const edit = (await meta.query("SELECT details FROM \"AuditEvent\" WHERE action = 'masking.rules' AND target = 'customers' ORDER BY at DESC LIMIT 1")).rows[0].details;
    expect(edit.before.masking).toEqual([{ column: "email", rule: "fake_email" }]);
    expect(edit.after.masking).toEqual([{ column: "email", rule: "fake_email" }, { column: "name", rule: "partial", keep_first: 2 }]);
    // the preview is on record with the rules it ran, word for word
    const preview = (await meta.query("SELECT details FROM \"AuditEvent\" WHERE action = 'masking.preview' AND target = 'customers' ORDER BY at DESC LIMIT 1")).rows[0].details;
    expect(preview.rules).toContainEqual(expect.objectContaining({ column: "email", rule: "fake_email" }));
  } finally {
    await meta.end();
  }
});

async function previewAs(browser: Browser, who: "operator" | "viewer") {
  const context = await browser.newContext();
  const page = await context.newPage();
  await login(page, who);
  const res = await page.request.post("/api/tables/customers/masking/preview", { data: {} });
  const answer = { status: res.status(), body: (await res.json()) as { error?: string } };
  await context.close();
  return answer;
}

test("operators and viewers cannot preview masking: 403, and the refusal is audited", async ({ browser }) => {
  for (const who of ["operator", "viewer"] as const) {
    const res = await previewAs(browser, who);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe(`preview masking of customers needs the admin role; you are ${who}`);
  }
  const meta = await client(stack().metaUrl);
  try {
    const refused = (await meta.query("SELECT actor FROM \"AuditEvent\" WHERE action = 'forbidden' AND target = 'preview masking of customers' ORDER BY at")).rows.map((r) => r.actor);
    expect(refused).toEqual([`${USERS.operator.username}@example.test`, `${USERS.viewer.username}@example.test`]);
  } finally {
    await meta.end();
  }
});

// Every role rule, proven through the HTTP surface (not only by hidden buttons), and each refusal audited.
import { expect, test } from "@playwright/test";
import { login } from "./helpers";

test("without a session the API answers 401", async ({ request }) => {
  expect((await request.get("/api/status")).status()).toBe(401);
  expect((await request.post("/api/runs", { data: { dryRun: true } })).status()).toBe(401);
  expect((await request.get("/api/audit/csv")).status()).toBe(401);
});

test("viewer: sees the dashboard, has no trigger buttons, and the server refuses a trigger with 403 + audit", async ({ page }) => {
  await login(page, "viewer");
  await expect(page.getByTestId("table-row-orders")).toBeVisible();
  await expect(page.getByRole("button", { name: "Refresh all" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Refresh orders" })).toHaveCount(0);

  expect((await page.request.get("/api/status?env=demo_uat")).status()).toBe(200);
  expect((await page.request.post("/api/runs/anything/cancel", { data: {} })).status()).toBe(403);
  expect((await page.request.post("/api/runs/anything/retry", { data: {} })).status()).toBe(403);
  const refused = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["orders"] } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error).toMatch(/needs the operator role in demo_uat; you are viewer there/);

  await page.goto("/audit?outcome=forbidden&actor=vera");
  const row = page.getByTestId("audit-row").first();
  await expect(row).toContainText("vera@example.test");
  await expect(row).toContainText("trigger refresh of orders");
});

test("operator: may trigger (a dry run here), and it is audited", async ({ page }) => {
  await login(page, "operator");
  await expect(page.getByRole("button", { name: "Refresh all" })).toBeVisible();
  const res = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["customers"], dryRun: true } });
  expect(res.status()).toBe(202);
  const { runId } = await res.json();
  await expect.poll(async () => (await (await page.request.get(`/api/runs/${runId}`)).json()).status).toBe("succeeded");
  // The dry run's page says what the refresh's verification would compare.
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId("run-table-customers").getByTestId("verification-plan")).toHaveText(/^Verifies: row counts and the values of \d+ of \d+ column\(s\), on both sides after the commit/);
  const late = await page.request.post(`/api/runs/${runId}/cancel`, { data: {} });
  expect(late.status()).toBe(409);
  expect((await late.json()).error).toBe("the run has already finished");
  await page.goto("/audit?action=refresh&actor=oscar");
  await expect(page.getByTestId("audit-row").filter({ hasText: "refresh.dry_run" }).filter({ hasText: runId })).toHaveCount(1);
});

test("bad trigger requests get a clear 400", async ({ page }) => {
  await login(page, "operator");
  const unknown = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["no_such_table"] } });
  expect(unknown.status()).toBe(400);
  expect((await unknown.json()).error).toMatch(/unknown table no_such_table; configured tables: customers, orders/);
  const malformed = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: "orders" } });
  expect(malformed.status()).toBe(400);
  expect((await malformed.json()).issues[0]).toMatch(/^tables: /);
  // The environment as ?env=NAME, as the refusal to guess one says; two different names are refused.
  const guess = await page.request.post("/api/runs", { data: { tables: ["customers"], dryRun: true } });
  expect([guess.status(), (await guess.json()).error]).toEqual([400, "this installation has 2 environments (demo_uat, demo_qa): name one (--env NAME, or ?env=NAME)"]);
  const named = await page.request.post("/api/runs?env=demo_uat", { data: { tables: ["customers"], dryRun: true } });
  expect(named.status()).toBe(202);
  const { runId } = await named.json();
  // Ended before the next test triggers customers (a table queued or running refuses another trigger).
  await expect.poll(async () => (await (await page.request.get(`/api/runs/${runId}`)).json()).status, { timeout: 60_000 }).toBe("succeeded");
  const both = await page.request.post("/api/runs?env=demo_qa", { data: { environment: "demo_uat", tables: ["customers"], dryRun: true } });
  expect([both.status(), (await both.json()).error]).toEqual([400, "the body names environment demo_uat and ?env= names demo_qa: name one"]);
  // An API path that does not exist answers JSON, not the app's HTML page.
  const missing = await page.request.get("/api/tables/customers");
  expect([missing.status(), await missing.json()]).toEqual([404, { error: "no such API route: GET /api/tables/customers" }]);
});

test("20 concurrent trigger requests for one table: the ones that lose get 409, no two runs overlap", async ({ page }) => {
  await login(page, "operator");
  const responses = await Promise.all(Array.from({ length: 20 }, () => page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["customers"] } })));
  const codes = responses.map((r) => r.status());
  expect(codes.every((c) => c === 202 || c === 409)).toBe(true);
  expect(codes.filter((c) => c === 202).length).toBeGreaterThanOrEqual(1);
  const ids = await Promise.all(responses.filter((r) => r.status() === 202).map(async (r) => (await r.json()).runId as string));
  for (const r of responses.filter((r) => r.status() === 409)) {
    // The refusal says which run holds the table, who started it, and where to follow it.
    const body = await r.json();
    expect(body.error).toMatch(/customers is already (queued in|being refreshed by) run \S+ \(started by oscar@example\.test from web; follow it at \/runs\/\S+\)/);
    expect(ids).toContain(body.busy[0].runId);
    expect(body.busy[0].url).toBe(`/runs/${body.busy[0].runId}`);
  }
  const runs = [];
  for (const id of ids) {
    await expect.poll(async () => (await (await page.request.get(`/api/runs/${id}`)).json()).status, { timeout: 30_000 }).toBe("succeeded");
    runs.push(await (await page.request.get(`/api/runs/${id}`)).json());
  }
  runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  for (let i = 1; i < runs.length; i++) expect(runs[i].startedAt >= runs[i - 1].finishedAt).toBe(true);
});

// A pipeline refreshes QA before its test suite: an admin creates a service token scoped to QA (shown once), the CLI
// in --api mode triggers through the app's OpenAPI description and waits for the outcome as its exit code; the token
// cannot touch UAT, stops working once revoked, and every use is in the audit trail under its name.
import { expect, test } from "@playwright/test";
import { runCli } from "../tests/support/cli";
import { login } from "./helpers";

const API = "http://localhost:3000";
// No metadata database and no database credentials: the pipeline has only the app's URL and the token.
const pipelineEnv = (token: string) => ({ UAT_REFRESH_TOKEN: token, DATABASE_URL: "", UAT_REFRESH_DB_USER: "", UAT_REFRESH_DB_PASSWORD: "" });

test("a service token scoped to QA: trigger and wait from a pipeline, refused on UAT, revoked, audited", async ({ page, request }) => {
  const doc = await (await request.get("/api/openapi.json")).json();
  expect(Object.values(doc.paths).flatMap((p) => Object.values(p as Record<string, { operationId: string }>).map((o) => o.operationId))).toEqual(["getStatus", "triggerRun", "getRun", "cancelRun", "retryRun"]);

  await login(page, "admin");
  await page.goto("/admin/tokens");
  await page.getByLabel("Name").fill("qa-pipeline");
  await page.getByLabel("demo_qa").check();
  await page.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("token-value").textContent())!.trim();
  expect(token).toMatch(/^uatr_/);

  // A dry run first: the plan as the run recorded it, what the verification will compare (QA masks two columns).
  const plan = await runCli(["--api", API, "--env", "demo_qa", "--table", "customers", "--dry-run", "--wait"], pipelineEnv(token));
  expect(plan.code, plan.output).toBe(0);
  expect(plan.output).toMatch(/✓ customers: simple_copy \/ full_replace \(.+\)\n {4}rows expected: 5000\n {4}verifies: row counts and the values of 5 of 7 column\(s\), on both sides after the commit; counted only: name \(masked\), email \(masked\)\n/);

  const run = await runCli(["--api", API, "--env", "demo_qa", "--table", "customers", "--force", "--wait"], pipelineEnv(token));
  expect(run.code, run.output).toBe(0);
  expect(run.output).toMatch(/run \w+: succeeded/);
  expect(run.output).toMatch(/✓ customers: succeeded, 5000 rows committed; verified: 5000 row\(s\)/);
  // A retry of it has nothing to take up: refused with the reason, exit 2 as a usage error (not 3, "busy").
  const runId = /run (\w+): succeeded/.exec(run.output)![1];
  const retry = await runCli(["--api", API, "--retry", runId, "--wait"], pipelineEnv(token));
  expect(retry.code, retry.output).toBe(2);
  expect(retry.output).toContain(`HTTP 409: run ${runId} succeeded: every table finished`);

  const uat = await runCli(["--api", API, "--env", "demo_uat", "--table", "customers", "--force"], pipelineEnv(token));
  expect(uat.code).toBe(2);
  expect(uat.output).toContain("HTTP 403: trigger refresh of customers: token qa-pipeline may not act on environment demo_uat");
  // A bearer request needs no same-origin headers (no cookie is involved), and a wrong token is a 401.
  expect((await request.get("/api/status?env=demo_qa", { headers: { authorization: "Bearer uatr_wrong" } })).status()).toBe(401);

  await page.reload();
  await expect(page.getByTestId("token-qa-pipeline")).not.toContainText("never");
  await page.getByTestId("token-qa-pipeline").getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("token-qa-pipeline")).toContainText("revoked by ada@example.test");
  const revoked = await runCli(["--api", API, "--env", "demo_qa", "--force"], pipelineEnv(token));
  expect(revoked.code).toBe(2);
  expect(revoked.output).toContain("HTTP 401: token qa-pipeline was revoked");

  await page.goto("/audit?actor=token qa-pipeline");
  const rows = page.getByTestId("audit-row");
  await expect(rows.filter({ hasText: "refresh.trigger" }).first()).toBeVisible();
  await expect(rows.filter({ hasText: "token.use" }).filter({ hasText: "denied" }).first()).toBeVisible();
  await expect(rows.filter({ hasText: "forbidden" }).first()).toContainText("demo_uat");
});

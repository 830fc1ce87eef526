// An admin sets up a webhook channel in the UI; a refresh fails; the run page shows the delivery, and the local
// receiver got the message with the link to the run.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import pg from "pg";
import { expect, test } from "@playwright/test";
import { login } from "./helpers";

const stack = () => JSON.parse(readFileSync(".data/e2e/stack.json", "utf8")) as { targetUrl: string };

test("a failed refresh notifies the webhook an admin configured, and the run page shows the delivery", async ({ page }) => {
  const received: { event: string; subject: string; url: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const uat = new pg.Client({ connectionString: stack().targetUrl });
  await uat.connect();
  try {
    await login(page, "admin");
    await page.goto("/admin/notifications");
    await page.getByLabel("Name").fill("e2e-hook");
    await page.getByLabel("Kind").selectOption("webhook");
    await page.getByLabel("Webhook URL").fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    await page.getByLabel("a run failed (or was interrupted)").check();
    await page.getByRole("button", { name: "Save channel" }).click();
    await expect(page.getByRole("status")).toContainText("Saved channel e2e-hook.");
    await expect(page.getByTestId("channel-e2e-hook")).toContainText("a run failed");

    // UAT gains a NOT NULL column production does not have, with nothing to fill it: the refresh of customers
    // fails, naming it
    await uat.query("ALTER TABLE customers ADD COLUMN e2e_extra int NOT NULL DEFAULT 0");
    await uat.query("ALTER TABLE customers ALTER COLUMN e2e_extra DROP DEFAULT");
    const res = await page.request.post("/api/runs", { data: { environment: "demo_uat", tables: ["customers"] } });
    expect(res.status()).toBe(202);
    const { runId } = await res.json();
    await page.goto(`/runs/${runId}`);
    await expect(page.getByTestId("run-status")).toContainText("failed", { timeout: 30_000 });
    await expect(page.getByTestId("delivery-e2e-hook")).toContainText("sent", { timeout: 30_000 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ event: "run_failed", subject: "UAT refresh failed (demo_uat): customers", url: `http://localhost:3000/runs/${runId}` });

    await page.goto("/audit?action=notification");
    await expect(page.getByTestId("audit-row").filter({ hasText: "notification.create" }).first()).toContainText("e2e-hook");
  } finally {
    await uat.query("ALTER TABLE customers DROP COLUMN IF EXISTS e2e_extra");
    await uat.end();
    receiver.close();
    await page.goto("/admin/notifications");
    page.once("dialog", (d) => void d.accept());
    await page.getByTestId("channel-e2e-hook").getByRole("button", { name: "Delete" }).click().catch(() => {});
  }
});

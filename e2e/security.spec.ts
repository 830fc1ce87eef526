// Cross-site requests and replayed server actions, in a real browser against the real app.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { login, metaQuery, runCount } from "./helpers";

/** A page on another port of the same host: same site, so the browser sends the app's SameSite=Lax cookie. */
function evilSite(): Promise<{ url: string; close(): Promise<void> }> {
  const html = `<!doctype html><html><body>
<form id="form" method="post" action="http://localhost:3000/api/runs" enctype="text/plain" target="sink">
  <input name='{"tables":["customers"],"x":"' value='"}'>
</form>
<iframe name="sink"></iframe>
<script>
  window.attack = async () => {
    const results = [];
    for (const [type, body] of [["text/plain", '{"tables":["customers"]}'], ["application/json", '{"tables":["customers"]}']]) {
      try {
        const r = await fetch("http://localhost:3000/api/runs", { method: "POST", credentials: "include", mode: "no-cors", headers: { "content-type": type }, body });
        results.push(type + ": sent (" + r.type + ")");
      } catch (e) { results.push(type + ": " + e.message); }
    }
    document.getElementById("form").submit();
    return results;
  };
</script></body></html>`;
  const server = http.createServer((_req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(html);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://localhost:${(server.address() as AddressInfo).port}/`, close: () => new Promise((r) => server.close(() => r())) }),
    ),
  );
}

test("a page on another port of the host cannot start a run with the operator's session", async ({ page }) => {
  await login(page, "operator");
  const before = await runCount();
  const evil = await evilSite();
  try {
    const attacker = await page.context().newPage();
    await attacker.goto(evil.url);
    const sent = await attacker.evaluate(() => (window as unknown as { attack(): Promise<string[]> }).attack());
    expect(sent.join("; ")).toMatch(/text\/plain: sent/); // the browser did deliver the simple request
    // The form post lands in the iframe; give the server the moment it needs to answer all three.
    await expect.poll(async () => (await metaQuery(`SELECT 1 FROM "AuditEvent" WHERE action = 'request.refused' AND actor = 'oscar@example.test'`)).length).toBeGreaterThanOrEqual(3);
  } finally {
    await evil.close();
  }
  expect(await runCount()).toBe(before);
  const refusals = await metaQuery<{ details: { reason: string } }>(`SELECT details FROM "AuditEvent" WHERE action = 'request.refused' AND actor = 'oscar@example.test'`);
  expect(refusals.map((r) => r.details.reason).join("\n")).toMatch(/application\/json|cross-origin request/);
});

test("state-changing API requests must be same-origin JSON: every forged shape is refused and audited", async ({ page }) => {
  await login(page, "operator");
  const before = await runCount();
  const forged: { headers: Record<string, string>; status: number; reason: RegExp }[] = [
    { headers: { origin: "http://evil.example", "content-type": "application/json" }, status: 403, reason: /cross-origin request from http:\/\/evil\.example/ },
    { headers: { origin: "null", "content-type": "application/json" }, status: 403, reason: /cross-origin request from null/ },
    { headers: { origin: "http://localhost:3000", "content-type": "text/plain" }, status: 415, reason: /take only application\/json \(got text\/plain\)/ },
    { headers: { referer: "http://evil.example/page", "content-type": "application/json" }, status: 403, reason: /Referer from http:\/\/evil\.example/ },
    { headers: { "sec-fetch-site": "same-site", "content-type": "application/json" }, status: 403, reason: /Sec-Fetch-Site: same-site/ },
  ];
  for (const f of forged) {
    for (const path of ["/api/runs", "/api/runs/anything/cancel", "/api/runs/anything/retry", "/api/tables/customers/masking/preview"]) {
      const r = await page.request.post(path, { headers: f.headers, data: JSON.stringify({ tables: ["customers"] }) });
      expect(r.status(), `${path} with ${JSON.stringify(f.headers)}`).toBe(f.status);
      expect((await r.json()).error).toMatch(f.reason);
    }
  }
  expect(await runCount()).toBe(before);
  const audited = await metaQuery(`SELECT 1 FROM "AuditEvent" WHERE action = 'request.refused' AND actor = 'oscar@example.test' AND outcome = 'forbidden'`);
  expect(audited.length).toBeGreaterThanOrEqual(forged.length * 4);
  // The app's own page still works: the browser sends Origin and Sec-Fetch-Site for it.
  const own = await page.evaluate(async () => (await fetch("/api/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ environment: "demo_uat", tables: ["customers"], dryRun: true }) })).status);
  expect(own).toBe(202);
});

test("a viewer replaying an admin's server action gets a 403 (not a 200 or a 500), audited, and nothing changes", async ({ browser }) => {
  const adminCtx = await browser.newContext();
  const admin = await adminCtx.newPage();
  await login(admin, "admin");
  await admin.goto("/admin/schedules");
  // Capture the action request the admin's browser sends, without letting it run.
  let captured: { headers: Record<string, string>; body: Buffer } | null = null;
  await admin.route("**/admin/schedules", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"]) {
      captured = { headers: req.headers(), body: req.postDataBuffer()! };
      await route.abort();
    } else await route.continue();
  });
  await admin.fill("input[name=name]", "replayed-by-viewer");
  await admin.fill("input[name=cron]", "0 3 * * *");
  await admin.getByRole("button", { name: "Save schedule" }).click();
  await expect.poll(() => captured !== null).toBe(true);
  await adminCtx.close();

  const viewerCtx = await browser.newContext();
  const viewer = await viewerCtx.newPage();
  await login(viewer, "viewer");
  const { headers, body } = captured!;
  const replay = await viewer.request.post("/admin/schedules", {
    headers: { "next-action": headers["next-action"], "next-router-state-tree": headers["next-router-state-tree"] ?? "", "content-type": headers["content-type"], origin: "http://localhost:3000", accept: "text/x-component" },
    data: body,
  });
  expect(replay.status()).toBe(403);
  await viewerCtx.close();
  expect(await metaQuery(`SELECT 1 FROM "Schedule" WHERE name = 'replayed-by-viewer'`)).toHaveLength(0);
  const audit = await metaQuery(`SELECT 1 FROM "AuditEvent" WHERE action = 'forbidden' AND actor = 'vera@example.test' AND target = 'edit schedule'`);
  expect(audit.length).toBeGreaterThanOrEqual(1);
});

test("a server action from another origin is refused 403 and audited (not a 500), and nothing changes", async ({ browser }) => {
  const adminCtx = await browser.newContext();
  const admin = await adminCtx.newPage();
  await login(admin, "admin");
  await admin.goto("/admin/schedules");
  let captured: { headers: Record<string, string>; body: Buffer } | null = null;
  await admin.route("**/admin/schedules", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"]) {
      captured = { headers: req.headers(), body: req.postDataBuffer()! };
      await route.abort();
    } else await route.continue();
  });
  await admin.fill("input[name=name]", "sent-from-elsewhere");
  await admin.fill("input[name=cron]", "0 4 * * *");
  await admin.getByRole("button", { name: "Save schedule" }).click();
  await expect.poll(() => captured !== null).toBe(true);
  const { headers, body } = captured!;
  // the admin's own session, the action sent from a page of another origin
  const forged = await admin.request.post("/admin/schedules", {
    headers: { "next-action": headers["next-action"], "content-type": headers["content-type"], origin: "http://evil.example", "sec-fetch-site": "cross-site", accept: "text/x-component" },
    data: body,
  });
  expect(forged.status()).toBe(403);
  expect((await forged.json()).error).toBe("cross-origin server action from http://evil.example");
  await adminCtx.close();
  expect(await metaQuery(`SELECT 1 FROM "Schedule" WHERE name = 'sent-from-elsewhere'`)).toHaveLength(0);
  const audit = await metaQuery(`SELECT details FROM "AuditEvent" WHERE action = 'request.refused' AND target = 'server action on /admin/schedules' AND actor = 'ada@example.test'`);
  expect(audit.length).toBeGreaterThanOrEqual(1);
});

test("a YAML bomb and an oversized configuration get a clear 400 / 413, never a 500", async ({ page }) => {
  await login(page, "admin");
  const bomb = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;
  const refusedBomb = await page.request.post("/api/config/yaml", { data: { yaml: bomb } });
  expect(refusedBomb.status()).toBe(400);
  expect((await refusedBomb.json()).issues.join(" ")).toMatch(/alias/i);
  const huge = `# ${"x".repeat(1_200_000)}\n`;
  const refusedHuge = await page.request.post("/api/config/yaml", { data: { yaml: huge } });
  expect(refusedHuge.status()).toBe(413);
  expect((await refusedHuge.json()).issues).toEqual(["(root): the file is 1.1 MiB; a configuration may be at most 1 MiB"]);
  // The admin page says the same before sending anything.
  await page.goto("/admin/config");
  await page.locator("input[type=file]").setInputFiles({ name: "big.yaml", mimeType: "text/yaml", buffer: Buffer.from(huge) });
  await expect(page.getByRole("alert").filter({ hasText: "big.yaml is 1.1 MiB" })).toBeVisible();
});

// The operations endpoints over HTTP against the running app: health and readiness unauthenticated and revealing
// nothing; /metrics only with the bearer token, then Prometheus text with the run figures.
import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";

const token = () => (JSON.parse(readFileSync(".data/e2e/stack.json", "utf8")) as { metricsToken: string }).metricsToken;

test("health, readiness and metrics answer a load balancer and Prometheus, and nobody else gets the metrics", async ({ request }) => {
  const health = await request.get("/api/health");
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });

  const ready = await request.get("/api/ready");
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ ready: true, checks: { metadata: "ok", queue: "ok" } });

  expect((await request.get("/metrics")).status()).toBe(401);
  expect((await request.get("/metrics", { headers: { authorization: "Bearer wrong" } })).status()).toBe(401);
  const metrics = await request.get("/metrics", { headers: { authorization: `Bearer ${token()}` } });
  expect(metrics.status()).toBe(200);
  expect(metrics.headers()["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  expect(text).toContain("# TYPE uat_refresh_queue_depth gauge");
  expect(text).toMatch(/^uat_refresh_queue_depth \d+$/m);
  expect(text).toMatch(/^uat_refresh_runs_running \d+$/m);
});

// A table refreshed only from a `--config` file (never stored in the metadata DB) still has a history page.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { runCli } from "../tests/support/cli";
import { login } from "./helpers";

const stack = () => JSON.parse(readFileSync(".data/e2e/stack.json", "utf8")) as { targetUrl: string; sourceUrl: string; metaUrl: string };

test("the table page of a table that ran only from --config answers, with its runs", async ({ page }) => {
  const { sourceUrl, targetUrl, metaUrl } = stack();
  for (const [url, rows] of [[sourceUrl, 40], [targetUrl, 0]] as const) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("DROP TABLE IF EXISTS adhoc_extract; CREATE TABLE adhoc_extract (id int PRIMARY KEY, v text)");
    if (rows) await c.query(`INSERT INTO adhoc_extract SELECT g, 'v' || g FROM generate_series(1, ${rows}) g`);
    await c.end();
  }
  const u = (url: string) => new URL(url);
  const side = (url: string) => `{ engine: postgres, server: ${u(url).hostname}, port: ${u(url).port}, database: ${u(url).pathname.slice(1)}, username_env: UAT_REFRESH_DB_ADHOC_USER, password_env: UAT_REFRESH_DB_ADHOC_PASSWORD }`;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "adhoc-")), "adhoc.yaml");
  writeFileSync(file, `databases:\n  source: ${side(sourceUrl)}\n  target: ${side(targetUrl)}\ntables:\n  - { name: adhoc_extract, strategy: simple_copy, sync_mode: full_replace }\n`);
  const cli = await runCli(["--config", file, "--table", "adhoc_extract", "--force"], {
    DATABASE_URL: metaUrl,
    UAT_REFRESH_DB_ADHOC_USER: decodeURIComponent(u(sourceUrl).username),
    UAT_REFRESH_DB_ADHOC_PASSWORD: decodeURIComponent(u(sourceUrl).password),
  });
  expect(cli.code, cli.output).toBe(0);

  await login(page, "viewer");
  const res = await page.goto("/tables/adhoc_extract");
  expect(res?.status()).toBe(200);
  await expect(page.getByTestId("table-config")).toContainText("not in the stored configuration (refreshed from a --config file)");
  await expect(page.getByTestId("trend-chart")).toBeVisible();
  expect((await page.goto("/tables/never_seen_anywhere"))?.status()).toBe(404);
});

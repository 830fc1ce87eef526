import { readFileSync } from "node:fs";
import { expect, type Page } from "@playwright/test";
import pg from "pg";

export const USERS = {
  admin: { username: "ada", name: "Ada Admin" },
  operator: { username: "oscar", name: "Oscar Operator" },
  viewer: { username: "vera", name: "Vera Viewer" },
  // A viewer with a grant: operator of demo_qa only.
  qaOperator: { username: "quinn", name: "Quinn QA" },
  // Claims ada's email, which the IdP does not assert as verified.
  impostor: { username: "mallory", name: "Mallory Mimic" },
} as const;

/** The e2e stack's identity providers: the demo one on :4000 and a second issuer on :4001. */
export const PROVIDERS = {
  demo: { button: /Sign in with Demo identity provider/, url: /127\.0\.0\.1:4000\/interaction\// },
  second: { button: /Sign in with Second identity provider/, url: /127\.0\.0\.1:4001\/interaction\// },
} as const;

/** Signs in through the real OIDC flow: app -> dev IdP login form -> callback -> dashboard. */
export async function login(page: Page, who: keyof typeof USERS, provider: keyof typeof PROVIDERS = "demo") {
  const u = USERS[who];
  const p = PROVIDERS[provider];
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await page.getByRole("button", { name: p.button }).click();
  await expect(page).toHaveURL(p.url);
  await page.fill("#username", u.username);
  await page.fill("#password", u.username);
  await page.click("#sign-in");
  await expect(page).toHaveURL("http://localhost:3000/");
  await expect(page.getByTestId("current-user")).toContainText(u.name);
}

/** The e2e stack's databases (written by `scripts/demo.ts --e2e`). */
export const stack = () => JSON.parse(readFileSync(".data/e2e/stack.json", "utf8")) as { targetUrl: string; qaUrl: string; sourceUrl: string; metaUrl: string };

/** One query on the metadata DB, for checks the UI cannot make (e.g. that a refused request started no run). */
export async function metaQuery<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
  const meta = new pg.Client({ connectionString: stack().metaUrl });
  await meta.connect();
  try {
    return (await meta.query<R>(sql, params)).rows;
  } finally {
    await meta.end();
  }
}

/** Runs people started (the admin test's every-minute schedule keeps adding its own while the suite runs). */
export async function runCount(): Promise<number> {
  const [r] = await metaQuery<{ n: string }>(`SELECT count(*) AS n FROM "RefreshRun" WHERE trigger <> 'schedule'`);
  return Number(r.n);
}

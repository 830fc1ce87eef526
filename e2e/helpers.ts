import { expect, type Page } from "@playwright/test";

export const USERS = {
  admin: { username: "ada", name: "Ada Admin" },
  operator: { username: "oscar", name: "Oscar Operator" },
  viewer: { username: "vera", name: "Vera Viewer" },
} as const;

/** Signs in through the real OIDC flow: app -> dev IdP login form -> callback -> dashboard. */
export async function login(page: Page, who: keyof typeof USERS) {
  const u = USERS[who];
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  await page.getByRole("button", { name: /Sign in with Demo identity provider/ }).click();
  await expect(page).toHaveURL(/127\.0\.0\.1:4000\/interaction\//);
  await page.fill("#username", u.username);
  await page.fill("#password", u.username);
  await page.click("#sign-in");
  await expect(page).toHaveURL("http://localhost:3000/");
  await expect(page.getByTestId("current-user")).toContainText(u.name);
}

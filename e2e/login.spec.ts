import { expect, test } from "@playwright/test";
import { login } from "./helpers";

test("a stranger is sent to the login page", async ({ page }) => {
  await page.goto("/runs");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("heading", { name: "UAT Refresh" })).toBeVisible();
});

test("an admin signs in through the OIDC identity provider and sees their role", async ({ page }) => {
  await login(page, "admin");
  await expect(page.getByTestId("current-user")).toContainText("admin");
  await expect(page.getByRole("link", { name: "Users" })).toBeVisible();
});

test("a wrong password is refused by the identity provider", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("button", { name: /Sign in with Demo identity provider/ }).click();
  await page.fill("#username", "vera");
  await page.fill("#password", "wrong");
  await page.click("#sign-in");
  await expect(page.getByText("Invalid credentials")).toBeVisible();
});

test("signing out ends the session everywhere, even if its cookie comes back", async ({ page, context }) => {
  await login(page, "viewer");
  const before = await context.cookies();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  // The revoked session's cookie, replayed: pages, API routes and Auth.js' own session endpoint all read it as signed out.
  await context.addCookies(before);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
  expect((await page.request.get("/api/status")).status()).toBe(401);
  const session = await (await page.request.get("/api/auth/session")).json();
  expect(session?.user).toBeUndefined();
});

// Users are an issuer + subject: an unverified claim of an admin's email gets nothing of the admin's, and the same
// person through a second provider is linked to one user only because that provider asserts the email verified.
import { expect, test } from "@playwright/test";
import { login, metaQuery } from "./helpers";

test("an unverified claim of the admin's email signs in as a new viewer, not as the admin", async ({ page }) => {
  await login(page, "impostor");
  await expect(page.getByTestId("current-user")).toContainText("viewer");
  await expect(page.getByRole("link", { name: "Users" })).toHaveCount(0);
  expect((await page.goto("/admin/users"))?.status()).toBe(403);
  const users = await metaQuery<{ email: string | null; role: string }>(
    `SELECT u.email, u.role::text AS role FROM "User" u JOIN "UserIdentity" i ON i."userId" = u.id WHERE i.subject = 'mallory'`,
  );
  expect(users).toEqual([{ email: null, role: "viewer" }]);
  const [login1] = await metaQuery<{ details: { unverifiedEmail?: string } }>(`SELECT details FROM "AuditEvent" WHERE action = 'login' AND actor LIKE 'Mallory Mimic [mallory at %' ORDER BY at DESC LIMIT 1`);
  expect(login1.details.unverifiedEmail).toBe("ada@example.test");
});

test("the same person through a second provider with a verified email is one user with two identities", async ({ browser }) => {
  for (const provider of ["demo", "second"] as const) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await login(page, "admin", provider);
    await expect(page.getByTestId("current-user")).toContainText("admin");
    await ctx.close();
  }
  const rows = await metaQuery<{ issuer: string; n: string }>(
    `SELECT i.issuer, (SELECT count(*) FROM "UserIdentity" j WHERE j."userId" = u.id) AS n FROM "User" u JOIN "UserIdentity" i ON i."userId" = u.id WHERE u.email = 'ada@example.test' ORDER BY i.issuer`,
  );
  expect(rows.map((r) => r.issuer)).toEqual(["http://127.0.0.1:4000", "http://127.0.0.1:4001"]);
  expect(rows.every((r) => r.n === "2")).toBe(true);
});

// A click that arrives before the page's scripts have run must not be lost: a button whose only action is a click
// handler is disabled until the scripts listen. (Seen under load in CI: the dashboard's "Refresh customers" was
// clicked on the server-rendered page while its scripts were still loading, and no dialog ever opened.)
import { expect, test } from "@playwright/test";
import { login } from "./helpers";

test("a refresh button clicked as soon as the dashboard shows, before its scripts have loaded, still opens the confirm dialog", async ({ page }) => {
  await login(page, "operator");
  // The server renders the status it last computed: let this first visit compute one.
  await expect(page.getByTestId("table-row-customers")).toBeVisible();
  // A slow server: the page's scripts arrive 3 s after the page (routing also turns the browser's cache off).
  await page.route("**/_next/static/chunks/*.js", async (route) => {
    await new Promise((r) => setTimeout(r, 3_000));
    await route.continue();
  });
  await page.goto("/", { waitUntil: "commit" });
  const button = page.getByTestId("table-row-customers").getByRole("button", { name: "Refresh customers" });
  // The server-rendered button is shown, and disabled, while nothing listens yet.
  await expect(button).toBeDisabled();
  await button.click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("dialog")).toBeHidden();
});

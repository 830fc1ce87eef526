// The cross-site request rule for state-changing route handlers (lib/http/same-origin).
import { describe, expect, it } from "vitest";
import { appOrigins, checkSameOrigin } from "../../lib/http/same-origin";

const allowed = ["http://localhost:3000"];
const check = (h: Record<string, string>) => checkSameOrigin(new Headers({ "content-type": "application/json", ...h }), allowed);

describe("same-origin check", () => {
  it("accepts the app's own browser requests and non-browser clients", () => {
    expect(check({ origin: "http://localhost:3000", "sec-fetch-site": "same-origin" })).toEqual({ ok: true });
    expect(check({ "content-type": "application/json; charset=utf-8", origin: "http://localhost:3000" })).toEqual({ ok: true });
    expect(check({})).toEqual({ ok: true }); // curl, scripts: no Origin, no Sec-Fetch-Site
    expect(check({ referer: "http://localhost:3000/runs" })).toEqual({ ok: true });
  });

  it("refuses foreign, null and same-site origins, simple content types and foreign referers", () => {
    expect(check({ origin: "http://evil.example" })).toMatchObject({ ok: false, status: 403 });
    expect(check({ origin: "null" })).toMatchObject({ ok: false, status: 403 });
    expect(check({ origin: "http://localhost:3999", "sec-fetch-site": "same-site" })).toMatchObject({ ok: false, status: 403 });
    expect(check({ "sec-fetch-site": "cross-site" })).toMatchObject({ ok: false, status: 403 });
    expect(check({ "sec-fetch-site": "none" })).toMatchObject({ ok: false, status: 403 });
    expect(check({ referer: "http://evil.example/x" })).toMatchObject({ ok: false, status: 403 });
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""])
      expect(check({ "content-type": type, origin: "http://localhost:3000" })).toMatchObject({ ok: false, status: 415 });
  });

  it("knows the app's origins from the Host a proxy forwards and from AUTH_URL", () => {
    const h = new Headers({ host: "internal:3000", "x-forwarded-host": "uat-refresh.corp.example", "x-forwarded-proto": "https" });
    expect(appOrigins(h, "http://internal:3000/api/runs", { AUTH_URL: "https://refresh.corp.example/app" })).toEqual([
      "https://uat-refresh.corp.example",
      "https://refresh.corp.example",
    ]);
  });
});

// Cross-site request forgery defence for state-changing route handlers, decided from the request headers alone.
//
// The rule (docs/security.md, "Cross-site requests"):
// 1. The body must be `application/json`. A browser sends that cross-origin only after a CORS preflight, which this
//    app never grants; the "simple" content types (text/plain, form encodings) that skip the preflight are refused.
// 2. `Origin` present: it must be one of the app's own origins (`null` never is).
// 3. `Sec-Fetch-Site` present: it must be `same-origin` (a page on another port of the same host is `same-site`).
// 4. Neither header: the client is not a browser. Every browser this app supports sends `Sec-Fetch-Site` with every
//    request and `Origin` with every POST, so only scripts (curl, the tests' API clients) arrive here; they carry no
//    victim's cookie. A `Referer` from another origin still refuses (older browsers sent only that).

export type SameOriginVerdict = { ok: true } | { ok: false; status: 403 | 415; reason: string };

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The origins this app is served from: the request's own host (as a proxy forwards it) and AUTH_URL's. */
export function appOrigins(headers: Headers, requestUrl: string, env: Record<string, string | undefined> = process.env): string[] {
  const own = new URL(requestUrl);
  const host = headers.get("x-forwarded-host")?.split(",")[0].trim() || headers.get("host") || own.host;
  const proto = headers.get("x-forwarded-proto")?.split(",")[0].trim() || own.protocol.replace(/:$/, "");
  const configured = [env.AUTH_URL, ...(env.APP_ALLOWED_ORIGINS ?? "").split(",")].map((u) => (u?.trim() ? originOf(u.trim()) : null));
  return [...new Set([`${proto}://${host}`, ...configured].filter((o): o is string => !!o))];
}

export function checkSameOrigin(headers: Headers, allowed: string[]): SameOriginVerdict {
  const mediaType = (headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json")
    return { ok: false, status: 415, reason: `state-changing requests take only application/json (got ${mediaType || "no content type"})` };

  const origin = headers.get("origin");
  if (origin !== null && !allowed.includes(origin)) return { ok: false, status: 403, reason: `cross-origin request from ${origin}` };

  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return { ok: false, status: 403, reason: `cross-origin request (Sec-Fetch-Site: ${site})` };

  if (origin === null && site === null) {
    const referer = headers.get("referer");
    const from = referer ? originOf(referer) : null;
    if (referer && (!from || !allowed.includes(from))) return { ok: false, status: 403, reason: `cross-origin request (Referer from ${from ?? "an unreadable URL"})` };
  }
  return { ok: true };
}

/** Server actions (a POST with a `Next-Action` header, a form or text body): the same origin rules without the JSON
 *  one, and an Origin required (every browser sends one with a POST). Next refuses a mismatch itself, but as a 500
 *  with no record; answered here first as a 403, audited. */
export function checkServerActionOrigin(headers: Headers, allowed: string[]): SameOriginVerdict {
  const origin = headers.get("origin");
  if (origin === null) return { ok: false, status: 403, reason: "a server action without an Origin header" };
  if (!allowed.includes(origin)) return { ok: false, status: 403, reason: `cross-origin server action from ${origin}` };
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return { ok: false, status: 403, reason: `cross-origin server action (Sec-Fetch-Site: ${site})` };
  return { ok: true };
}

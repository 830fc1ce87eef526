// Pages need a session (API routes answer 401/403 themselves); role checks happen in each page and action. Server
// actions from another origin are refused here, as a 403 with an audit record (Next's own check answers a 500).
import type { Session } from "next-auth";
import { NextResponse, type NextRequest } from "next/server";
import { audit } from "@/lib/audit";
import { appOrigins, checkServerActionOrigin } from "@/lib/http/same-origin";
import { auth } from "@/server/auth";

export const proxy = auth(async (req) => {
  if (req.method === "POST" && req.headers.has("next-action")) {
    const refused = await refuseCrossSiteAction(req);
    if (refused) return refused;
  }
  // Signed out: to the login page, coming back here afterwards (Auth.js does this itself only without a handler).
  if (!req.auth?.user) {
    const login = req.nextUrl.clone();
    login.pathname = "/login";
    login.search = "";
    login.searchParams.set("callbackUrl", req.nextUrl.href);
    return NextResponse.redirect(login);
  }
});

async function refuseCrossSiteAction(req: NextRequest & { auth: Session | null }) {
  const verdict = checkServerActionOrigin(req.headers, appOrigins(req.headers, req.url));
  if (verdict.ok) return null;
  const who = (req.auth?.user as { email?: string } | undefined)?.email ?? "anonymous";
  await audit({
    actor: who,
    action: "request.refused",
    target: `server action on ${req.nextUrl.pathname}`,
    outcome: "forbidden",
    details: { reason: verdict.reason, origin: req.headers.get("origin"), secFetchSite: req.headers.get("sec-fetch-site") },
  });
  return NextResponse.json({ error: verdict.reason }, { status: 403 });
}

export const config = {
  // /metrics answers for itself (a bearer token, not a session).
  matcher: ["/((?!api/|metrics$|login|_next/static|_next/image|favicon.ico).*)"],
};

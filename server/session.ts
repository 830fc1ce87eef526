// Server-side checks for pages, server actions and route handlers: who is signed in, whether their role allows
// this, and (route handlers) whether a state-changing request is same-origin. Every refusal is audited.
import "server-only";
import { forbidden, redirect, unauthorized } from "next/navigation";
import { NextResponse } from "next/server";
import { audit } from "@/lib/audit";
import { appOrigins, checkSameOrigin } from "@/lib/http/same-origin";
import { userLabel } from "@/lib/identity";
import { metadata } from "@/lib/metadata/client";
import { hasRole, roleIn, type RoleName } from "@/lib/roles";
import { auth } from "./auth";
import { authenticateToken } from "@/lib/auth/tokens";

export interface AppUser {
  id: string;
  /** Verified email, when a provider asserted one. */
  email: string | null;
  name: string | null;
  /** The installation-wide role (admin, or the role in environments without a grant). */
  role: RoleName;
  /** Roles per environment that replace `role` there (lib/roles roleIn). */
  grants: Record<string, RoleName>;
  /** A service token's environments (empty: every one); absent for a person. */
  scope?: string[];
  /** How the audit trail and runs name this user (the email, else the identity). */
  label: string;
}

/** The signed-in, active user as the metadata DB knows them now (role changes apply at once). */
export async function currentUser(): Promise<AppUser | null> {
  const session = (await auth()) as { sid?: string; uid?: string } | null;
  if (!session?.uid) return null;
  // A signed-out session stays signed out even if its cookie comes back (a request that raced the sign-out may
  // set it again): its id is revoked on the server.
  if (!session.sid || (await metadata().revokedSession.findUnique({ where: { sid: session.sid } }))) return null;
  const user = await metadata().user.findUnique({ where: { id: session.uid }, include: { identities: { orderBy: { lastLoginAt: "desc" }, take: 1 }, grants: true } });
  if (!user || !user.active) return null;
  const grants = Object.fromEntries(user.grants.map((g) => [g.environment, g.role]));
  return { id: user.id, email: user.email, name: user.name, role: user.role, grants, label: userLabel(user, user.identities[0]) };
}

async function auditForbidden(user: AppUser, role: RoleName, what: string, details: Record<string, unknown> = {}) {
  await audit({ actor: user.label, action: "forbidden", target: what, outcome: "forbidden", details: { needed: role, had: user.role, ...details } });
}

/** For pages: sends strangers to the login page and answers 403 to a role too low. */
export async function requirePageRole(role: RoleName, what: string): Promise<AppUser> {
  const user = await currentUser();
  if (!user) redirect("/login");
  if (!hasRole(user.role, role)) {
    await auditForbidden(user, role, what);
    forbidden();
  }
  return user;
}

/** For server actions: answers 401 / 403 (after auditing) when the caller may not do this. The client tells that
 *  refusal from a crash by its status; the page shows app/forbidden.tsx. */
export async function requireActionRole(role: RoleName, what: string): Promise<AppUser> {
  const user = await currentUser();
  if (!user) unauthorized();
  if (!hasRole(user.role, role)) {
    await auditForbidden(user, role, what);
    forbidden();
  }
  return user;
}

/** For server actions: a request the caller's role allows but the product refuses (deactivating yourself, a role
 *  that does not exist): audited with the reason, answered 403 (a server action answers no other 4xx). */
export async function refuseAction(user: AppUser, what: string, reason: string): Promise<never> {
  await audit({ actor: user.label, action: "refused", target: what, outcome: "denied", details: { reason } });
  forbidden();
}

/** For route handlers that only read: the user, or the 401/403 response to return. `details` is audited. */
export async function requireApiRole(role: RoleName, what: string, details: Record<string, unknown> = {}): Promise<AppUser | NextResponse> {
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: "not signed in" }, { status: 401 });
  if (!hasRole(user.role, role)) {
    await auditForbidden(user, role, what, details);
    return NextResponse.json({ error: `${what} needs the ${role} role; you are ${user.role}` }, { status: 403 });
  }
  return user;
}

/** For route handlers and actions acting on one environment: the user's role there (lib/roles roleIn), or the 403
 *  response, audited with the environment. */
export async function requireEnvironmentRole(user: AppUser, role: RoleName, environment: string, what: string, details: Record<string, unknown> = {}): Promise<AppUser | NextResponse> {
  if (user.scope?.length && !user.scope.includes(environment)) {
    await audit({ actor: user.label, environment, action: "forbidden", target: what, outcome: "forbidden", details: { needed: role, scope: user.scope, ...details } });
    return NextResponse.json({ error: `${what}: ${user.label} may not act on environment ${environment}` }, { status: 403 });
  }
  const had = roleIn(user, environment);
  if (hasRole(had, role)) return user;
  await audit({ actor: user.label, environment, action: "forbidden", target: what, outcome: "forbidden", details: { needed: role, had, ...details } });
  return NextResponse.json({ error: `${what} needs the ${role} role in ${environment}; you are ${had} there` }, { status: 403 });
}

/** For the REST endpoints pipelines call (status, trigger, run, cancel): a service token (`Authorization: Bearer`,
 *  lib/auth/tokens; no cookie is involved, so no cross-site check), else the signed-in user as the other handlers
 *  check them (`mutation`: same-origin JSON first). */
export async function requireApiCaller(req: Request, role: RoleName, what: string, opts: { mutation?: boolean; details?: Record<string, unknown> } = {}): Promise<AppUser | NextResponse> {
  const authorization = req.headers.get("authorization");
  if (!authorization) return opts.mutation ? requireMutation(req, role, what, opts.details) : requireApiRole(role, what, opts.details);
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  const check = bearer ? await authenticateToken(metadata(), bearer[1], { method: req.method, path: new URL(req.url).pathname }) : { ok: false as const, reason: "expected Authorization: Bearer <token>" };
  if (!check.ok) return NextResponse.json({ error: check.reason }, { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
  const t = check.token;
  const user: AppUser = { id: `token:${t.id}`, email: null, name: t.name, role: t.role, grants: {}, scope: t.environments, label: `token ${t.name}` };
  if (!hasRole(user.role, role)) {
    await auditForbidden(user, role, what, opts.details);
    return NextResponse.json({ error: `${what} needs the ${role} role; ${user.label} is ${user.role}` }, { status: 403 });
  }
  return user;
}

/** For route handlers that change state: same-origin JSON only (lib/http/same-origin), then the role. */
export async function requireMutation(req: Request, role: RoleName, what: string, details: Record<string, unknown> = {}): Promise<AppUser | NextResponse> {
  const verdict = checkSameOrigin(req.headers, appOrigins(req.headers, req.url));
  if (!verdict.ok) {
    const user = await currentUser();
    await audit({
      actor: user?.label ?? "anonymous",
      action: "request.refused",
      target: what,
      outcome: "forbidden",
      details: {
        reason: verdict.reason,
        path: new URL(req.url).pathname,
        origin: req.headers.get("origin"),
        secFetchSite: req.headers.get("sec-fetch-site"),
        referer: req.headers.get("referer"),
        contentType: req.headers.get("content-type"),
      },
    });
    return NextResponse.json({ error: verdict.reason }, { status: verdict.status });
  }
  return requireApiRole(role, what, details);
}

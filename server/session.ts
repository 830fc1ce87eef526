// Server-side role checks for pages, server actions and route handlers. Every refusal is audited.
import "server-only";
import { forbidden, redirect } from "next/navigation";
import { NextResponse } from "next/server";
import { audit } from "@/lib/audit";
import { metadata } from "@/lib/metadata/client";
import { hasRole, type RoleName } from "@/lib/roles";
import { auth } from "./auth";

export interface AppUser {
  id: string;
  email: string;
  name: string | null;
  role: RoleName;
}

/** The signed-in, active user as the metadata DB knows them now (role changes apply at once). */
export async function currentUser(): Promise<AppUser | null> {
  const session = await auth();
  const email = session?.user?.email?.toLowerCase();
  if (!email) return null;
  // A signed-out session stays signed out even if its cookie comes back (a request that raced the sign-out may
  // set it again): its id is revoked on the server.
  const sid = (session as { sid?: string }).sid;
  if (!sid || (await metadata().revokedSession.findUnique({ where: { sid } }))) return null;
  const user = await metadata().user.findUnique({ where: { email } });
  if (!user || !user.active) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

/** For pages: sends strangers to the login page and answers 403 to a role too low. */
export async function requirePageRole(role: RoleName, what: string): Promise<AppUser> {
  const user = await currentUser();
  if (!user) redirect("/login");
  if (!hasRole(user.role, role)) {
    await audit({ actor: user.email, action: "forbidden", target: what, outcome: "forbidden", details: { needed: role, had: user.role } });
    forbidden();
  }
  return user;
}

export class ForbiddenError extends Error {
  readonly status = 403;
}

/** For server actions: throws (after auditing) when the caller may not do this. */
export async function requireActionRole(role: RoleName, what: string): Promise<AppUser> {
  const user = await currentUser();
  if (!user) throw new ForbiddenError("sign in first");
  if (!hasRole(user.role, role)) {
    await audit({ actor: user.email, action: "forbidden", target: what, outcome: "forbidden", details: { needed: role, had: user.role } });
    throw new ForbiddenError(`${what} needs the ${role} role; you are ${user.role}`);
  }
  return user;
}

/** For route handlers: the user, or the 401/403 response to return. `details` says what was asked (audited). */
export async function requireApiRole(role: RoleName, what: string, details: Record<string, unknown> = {}): Promise<AppUser | NextResponse> {
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: "not signed in" }, { status: 401 });
  if (!hasRole(user.role, role)) {
    await audit({ actor: user.email, action: "forbidden", target: what, outcome: "forbidden", details: { needed: role, had: user.role, ...details } });
    return NextResponse.json({ error: `${what} needs the ${role} role; you are ${user.role}` }, { status: 403 });
  }
  return user;
}

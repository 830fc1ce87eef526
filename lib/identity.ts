// Who signs in: a user is an identity provider's issuer + subject. An email claim links a first sign-in to an
// existing user only when the provider asserts the address verified; unverified claims and `preferred_username`
// never make anyone somebody else. Optional: roles follow an IdP groups/roles claim (ROLE_CLAIM).
import { audit } from "./audit";
import type { Metadata } from "./metadata/client";
import { ROLES, type RoleName } from "./roles";

/** What the app takes from a provider's ID token claims. */
export interface IdentityClaims {
  provider: string;
  issuer: string;
  subject: string;
  name: string | null;
  email: string | null;
  emailVerified: boolean;
  /** The ROLE_CLAIM's values, when that claim is configured and present. */
  groups: string[] | null;
}

type Claims = Record<string, unknown>;
type Env = Record<string, string | undefined>;

const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : null);
const truthy = (v: unknown) => v === true || v === "true" || v === 1 || v === "1";

/**
 * Reads the stable identity out of a provider's claims.
 * - Microsoft Entra ID: `sub` is pairwise per application and `email` is not verified by Entra; Microsoft documents
 *   `oid` (object id) within `tid` (tenant) as the user's stable key, and the optional claim `xms_edov` ("email domain
 *   owner verified") as the one that vouches for the email.
 * - Google, Okta and any OIDC provider: `iss` + `sub`; the email counts only with `email_verified: true`.
 */
export function identityClaims(provider: string, claims: Claims, env: Env = process.env): IdentityClaims {
  const entra = provider === "microsoft-entra-id";
  const tid = str(claims.tid);
  const oid = str(claims.oid);
  const issuer = entra && tid ? `https://login.microsoftonline.com/${tid}/v2.0` : str(claims.iss);
  const subject = entra ? oid : str(claims.sub);
  if (!issuer || !subject) throw new Error(`the ${provider} sign-in carried no ${entra ? "tid/oid" : "iss/sub"} claims`);
  const email = str(claims.email)?.toLowerCase() ?? null;
  const emailVerified = !!email && truthy(entra ? claims.xms_edov : claims.email_verified);
  return { provider, issuer, subject, name: str(claims.name), email, emailVerified, groups: groupsFrom(claims, env.ROLE_CLAIM) };
}

function groupsFrom(claims: Claims, claim: string | undefined): string[] | null {
  if (!claim?.trim()) return null;
  const v = claims[claim.trim()];
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === "string") return v.split(/[\s,]+/).filter(Boolean);
  return null;
}

const list = (v: string | undefined) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** Entries of a groups list that name an environment: `qa-testers:qa` (the group, then the environment). */
const scoped = (v: string | undefined) => list(v).filter((g) => g.includes(":"));
const global = (v: string | undefined) => list(v).filter((g) => !g.includes(":"));

/** The role the groups claim grants (ADMIN_GROUPS, OPERATOR_GROUPS; anyone else is a viewer), or null when roles
 *  are not mapped from the IdP. */
export function roleFromGroups(groups: string[] | null, env: Env = process.env): RoleName | null {
  if (!env.ROLE_CLAIM?.trim()) return null;
  const have = new Set(groups ?? []);
  if (global(env.ADMIN_GROUPS).some((g) => have.has(g))) return "admin";
  if (global(env.OPERATOR_GROUPS).some((g) => have.has(g))) return "operator";
  return "viewer";
}

/** Environment roles the groups claim grants: OPERATOR_GROUPS / VIEWER_GROUPS entries `group:environment` (operator
 *  wins where both match), or null when roles are not mapped from the IdP. */
export function grantsFromGroups(groups: string[] | null, env: Env = process.env): Map<string, "viewer" | "operator"> | null {
  if (!env.ROLE_CLAIM?.trim()) return null;
  const have = new Set(groups ?? []);
  const out = new Map<string, "viewer" | "operator">();
  for (const [variable, role] of [["VIEWER_GROUPS", "viewer"], ["OPERATOR_GROUPS", "operator"]] as const)
    for (const entry of scoped(env[variable])) {
      const at = entry.lastIndexOf(":");
      if (have.has(entry.slice(0, at))) out.set(entry.slice(at + 1).toLowerCase(), role);
    }
  return out;
}

/** Makes the grants the claim made match what it grants now (grants an admin made are left alone); audits changes. */
async function syncClaimedGrants(db: Metadata, userId: string, target: string, claimed: Map<string, "viewer" | "operator">, env: Env) {
  const by = `${env.ROLE_CLAIM} claim`;
  const current = await db.environmentGrant.findMany({ where: { userId } });
  const environments = new Set((await db.environment.findMany({ select: { name: true } })).map((e) => e.name));
  for (const g of current.filter((x) => x.grantedBy === by && !claimed.has(x.environment))) {
    await db.environmentGrant.delete({ where: { id: g.id } });
    await audit({ actor: by, environment: g.environment, action: "user.grant", target, details: { before: { role: g.role }, after: { role: null } } }, db);
  }
  for (const [environment, role] of claimed) {
    const had = current.find((x) => x.environment === environment);
    if (!environments.has(environment) || (had && (had.role === role || had.grantedBy !== by))) continue;
    await db.environmentGrant.upsert({ where: { userId_environment: { userId, environment } }, create: { userId, environment, role, grantedBy: by }, update: { role } });
    await audit({ actor: by, environment, action: "user.grant", target, details: { before: { role: had?.role ?? null }, after: { role } } }, db);
  }
}

export type SignInResult =
  | { ok: true; userId: string; created: boolean; linked: boolean; role: RoleName }
  | { ok: false; reason: string };

/** A user's name in the audit trail and on runs: the verified email, else the identity it signed in with. */
export function userLabel(u: { email: string | null; name: string | null; id: string }, identity?: { subject: string; issuer: string } | null): string {
  if (u.email) return u.email;
  if (identity) return `${u.name ?? "user"} [${identity.subject} at ${hostOf(identity.issuer)}]`;
  return `${u.name ?? "user"} [${u.id}]`;
}

function hostOf(url: string) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Finds or creates the user behind a sign-in, links verified emails, applies the role claim; audits it all. */
export async function resolveSignIn(db: Metadata, c: IdentityClaims, env: Env = process.env): Promise<SignInResult> {
  const now = new Date();
  c = { ...c, email: c.email?.toLowerCase() ?? null };
  const known = await db.userIdentity.findUnique({ where: { issuer_subject: { issuer: c.issuer, subject: c.subject } }, include: { user: true } });
  let user = known?.user ?? null;
  let linked = false;
  let created = false;
  if (!user && c.email && c.emailVerified) {
    user = await db.user.findUnique({ where: { email: c.email } });
    linked = !!user;
  }
  const actorFor = (u: { email: string | null; name: string | null; id: string }) => userLabel(u, c);
  if (user && !user.active) {
    await audit({ actor: actorFor(user), action: "login", outcome: "denied", details: { reason: "user deactivated", issuer: c.issuer } }, db);
    return { ok: false, reason: "user deactivated" };
  }
  const claimedRole = roleFromGroups(c.groups, env);
  if (!user) {
    const verified = c.emailVerified ? c.email : null;
    const role: RoleName = claimedRole ?? (verified && list(env.INITIAL_ADMIN_EMAILS).map((e) => e.toLowerCase()).includes(verified) ? "admin" : "viewer");
    user = await db.user.create({ data: { email: verified, name: c.name, role, lastLoginAt: now } });
    created = true;
  } else {
    // A verified address the user had no email for yet is recorded; an address already someone else's is not moved.
    const email = !user.email && c.emailVerified && c.email && !(await db.user.findUnique({ where: { email: c.email } })) ? c.email : user.email;
    // A sign-in never renames a user (a provider linked by a verified email would otherwise rename the person an
    // admin knows): the name is set once, when the user had none.
    const name = user.name ?? c.name;
    user = await db.user.update({ where: { id: user.id }, data: { name, email, lastLoginAt: now } });
  }
  const identity = { provider: c.provider, email: c.email, emailVerified: c.emailVerified, lastLoginAt: now };
  await db.userIdentity.upsert({
    where: { issuer_subject: { issuer: c.issuer, subject: c.subject } },
    create: { userId: user.id, issuer: c.issuer, subject: c.subject, ...identity },
    update: identity,
  });
  if (claimedRole && claimedRole !== user.role && !created) {
    await audit({ actor: `${env.ROLE_CLAIM} claim`, action: "user.role", target: actorFor(user), details: { before: { role: user.role }, after: { role: claimedRole }, issuer: c.issuer } }, db);
    user = await db.user.update({ where: { id: user.id }, data: { role: claimedRole } });
  }
  const claimedGrants = grantsFromGroups(c.groups, env);
  if (claimedGrants) await syncClaimedGrants(db, user.id, actorFor(user), claimedGrants, env);
  // An unverified email claim is kept on the identity for the admins to see, and named in the audit as unverified.
  await audit(
    {
      actor: actorFor(user),
      action: "login",
      details: { provider: c.provider, issuer: c.issuer, created, linked, role: user.role, ...(c.email && !c.emailVerified ? { unverifiedEmail: c.email } : {}) },
    },
    db,
  );
  return { ok: true, userId: user.id, created, linked, role: ROLES.includes(user.role) ? user.role : "viewer" };
}

// Sign-in binding against the real metadata DB: a user is an issuer + subject; an email links identities only when
// the provider asserts it verified; roles follow a groups claim only when ROLE_CLAIM is set, audited when changed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityClaims, resolveSignIn, type IdentityClaims } from "../../lib/identity";
import { createTestEnv, type TestEnv } from "../support/env";

const claims = (over: Partial<IdentityClaims>): IdentityClaims => ({
  provider: "oidc",
  issuer: "https://idp-a.example",
  subject: "s-1",
  name: "Someone",
  email: null,
  emailVerified: false,
  groups: null,
  ...over,
});

describe("identity binding", () => {
  let env: TestEnv;
  const noEnv = {} as Record<string, string>;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.db.user.create({ data: { email: "ada@corp.example", name: "Ada", role: "admin" } });
  });
  afterAll(() => env?.close());

  it("an unverified claim of an admin's email creates a separate viewer without an email", async () => {
    const r = await resolveSignIn(env.db, claims({ subject: "mallory", email: "ada@corp.example", emailVerified: false }), noEnv);
    expect(r).toMatchObject({ ok: true, created: true, linked: false, role: "viewer" });
    const u = await env.db.user.findUniqueOrThrow({ where: { id: (r as { userId: string }).userId } });
    expect(u.email).toBeNull();
    const admin = await env.db.user.findUniqueOrThrow({ where: { email: "ada@corp.example" }, include: { identities: true } });
    expect(admin.identities).toEqual([]);
  });

  it("preferred_username is never taken for an email", () => {
    const c = identityClaims("oidc", { iss: "https://idp-a.example", sub: "x", preferred_username: "ada@corp.example" }, noEnv);
    expect(c.email).toBeNull();
    expect(c.emailVerified).toBe(false);
  });

  it("a verified email links to the existing user; the same person through a second issuer stays that user", async () => {
    const a = await resolveSignIn(env.db, claims({ subject: "ada-a", email: "ADA@corp.example", emailVerified: true }), noEnv);
    const b = await resolveSignIn(env.db, claims({ issuer: "https://idp-b.example", subject: "ada-b", email: "ada@corp.example", emailVerified: true }), noEnv);
    expect(a).toMatchObject({ ok: true, linked: true, created: false, role: "admin" });
    expect(b).toMatchObject({ ok: true, linked: true, role: "admin" });
    expect((a as { userId: string }).userId).toBe((b as { userId: string }).userId);
    // Later sign-ins are found by issuer + subject, whatever the email claim says then.
    const again = await resolveSignIn(env.db, claims({ subject: "ada-a", email: "someone-else@corp.example", emailVerified: true }), noEnv);
    expect((again as { userId: string }).userId).toBe((a as { userId: string }).userId);
    const ada = await env.db.user.findUniqueOrThrow({ where: { email: "ada@corp.example" } });
    expect(ada.email).toBe("ada@corp.example");
    // linking never renames: the claims said "Someone", the user stays "Ada"
    expect(ada.name).toBe("Ada");
  });

  it("the same subject at another issuer is another person", async () => {
    const r = await resolveSignIn(env.db, claims({ issuer: "https://idp-c.example", subject: "ada-a" }), noEnv);
    expect(r).toMatchObject({ ok: true, created: true, role: "viewer" });
  });

  it("a groups claim sets the role when ROLE_CLAIM is configured, and a change is audited", async () => {
    const mapped = { ROLE_CLAIM: "groups", ADMIN_GROUPS: "dba-admins", OPERATOR_GROUPS: "dba-ops,release" };
    const c = identityClaims("oidc", { iss: "https://idp-a.example", sub: "olga", email: "olga@corp.example", email_verified: true, groups: ["staff", "release"] }, mapped);
    const first = await resolveSignIn(env.db, c, mapped);
    expect(first).toMatchObject({ ok: true, created: true, role: "operator" });
    const promoted = await resolveSignIn(env.db, { ...c, groups: ["dba-admins"] }, mapped);
    expect(promoted).toMatchObject({ role: "admin" });
    const change = await env.db.auditEvent.findFirstOrThrow({ where: { action: "user.role", target: "olga@corp.example" } });
    expect(change.actor).toBe("groups claim");
    expect(change.details).toMatchObject({ before: { role: "operator" }, after: { role: "admin" } });
    // Without ROLE_CLAIM the groups claim is ignored: the stored role stays.
    expect(await resolveSignIn(env.db, { ...c, groups: [] }, noEnv)).toMatchObject({ role: "admin" });
  });

  it("groups can name environments: `group:environment` grants a role there, kept in step with the claim, audited; an admin's grant is left alone", async () => {
    await env.config([]);
    await env.db.environment.create({ data: { name: "qa" } });
    const mapped = { ROLE_CLAIM: "groups", OPERATOR_GROUPS: `qa-testers:qa,uat-leads:${env.environment}`, VIEWER_GROUPS: "auditors:qa" };
    const c = identityClaims("oidc", { iss: "https://idp-a.example", sub: "quentin", email: "quentin@corp.example", email_verified: true, groups: ["staff", "qa-testers", "auditors"] }, mapped);
    expect(await resolveSignIn(env.db, c, mapped)).toMatchObject({ ok: true, role: "viewer" });
    const grants = async () => (await env.db.environmentGrant.findMany({ where: { user: { email: "quentin@corp.example" } }, orderBy: { environment: "asc" } })).map((g) => [g.environment, g.role, g.grantedBy]);
    // operator wins where a viewer group matches too; an environment that does not exist is not granted
    expect(await grants()).toEqual([["qa", "operator", "groups claim"]]);
    // The claim changes: QA gone, UAT's leads group added.
    await resolveSignIn(env.db, { ...c, groups: ["uat-leads"] }, mapped);
    expect(await grants()).toEqual([[env.environment, "operator", "groups claim"]]);
    const audited = await env.db.auditEvent.findMany({ where: { action: "user.grant", target: "quentin@corp.example" }, orderBy: { at: "asc" } });
    expect(audited.map((a) => [a.environment, a.details])).toEqual([
      ["qa", { before: { role: null }, after: { role: "operator" } }],
      ["qa", { before: { role: "operator" }, after: { role: null } }],
      [env.environment, { before: { role: null }, after: { role: "operator" } }],
    ]);
    // A grant an admin made stays whatever the claim says.
    const user = await env.db.user.findUniqueOrThrow({ where: { email: "quentin@corp.example" } });
    await env.db.environmentGrant.create({ data: { userId: user.id, environment: "qa", role: "viewer", grantedBy: "ada@corp.example" } });
    await resolveSignIn(env.db, { ...c, groups: ["qa-testers"] }, mapped);
    expect(await grants()).toEqual([["qa", "viewer", "ada@corp.example"]]);
  });

  it("a deactivated user is refused and the refusal audited", async () => {
    const r = await resolveSignIn(env.db, claims({ subject: "gone", email: "gone@corp.example", emailVerified: true }), noEnv);
    await env.db.user.update({ where: { id: (r as { userId: string }).userId }, data: { active: false } });
    expect(await resolveSignIn(env.db, claims({ subject: "gone" }), noEnv)).toEqual({ ok: false, reason: "user deactivated" });
    expect(await env.db.auditEvent.count({ where: { action: "login", outcome: "denied", actor: "gone@corp.example" } })).toBe(1);
  });
});

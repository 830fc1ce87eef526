// The stable identity each provider's claims give, and when an email counts as verified.
import { describe, expect, it } from "vitest";
import { grantsFromGroups, identityClaims, roleFromGroups } from "../../lib/identity";
import { roleIn } from "../../lib/roles";

const env = {} as Record<string, string>;

describe("identity claims", () => {
  it("Entra: tenant + object id, the email verified only through xms_edov", () => {
    const base = { iss: "https://login.microsoftonline.com/t-1/v2.0", tid: "t-1", oid: "o-9", sub: "pairwise-sub", email: "Ada@Corp.example", preferred_username: "ada@corp.example" };
    expect(identityClaims("microsoft-entra-id", base, env)).toMatchObject({ issuer: "https://login.microsoftonline.com/t-1/v2.0", subject: "o-9", email: "ada@corp.example", emailVerified: false });
    expect(identityClaims("microsoft-entra-id", { ...base, xms_edov: true }, env).emailVerified).toBe(true);
    expect(() => identityClaims("microsoft-entra-id", { ...base, oid: undefined }, env)).toThrow(/no tid\/oid claims/);
  });

  it("Google, Okta and generic OIDC: iss + sub, the email only with email_verified true", () => {
    for (const provider of ["google", "okta", "oidc"]) {
      expect(identityClaims(provider, { iss: "https://i.example", sub: "1", email: "a@b.example", email_verified: true }, env)).toMatchObject({ issuer: "https://i.example", subject: "1", emailVerified: true });
      expect(identityClaims(provider, { iss: "https://i.example", sub: "1", email: "a@b.example" }, env).emailVerified).toBe(false);
      expect(identityClaims(provider, { iss: "https://i.example", sub: "1", email: "a@b.example", email_verified: "false" }, env).emailVerified).toBe(false);
    }
  });

  it("groups map to roles only when ROLE_CLAIM is set; strings and arrays both read", () => {
    expect(roleFromGroups(["dba"], env)).toBeNull();
    const mapped = { ROLE_CLAIM: "roles", ADMIN_GROUPS: "dba", OPERATOR_GROUPS: "ops" };
    expect(identityClaims("oidc", { iss: "i", sub: "s", roles: "ops other" }, mapped).groups).toEqual(["ops", "other"]);
    expect(roleFromGroups(["ops", "dba"], mapped)).toBe("admin");
    expect(roleFromGroups(["ops"], mapped)).toBe("operator");
    expect(roleFromGroups([], mapped)).toBe("viewer");
    expect(roleFromGroups(null, mapped)).toBe("viewer");
  });

  it("`group:environment` entries grant a role in that environment only, never the installation-wide role", () => {
    const mapped = { ROLE_CLAIM: "roles", OPERATOR_GROUPS: "ops,qa-testers:qa", VIEWER_GROUPS: "qa-watchers:qa,auditors:uat" };
    expect(roleFromGroups(["qa-testers"], mapped)).toBe("viewer");
    expect(roleFromGroups(["ops"], mapped)).toBe("operator");
    expect([...grantsFromGroups(["qa-testers", "qa-watchers", "auditors"], mapped)!]).toEqual([["qa", "operator"], ["uat", "viewer"]]);
    expect(grantsFromGroups(["qa-testers"], {})).toBeNull();
  });

  it("a user's role in an environment: admin everywhere, else the grant there, else the installation-wide role", () => {
    expect(roleIn({ role: "admin", grants: { qa: "viewer" } }, "qa")).toBe("admin");
    expect(roleIn({ role: "viewer", grants: { qa: "operator" } }, "qa")).toBe("operator");
    expect(roleIn({ role: "viewer", grants: { qa: "operator" } }, "uat")).toBe("viewer");
    expect(roleIn({ role: "operator", grants: { perf: "viewer" } }, "perf")).toBe("viewer");
  });
});

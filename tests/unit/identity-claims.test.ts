// The stable identity each provider's claims give, and when an email counts as verified.
import { describe, expect, it } from "vitest";
import { identityClaims, roleFromGroups } from "../../lib/identity";

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
});

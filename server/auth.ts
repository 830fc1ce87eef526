// Auth.js (next-auth v5) with OIDC providers configured from the environment. Roles live in the metadata DB:
// the first login creates a viewer (or an admin, for a verified address in INITIAL_ADMIN_EMAILS); admins change
// roles in the app, or an IdP groups claim sets them (ROLE_CLAIM, ADMIN_GROUPS, OPERATOR_GROUPS).
import NextAuth from "next-auth";
import type { OIDCConfig, Provider } from "next-auth/providers";
import Google from "next-auth/providers/google";
import MicrosoftEntraID from "next-auth/providers/microsoft-entra-id";
import Okta from "next-auth/providers/okta";
import { metadata } from "@/lib/metadata/client";
import { audit } from "@/lib/audit";
import { randomUUID } from "node:crypto";
import { identityClaims, resolveSignIn } from "@/lib/identity";

const SESSION_MAX_AGE_S = 8 * 60 * 60;

function genericOidc(id: string, name: string, prefix: string): Provider | null {
  const issuer = process.env[`${prefix}_ISSUER`];
  if (!issuer) return null;
  return {
    id,
    name: process.env[`${prefix}_NAME`] ?? name,
    type: "oidc",
    issuer,
    clientId: process.env[`${prefix}_ID`],
    clientSecret: process.env[`${prefix}_SECRET`],
    checks: ["pkce", "state", "nonce"],
    authorization: { params: { scope: "openid profile email" } },
  } satisfies OIDCConfig<Record<string, unknown>>;
}

export function configuredProviders(): Provider[] {
  const list: (Provider | null)[] = [
    genericOidc("local-idp", "Demo identity provider", "AUTH_LOCAL_IDP"),
    genericOidc("oidc", "Single sign-on", "AUTH_OIDC"),
    process.env.AUTH_MICROSOFT_ENTRA_ID_ID ? MicrosoftEntraID({}) : null,
    process.env.AUTH_OKTA_ID ? Okta({}) : null,
    process.env.AUTH_GOOGLE_ID ? Google({}) : null,
  ];
  return list.filter((p): p is Provider => p !== null);
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  providers: configuredProviders(),
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
  pages: { signIn: "/login", error: "/login" },
  trustHost: true,
  callbacks: {
    authorized: ({ auth }) => !!auth?.user,
    // A user is the provider's issuer + subject (lib/identity): never an email or preferred_username claim alone.
    async signIn({ account, profile }) {
      if (!account || !profile) return false;
      try {
        const result = await resolveSignIn(metadata(), identityClaims(account.provider, profile as Record<string, unknown>));
        return result.ok;
      } catch (e) {
        await audit({ actor: account.provider, action: "login", outcome: "denied", details: { reason: (e as Error).message } });
        return false;
      }
    },
    session({ session, token }) {
      return Object.assign(session, { sid: token.sid, uid: token.uid });
    },
    async jwt({ token, account, profile }) {
      if (account && profile) {
        const c = identityClaims(account.provider, profile as Record<string, unknown>);
        const identity = await metadata().userIdentity.findUniqueOrThrow({ where: { issuer_subject: { issuer: c.issuer, subject: c.subject } } });
        token.uid = identity.userId;
        token.sid = randomUUID(); // revocable on sign-out (see events.signOut)
        return token;
      }
      // A revoked session is signed out everywhere (pages, API routes, /api/auth/session): null ends it.
      if (typeof token.sid !== "string" || (await metadata().revokedSession.findUnique({ where: { sid: token.sid } }))) return null;
      return token;
    },
  },
  events: {
    async signOut(message) {
      const token = "token" in message ? message.token : null;
      if (typeof token?.sid !== "string") return;
      const expiresAt = new Date(typeof token.exp === "number" ? token.exp * 1000 : Date.now() + SESSION_MAX_AGE_S * 1000);
      await metadata().revokedSession.upsert({ where: { sid: token.sid }, create: { sid: token.sid, expiresAt }, update: {} });
      await metadata().revokedSession.deleteMany({ where: { expiresAt: { lt: new Date() } } });
    },
  },
});

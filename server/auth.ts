// Auth.js (next-auth v5) with OIDC providers configured from the environment. Roles live in the metadata DB:
// the first login creates a viewer (or an admin, for INITIAL_ADMIN_EMAILS); admins change roles in the app.
import NextAuth from "next-auth";
import type { OIDCConfig, Provider } from "next-auth/providers";
import Google from "next-auth/providers/google";
import MicrosoftEntraID from "next-auth/providers/microsoft-entra-id";
import Okta from "next-auth/providers/okta";
import { metadata } from "@/lib/metadata/client";
import { audit } from "@/lib/audit";
import { randomUUID } from "node:crypto";

const SESSION_MAX_AGE_S = 8 * 60 * 60;

interface OidcProfile {
  sub: string;
  name?: string;
  email?: string;
  preferred_username?: string;
}

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
  } satisfies OIDCConfig<OidcProfile>;
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

function initialAdmins(): string[] {
  return (process.env.INITIAL_ADMIN_EMAILS ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  providers: configuredProviders(),
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
  pages: { signIn: "/login", error: "/login" },
  trustHost: true,
  callbacks: {
    authorized: ({ auth }) => !!auth?.user,
    async signIn({ user, profile }) {
      const email = (user.email ?? (profile as OidcProfile | undefined)?.preferred_username ?? "").toLowerCase();
      if (!email) return false;
      const existing = await metadata().user.findUnique({ where: { email } });
      if (existing && !existing.active) {
        await audit({ actor: email, action: "login", outcome: "denied", details: { reason: "user deactivated" } });
        return false;
      }
      const role = existing?.role ?? (initialAdmins().includes(email) ? "admin" : "viewer");
      await metadata().user.upsert({
        where: { email },
        create: { email, name: user.name ?? null, role, lastLoginAt: new Date() },
        update: { name: user.name ?? existing?.name ?? null, lastLoginAt: new Date() },
      });
      await audit({ actor: email, action: "login", details: { provider: (profile as { iss?: string } | undefined)?.iss ?? null, created: !existing, role } });
      return true;
    },
    session({ session, token }) {
      return Object.assign(session, { sid: token.sid });
    },
    jwt({ token, user }) {
      if (user?.email) {
        token.email = user.email.toLowerCase();
        token.sid = randomUUID(); // revocable on sign-out (see events.signOut)
      }
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

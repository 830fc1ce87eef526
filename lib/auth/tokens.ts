// Service tokens for pipelines. A token is 32 random bytes (base64url) behind a recognisable prefix; only its SHA-256
// is stored (a token has the entropy of a key, so a fast hash is enough: nothing to brute-force), and it is shown
// once, when it is created. Each has a role (viewer or operator), the environments it may act on, an expiry, its
// last use and, once revoked, who revoked it. Every use is audited under the token's name.
import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { audit } from "../audit";
import type { Metadata } from "../metadata/client";
import { environmentName } from "../config/environments";

export const TOKEN_PREFIX = "uatr_";

export const tokenRequestSchema = z
  .object({
    name: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,59}$/, "must be letters, digits, space, . _ - (at most 60, starting with a letter or digit)"),
    role: z.enum(["viewer", "operator"], { message: "must be viewer or operator (a token is never an admin)" }),
    /** Empty: every environment. */
    environments: z.array(environmentName).max(50).default([]),
    expires_in_days: z.number().int().min(1).max(366),
  })
  .strict();
export type TokenRequest = z.input<typeof tokenRequestSchema>;

export const hashToken = (token: string) => createHash("sha256").update(token, "utf8").digest("hex");

/** Creates a token; the returned `token` is the only time it exists outside the caller. */
export async function createApiToken(db: Metadata, request: TokenRequest, createdBy: string) {
  const r = tokenRequestSchema.parse(request);
  const known = new Set((await db.environment.findMany({ select: { name: true } })).map((e) => e.name));
  const unknown = r.environments.filter((e) => !known.has(e));
  if (unknown.length) throw new z.ZodError([{ code: "custom", path: ["environments"], message: `unknown environment(s) ${unknown.join(", ")}`, input: r.environments }]);
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const row = await db.apiToken.create({
    data: { name: r.name, tokenHash: hashToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6), role: r.role, environments: r.environments, expiresAt: new Date(Date.now() + r.expires_in_days * 86_400_000), createdBy },
  });
  await audit({ actor: createdBy, action: "token.create", target: r.name, details: { role: r.role, environments: r.environments, expiresAt: row.expiresAt.toISOString() } }, db);
  return { token, row };
}

export type TokenCheck = { ok: true; token: { id: string; name: string; role: "viewer" | "operator"; environments: string[] } } | { ok: false; reason: string };

/** The token behind a bearer value, if it is known, unrevoked and unexpired; every use (and refusal) is audited. */
export async function authenticateToken(db: Metadata, presented: string, use: { method: string; path: string }): Promise<TokenCheck> {
  const row = presented.startsWith(TOKEN_PREFIX) ? await db.apiToken.findUnique({ where: { tokenHash: hashToken(presented) } }) : null;
  const reason = !row ? "unknown token" : row.revokedAt ? `token ${row.name} was revoked` : row.expiresAt <= new Date() ? `token ${row.name} expired` : null;
  if (reason || !row) {
    // The presented value is never recorded: a mistyped token is still a secret.
    await audit({ actor: row ? `token ${row.name}` : "anonymous", action: "token.use", target: `${use.method} ${use.path}`, outcome: "denied", details: { reason: reason ?? "unknown token" } }, db);
    return { ok: false, reason: reason ?? "unknown token" };
  }
  await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  await audit({ actor: `token ${row.name}`, action: "token.use", target: `${use.method} ${use.path}` }, db);
  return { ok: true, token: { id: row.id, name: row.name, role: row.role === "operator" ? "operator" : "viewer", environments: row.environments } };
}

export async function revokeApiToken(db: Metadata, id: string, by: string): Promise<boolean> {
  const done = await db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(), revokedBy: by } });
  if (!done.count) return false;
  const row = await db.apiToken.findUniqueOrThrow({ where: { id } });
  await audit({ actor: by, action: "token.revoke", target: row.name }, db);
  return true;
}

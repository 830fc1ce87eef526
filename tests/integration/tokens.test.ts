// Service tokens on the real metadata database: stored as a hash only, refused once expired or revoked, every use
// (and every refusal) audited under the token's name without the presented value; never an admin.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticateToken, createApiToken, revokeApiToken } from "../../lib/auth/tokens";
import { createTestEnv, type TestEnv } from "../support/env";

describe("service tokens", () => {
  let env: TestEnv;
  const use = { method: "POST", path: "/api/runs" };
  beforeAll(async () => {
    env = await createTestEnv();
    await env.config([]);
  });
  afterAll(() => env?.close());

  it("is shown once and stored as its SHA-256 only; a use is audited under its name and recorded as its last use", async () => {
    const { token, row } = await createApiToken(env.db, { name: "qa-pipeline", role: "operator", environments: [env.environment], expires_in_days: 30 }, "ada@example.test");
    expect(token).toMatch(/^uatr_[A-Za-z0-9_-]{43}$/);
    const stored = await env.db.apiToken.findUniqueOrThrow({ where: { id: row.id } });
    expect(stored.tokenHash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(stored)).not.toContain(token.slice(TOKEN_BODY));
    expect(stored.prefix).toBe(token.slice(0, 11));
    const check = await authenticateToken(env.db, token, use);
    expect(check).toEqual({ ok: true, token: { id: row.id, name: "qa-pipeline", role: "operator", environments: [env.environment] } });
    expect((await env.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).lastUsedAt).not.toBeNull();
    const events = await env.db.auditEvent.findMany({ where: { action: { startsWith: "token." } }, orderBy: { at: "asc" } });
    expect(events.map((e) => [e.actor, e.action, e.target, e.outcome])).toEqual([
      ["ada@example.test", "token.create", "qa-pipeline", "ok"],
      ["token qa-pipeline", "token.use", "POST /api/runs", "ok"],
    ]);
  });

  it("expired, revoked and unknown tokens are refused, audited, and the presented value is never recorded", async () => {
    const expired = await createApiToken(env.db, { name: "old", role: "viewer", expires_in_days: 1 }, "ada@example.test");
    await env.db.apiToken.update({ where: { id: expired.row.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await authenticateToken(env.db, expired.token, use)).toEqual({ ok: false, reason: "token old expired" });
    const revoked = await createApiToken(env.db, { name: "leaked", role: "operator", expires_in_days: 30 }, "ada@example.test");
    expect(await revokeApiToken(env.db, revoked.row.id, "ada@example.test")).toBe(true);
    expect(await revokeApiToken(env.db, revoked.row.id, "ada@example.test")).toBe(false);
    expect(await authenticateToken(env.db, revoked.token, use)).toEqual({ ok: false, reason: "token leaked was revoked" });
    const guess = `uatr_${"A".repeat(43)}`;
    expect(await authenticateToken(env.db, guess, use)).toEqual({ ok: false, reason: "unknown token" });
    const refusals = await env.db.auditEvent.findMany({ where: { action: "token.use", outcome: "denied" }, orderBy: { at: "asc" } });
    expect(refusals.map((e) => [e.actor, e.details])).toEqual([
      ["token old", { reason: "token old expired" }],
      ["token leaked", { reason: "token leaked was revoked" }],
      ["anonymous", { reason: "unknown token" }],
    ]);
    const all = JSON.stringify(await env.db.auditEvent.findMany());
    for (const t of [expired.token, revoked.token, guess]) expect(all).not.toContain(t.slice(TOKEN_BODY));
  });

  it("is never an admin, and names only environments that exist", async () => {
    await expect(createApiToken(env.db, { name: "root", role: "admin" as "operator", expires_in_days: 1 }, "ada@example.test")).rejects.toThrow("must be viewer or operator (a token is never an admin)");
    await expect(createApiToken(env.db, { name: "typo", role: "viewer", environments: ["qa"], expires_in_days: 1 }, "ada@example.test")).rejects.toThrow("unknown environment(s) qa");
    // Nor through the database: the table refuses the role.
    await expect(env.db.apiToken.create({ data: { name: "sneaky", tokenHash: "x", prefix: "uatr_x", role: "admin", expiresAt: new Date(), createdBy: "x" } })).rejects.toThrow(/ApiToken_role_check/);
  });
});

/** Where a token's secret part starts (after "uatr_" and the 6 characters kept as its visible prefix). */
const TOKEN_BODY = 11;

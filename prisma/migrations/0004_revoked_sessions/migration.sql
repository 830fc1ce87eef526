-- Signed-out sessions: a JWT session cookie can be re-sent (or re-set by a request that raced the sign-out), so
-- the session id is revoked on the server until the token would have expired anyway.
CREATE TABLE "RevokedSession" (
    "sid" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "RevokedSession_pkey" PRIMARY KEY ("sid")
);
CREATE INDEX "RevokedSession_expiresAt_idx" ON "RevokedSession"("expiresAt");

-- The dashboard's shared status is recomputed as soon as a run starts or finishes: the newest start and finish are
-- read by index on every status request.
CREATE INDEX "RefreshRun_finishedAt_idx" ON "RefreshRun"("finishedAt");

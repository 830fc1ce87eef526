-- A run that refreshes again the tables another run did not finish names that run.
ALTER TABLE "RefreshRun" ADD COLUMN "retryOf" TEXT;
CREATE INDEX "RefreshRun_retryOf_idx" ON "RefreshRun"("retryOf");

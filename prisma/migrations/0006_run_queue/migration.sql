-- Runs wait in a durable queue (pg-boss) before a worker executes them. Any process can ask the executing one to
-- stop (it polls the request). A run whose process died is marked interrupted, never retried.
ALTER TYPE "RunStatus" ADD VALUE 'queued';
ALTER TYPE "RunStatus" ADD VALUE 'cancelled';
ALTER TYPE "RunStatus" ADD VALUE 'interrupted';
ALTER TABLE "RefreshRun" ADD COLUMN "queuedAt" TIMESTAMP(3);
ALTER TABLE "RefreshRun" ADD COLUMN "executor" TEXT;
ALTER TABLE "RefreshRun" ADD COLUMN "cancelRequestedBy" TEXT;
ALTER TABLE "RefreshRun" ADD COLUMN "cancelRequestedAt" TIMESTAMP(3);
CREATE INDEX "RefreshRun_status_idx" ON "RefreshRun"("status");

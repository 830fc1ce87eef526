-- Per environment: blackout windows (no refresh starts) and approvals (a manual refresh waits for a second person).
ALTER TABLE "Environment" ADD COLUMN "blackoutWindows" JSONB NOT NULL DEFAULT '[]';
ALTER TABLE "Environment" ADD COLUMN "approval" JSONB;
ALTER TABLE "Schedule" ADD COLUMN "preApproved" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "ScheduleFire" ADD COLUMN "skipped" TEXT;
ALTER TYPE "RunStatus" ADD VALUE 'awaiting_approval' BEFORE 'queued';
ALTER TYPE "RunStatus" ADD VALUE 'rejected';
ALTER TYPE "RunStatus" ADD VALUE 'expired';
ALTER TABLE "RefreshRun" ADD COLUMN "approvalExpiresAt" TIMESTAMP(3);
ALTER TABLE "RefreshRun" ADD COLUMN "decidedBy" TEXT;
ALTER TABLE "RefreshRun" ADD COLUMN "decidedAt" TIMESTAMP(3);
ALTER TABLE "RefreshRun" ADD COLUMN "decisionNote" TEXT;

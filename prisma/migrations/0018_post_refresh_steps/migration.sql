-- Post-refresh steps: SQL an admin configures to run on the target after a refresh, and what each did per run.
CREATE TYPE "StepStatus" AS ENUM ('planned', 'succeeded', 'failed', 'rolled_back', 'skipped');

CREATE TABLE "PostRefreshStep" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "sql" TEXT NOT NULL,
    "tables" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "PostRefreshStep_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "PostRefreshStep_name_key" ON "PostRefreshStep"("name");

CREATE TABLE "StepResult" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "tables" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" "StepStatus" NOT NULL,
    "executions" INTEGER NOT NULL DEFAULT 0,
    "rowsAffected" BIGINT NOT NULL DEFAULT 0,
    "durationMs" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "finishedAt" TIMESTAMP(3),
    CONSTRAINT "StepResult_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "StepResult_runId_name_key" ON "StepResult"("runId", "name");
ALTER TABLE "StepResult" ADD CONSTRAINT "StepResult_runId_fkey" FOREIGN KEY ("runId") REFERENCES "RefreshRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('viewer', 'operator', 'admin');

-- CreateEnum
CREATE TYPE "Engine" AS ENUM ('postgres', 'sqlserver');

-- CreateEnum
CREATE TYPE "ConnectionRole" AS ENUM ('source', 'target');

-- CreateEnum
CREATE TYPE "Strategy" AS ENUM ('simple_copy', 'staging_partition_switch');

-- CreateEnum
CREATE TYPE "SyncMode" AS ENUM ('full_replace', 'incremental', 'smart_sync');

-- CreateEnum
CREATE TYPE "IncrementalType" AS ENUM ('identity', 'date', 'datetime');

-- CreateEnum
CREATE TYPE "ScheduleScope" AS ENUM ('all', 'tables');

-- CreateEnum
CREATE TYPE "Trigger" AS ENUM ('cli', 'web', 'schedule');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('running', 'succeeded', 'failed', 'partial');

-- CreateEnum
CREATE TYPE "TableStatus" AS ENUM ('pending', 'running', 'succeeded', 'failed', 'skipped');

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "Role" NOT NULL DEFAULT 'viewer',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastLoginAt" TIMESTAMP(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Connection" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "ConnectionRole" NOT NULL,
    "engine" "Engine" NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER,
    "database" TEXT NOT NULL,
    "userEnv" TEXT,
    "passwordEnv" TEXT,
    "options" JSONB NOT NULL DEFAULT '{}',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TableConfig" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "schema" TEXT,
    "strategy" "Strategy" NOT NULL DEFAULT 'simple_copy',
    "syncMode" "SyncMode" NOT NULL DEFAULT 'full_replace',
    "incrementalColumn" TEXT,
    "incrementalType" "IncrementalType",
    "truncateTarget" BOOLEAN NOT NULL DEFAULT true,
    "dateBufferDays" INTEGER,
    "batchSize" INTEGER,
    "partitionColumn" TEXT,
    "partitionFunction" TEXT,
    "partitionScheme" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "position" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TableConfig_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "defaultBatchSize" INTEGER NOT NULL DEFAULT 10000,
    "connectionTimeout" INTEGER NOT NULL DEFAULT 30,
    "commandTimeout" INTEGER NOT NULL DEFAULT 300,
    "maxRetries" INTEGER NOT NULL DEFAULT 3,

    CONSTRAINT "Settings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Schedule" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "scope" "ScheduleScope" NOT NULL DEFAULT 'all',
    "tables" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ScheduleFire" (
    "id" TEXT NOT NULL,
    "scheduleId" TEXT NOT NULL,
    "dueAt" TIMESTAMP(3) NOT NULL,
    "firedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "missed" BOOLEAN NOT NULL DEFAULT false,
    "runId" TEXT,

    CONSTRAINT "ScheduleFire_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RefreshRun" (
    "id" TEXT NOT NULL,
    "trigger" "Trigger" NOT NULL,
    "triggeredBy" TEXT NOT NULL,
    "dryRun" BOOLEAN NOT NULL DEFAULT false,
    "status" "RunStatus" NOT NULL DEFAULT 'running',
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "tablesTotal" INTEGER NOT NULL DEFAULT 0,
    "tablesSucceeded" INTEGER NOT NULL DEFAULT 0,
    "tablesFailed" INTEGER NOT NULL DEFAULT 0,
    "rowsWritten" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "RefreshRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TableResult" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "tableName" TEXT NOT NULL,
    "strategy" "Strategy" NOT NULL,
    "mode" TEXT,
    "modeReason" TEXT,
    "status" "TableStatus" NOT NULL DEFAULT 'pending',
    "phase" TEXT,
    "rowsRead" BIGINT NOT NULL DEFAULT 0,
    "rowsWritten" BIGINT NOT NULL DEFAULT 0,
    "rowsExpected" BIGINT,
    "watermarkBefore" TEXT,
    "watermarkAfter" TEXT,
    "partitionsCreated" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "partitionsSwitched" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "error" TEXT,
    "errorHint" TEXT,

    CONSTRAINT "TableResult_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "outcome" TEXT NOT NULL DEFAULT 'ok',
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Connection_name_key" ON "Connection"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Connection_role_key" ON "Connection"("role");

-- CreateIndex
CREATE UNIQUE INDEX "TableConfig_name_key" ON "TableConfig"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Schedule_name_key" ON "Schedule"("name");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduleFire_scheduleId_dueAt_key" ON "ScheduleFire"("scheduleId", "dueAt");

-- CreateIndex
CREATE INDEX "RefreshRun_startedAt_idx" ON "RefreshRun"("startedAt");

-- CreateIndex
CREATE INDEX "TableResult_tableName_startedAt_idx" ON "TableResult"("tableName", "startedAt");

-- CreateIndex
CREATE INDEX "TableResult_runId_idx" ON "TableResult"("runId");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_action_idx" ON "AuditEvent"("action");

-- AddForeignKey
ALTER TABLE "ScheduleFire" ADD CONSTRAINT "ScheduleFire_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "Schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TableResult" ADD CONSTRAINT "TableResult_runId_fkey" FOREIGN KEY ("runId") REFERENCES "RefreshRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;


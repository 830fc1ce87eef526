-- Several environments from one installation. What exists already becomes one environment named after its target
-- database (lowercase, anything but letters, digits, - and _ becoming -), keeping its runs, audit events, schedules,
-- steps and table decisions.
CREATE TABLE "Environment" (
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Environment_pkey" PRIMARY KEY ("name")
);

INSERT INTO "Environment" ("name")
SELECT coalesce(
         (SELECT nullif(trim(both '-' FROM regexp_replace(lower("database"), '[^a-z0-9_-]+', '-', 'g')), '') FROM "Connection" WHERE "role" = 'target'),
         'uat')
WHERE EXISTS (SELECT FROM "Connection") OR EXISTS (SELECT FROM "TableConfig") OR EXISTS (SELECT FROM "Schedule")
   OR EXISTS (SELECT FROM "PostRefreshStep") OR EXISTS (SELECT FROM "RefreshRun");

ALTER TABLE "Connection" ADD COLUMN "environment" TEXT;
ALTER TABLE "TableConfig" ADD COLUMN "environment" TEXT;
ALTER TABLE "Schedule" ADD COLUMN "environment" TEXT;
ALTER TABLE "PostRefreshStep" ADD COLUMN "environment" TEXT;
ALTER TABLE "RefreshRun" ADD COLUMN "environment" TEXT;
ALTER TABLE "AuditEvent" ADD COLUMN "environment" TEXT;

UPDATE "Connection" SET "environment" = (SELECT "name" FROM "Environment");
UPDATE "TableConfig" SET "environment" = (SELECT "name" FROM "Environment");
UPDATE "Schedule" SET "environment" = (SELECT "name" FROM "Environment");
UPDATE "PostRefreshStep" SET "environment" = (SELECT "name" FROM "Environment");
UPDATE "RefreshRun" SET "environment" = (SELECT "name" FROM "Environment");
-- Audit events about runs, tables, masking, schedules, steps and the configuration concern that environment, those
-- about users, sign-ins, notification channels and the audit trail itself stay installation-wide
UPDATE "AuditEvent" SET "environment" = (SELECT "name" FROM "Environment")
 WHERE "action" ~ '^(refresh|table|masking|schedule|step|config)[._]';

ALTER TABLE "Connection" ALTER COLUMN "environment" SET NOT NULL;
ALTER TABLE "TableConfig" ALTER COLUMN "environment" SET NOT NULL;
ALTER TABLE "Schedule" ALTER COLUMN "environment" SET NOT NULL;
ALTER TABLE "PostRefreshStep" ALTER COLUMN "environment" SET NOT NULL;
ALTER TABLE "RefreshRun" ALTER COLUMN "environment" SET NOT NULL;

DROP INDEX "Connection_name_key";
DROP INDEX "Connection_role_key";
DROP INDEX "TableConfig_name_key";
DROP INDEX "PostRefreshStep_name_key";
CREATE UNIQUE INDEX "Connection_environment_role_key" ON "Connection"("environment", "role");
CREATE UNIQUE INDEX "Connection_environment_name_key" ON "Connection"("environment", "name");
CREATE UNIQUE INDEX "TableConfig_environment_name_key" ON "TableConfig"("environment", "name");
CREATE UNIQUE INDEX "PostRefreshStep_environment_name_key" ON "PostRefreshStep"("environment", "name");
CREATE INDEX "RefreshRun_environment_startedAt_idx" ON "RefreshRun"("environment", "startedAt");

ALTER TABLE "Connection" ADD CONSTRAINT "Connection_environment_fkey" FOREIGN KEY ("environment") REFERENCES "Environment"("name") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "TableConfig" ADD CONSTRAINT "TableConfig_environment_fkey" FOREIGN KEY ("environment") REFERENCES "Environment"("name") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "Schedule" ADD CONSTRAINT "Schedule_environment_fkey" FOREIGN KEY ("environment") REFERENCES "Environment"("name") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "PostRefreshStep" ADD CONSTRAINT "PostRefreshStep_environment_fkey" FOREIGN KEY ("environment") REFERENCES "Environment"("name") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "AuditEvent_environment_at_idx" ON "AuditEvent"("environment", "at");

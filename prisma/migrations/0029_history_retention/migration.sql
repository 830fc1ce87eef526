-- How long run history (and, when set, the audit trail) is kept (lib/ops/retention).
ALTER TABLE "Settings" ADD COLUMN "historyRetentionDays" INTEGER NOT NULL DEFAULT 365;
ALTER TABLE "Settings" ADD COLUMN "auditRetentionDays" INTEGER;

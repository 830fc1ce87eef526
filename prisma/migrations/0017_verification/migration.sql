-- Verification after every refresh: what the comparison of the copied rows with production's found, per table.
ALTER TABLE "TableResult" ADD COLUMN "verification" TEXT;
ALTER TABLE "TableResult" ADD COLUMN "verified" BOOLEAN;

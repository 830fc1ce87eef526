-- A UAT that people use between refreshes: ids re-read below an identity watermark, UAT's own id range, and the
-- rows, columns and tables UAT keeps (config.yaml identity_buffer, uat_ids_from, keep_rows, keep_columns,
-- keep_table, settings.reserve_uat_ids).
ALTER TABLE "TableConfig" ADD COLUMN "identityBuffer" INTEGER;
ALTER TABLE "TableConfig" ADD COLUMN "uatIdsFrom" BIGINT;
ALTER TABLE "TableConfig" ADD COLUMN "keepRows" TEXT;
ALTER TABLE "TableConfig" ADD COLUMN "keepColumns" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "TableConfig" ADD COLUMN "keepTable" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Settings" ADD COLUMN "reserveUatIds" BOOLEAN NOT NULL DEFAULT true;

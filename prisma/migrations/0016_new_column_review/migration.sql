-- New columns reviewed before they flow: the source columns a table's last personal-data review covered, and the
-- installation's switch for the rule (config.yaml reviewed_columns, settings.review_new_columns).
ALTER TABLE "TableConfig" ADD COLUMN "reviewedColumns" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "Settings" ADD COLUMN "reviewNewColumns" BOOLEAN NOT NULL DEFAULT true;

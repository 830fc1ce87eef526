-- A table result's rowsExpected that is the catalog's figure rather than a count (shown with "≈").
ALTER TABLE "TableResult" ADD COLUMN "rowsEstimated" BOOLEAN NOT NULL DEFAULT false;

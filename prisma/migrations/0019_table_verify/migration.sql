-- Per table: count and checksum the copied rows after each refresh (on unless turned off for a very large table).
ALTER TABLE "TableConfig" ADD COLUMN "verify" BOOLEAN NOT NULL DEFAULT true;

-- Masking rules of a table (the config.yaml masking list), and the columns a refresh masked.
ALTER TABLE "TableConfig" ADD COLUMN "masking" JSONB;
ALTER TABLE "TableResult" ADD COLUMN "maskedColumns" TEXT[] DEFAULT ARRAY[]::TEXT[];

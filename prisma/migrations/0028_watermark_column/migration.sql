-- The incremental column a table result's watermarkAfter belongs to (null: none recorded, or before this version).
ALTER TABLE "TableResult" ADD COLUMN "watermarkColumn" TEXT;

-- Rows of a table that are committed in the target (whole batches, whole days), apart from the rows streamed so far.
ALTER TABLE "TableResult" ADD COLUMN "rowsCommitted" BIGINT NOT NULL DEFAULT 0;

-- Foreign keys from tables outside the configuration whose UAT rows are kept while the referenced table refreshes.
ALTER TABLE "TableConfig" ADD COLUMN "keepReferencing" JSONB;

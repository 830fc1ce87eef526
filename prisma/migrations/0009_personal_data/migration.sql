-- Columns of a table flagged as personal data (the config.yaml personal_data list), with admins decisions
ALTER TABLE "TableConfig" ADD COLUMN "personalData" JSONB;

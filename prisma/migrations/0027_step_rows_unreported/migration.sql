-- A post-refresh step whose server gave no row count (DDL only, or SQL Server under SET NOCOUNT ON, as procedures
-- often set) records null, never a 0 the server did not say.
ALTER TABLE "StepResult" ALTER COLUMN "rowsAffected" DROP NOT NULL;

-- The mode each table of a run was configured with when the run began (the configuration can change later), shown
-- beside the mode the refresh actually used: "full_replace → merge".
ALTER TABLE "TableResult" ADD COLUMN "configuredMode" TEXT;

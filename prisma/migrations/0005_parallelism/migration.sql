-- How many tables one run refreshes at once, and how many runs one app instance or worker executes at once.
ALTER TABLE "Settings" ADD COLUMN "maxParallelTables" INTEGER NOT NULL DEFAULT 2;
ALTER TABLE "Settings" ADD COLUMN "maxConcurrentRuns" INTEGER NOT NULL DEFAULT 2;

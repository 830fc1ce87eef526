-- Parallel key-range streams of one staging load (settings.max_streams_per_table, settings.min_rows_per_stream).
ALTER TABLE "Settings" ADD COLUMN "maxStreamsPerTable" INTEGER;
ALTER TABLE "Settings" ADD COLUMN "minRowsPerStream" INTEGER NOT NULL DEFAULT 250000;

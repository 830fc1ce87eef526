-- Identity mode's watched gaps: the ids production had not filled when a refresh's floor passed them (JSON).
ALTER TABLE "TableResult" ADD COLUMN "idGaps" TEXT;

-- Target triggers are disabled while a refresh loads rows unless the table says fire_triggers: true.
ALTER TABLE "TableConfig" ADD COLUMN "fireTriggers" BOOLEAN NOT NULL DEFAULT false;

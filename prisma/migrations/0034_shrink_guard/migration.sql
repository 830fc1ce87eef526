-- A full replace that would leave UAT with far fewer rows than it holds is refused, unless the table allows it.
ALTER TABLE "TableConfig" ADD COLUMN "allowShrink" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Settings" ADD COLUMN "minSourceRowsPercent" INTEGER NOT NULL DEFAULT 50;

-- The servers' own names of each environment's source and target, recorded by its runs: a target that is another
-- environment's source or target is refused at run time, whatever host name the configuration uses.
ALTER TABLE "Environment" ADD COLUMN "sourceKeys" TEXT[] DEFAULT ARRAY[]::TEXT[];
ALTER TABLE "Environment" ADD COLUMN "targetKeys" TEXT[] DEFAULT ARRAY[]::TEXT[];

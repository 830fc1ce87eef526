-- What a table result's verification will compare, as its plan said it (shown until the verification's own result).
ALTER TABLE "TableResult" ADD COLUMN "verificationPlan" TEXT;

-- The original config.yaml's auth_type ("sql" | "windows") and the variable naming the NTLM domain.
ALTER TABLE "Connection" ADD COLUMN "authType" TEXT;
ALTER TABLE "Connection" ADD COLUMN "domainEnv" TEXT;

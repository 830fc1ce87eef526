-- Roles per environment: a grant sets a user's role (viewer or operator) in one environment in place of their
-- installation-wide role there. Admin stays installation-wide.
CREATE TABLE "EnvironmentGrant" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "grantedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "EnvironmentGrant_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "EnvironmentGrant_role_check" CHECK ("role" <> 'admin')
);
CREATE UNIQUE INDEX "EnvironmentGrant_userId_environment_key" ON "EnvironmentGrant"("userId", "environment");
ALTER TABLE "EnvironmentGrant" ADD CONSTRAINT "EnvironmentGrant_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "EnvironmentGrant" ADD CONSTRAINT "EnvironmentGrant_environment_fkey" FOREIGN KEY ("environment") REFERENCES "Environment"("name") ON DELETE CASCADE ON UPDATE CASCADE;

-- Notification channels can be limited to some environments (empty: every environment, as before).
ALTER TABLE "NotificationChannel" ADD COLUMN "environments" TEXT[] DEFAULT ARRAY[]::TEXT[];

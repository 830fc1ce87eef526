// Ready-made post-refresh steps for the chores teams do after every refresh, per engine. They are starting points:
// the admin page copies one into the form, where the names in it (tables, columns, roles, URLs) are edited to the
// application's before it is saved. Nothing runs a template as it is.
import type { Engine } from "../dialects/types";

export interface StepTemplate {
  id: string;
  engine: Engine;
  title: string;
  /** What it does and what to edit; where it should run. */
  description: string;
  sql: string;
  /** Scope it to these tables (run in their transaction) by default: the table holding what must never be committed. */
  tables?: string[];
}

export const STEP_TEMPLATES: StepTemplate[] = [
  {
    id: "sqlserver-remap-orphaned-users",
    engine: "sqlserver",
    title: "Re-map orphaned database users",
    description:
      "A database restored or copied from production carries production's users, whose SIDs match no login of the UAT server. Each SQL user without a login of its SID is mapped to the UAT login of the same name (ALTER USER ... WITH LOGIN). Run it after the tables.",
    sql: `DECLARE @user sysname, @statement nvarchar(max);
DECLARE orphans CURSOR LOCAL FAST_FORWARD FOR
  SELECT dp.name
  FROM sys.database_principals AS dp
  JOIN sys.server_principals AS sp ON sp.name = dp.name AND sp.type = 'S'
  WHERE dp.type = 'S' AND dp.principal_id > 4
    AND NOT EXISTS (SELECT 1 FROM sys.server_principals AS owner WHERE owner.sid = dp.sid);
OPEN orphans;
FETCH NEXT FROM orphans INTO @user;
WHILE @@FETCH_STATUS = 0
BEGIN
  SET @statement = N'ALTER USER ' + QUOTENAME(@user) + N' WITH LOGIN = ' + QUOTENAME(@user);
  EXEC sys.sp_executesql @statement;
  FETCH NEXT FROM orphans INTO @user;
END;
CLOSE orphans;
DEALLOCATE orphans;`,
  },
  {
    id: "sqlserver-grants",
    engine: "sqlserver",
    title: "Re-apply UAT's grants",
    description: "Gives UAT's roles what they need on the refreshed schema (edit the role and schema names).",
    sql: `GRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::[dbo] TO [uat_testers];
GRANT SELECT ON SCHEMA::[dbo] TO [uat_readers];`,
  },
  {
    id: "sqlserver-cut-email",
    engine: "sqlserver",
    title: "Cut outbound email: customer addresses to a sink",
    description:
      "Rewrites every customer address to a non-deliverable one, inside the customers table's refresh transaction, so no committed state of UAT holds a real address (edit table, key and column).",
    tables: ["customers"],
    sql: `UPDATE [dbo].[customers]
SET [email] = CONCAT('uat+', [customer_id], '@example.invalid')
WHERE [email] NOT LIKE '%@example.invalid';`,
  },
  {
    id: "sqlserver-mail-settings",
    engine: "sqlserver",
    title: "Cut outbound email: clear the application's mail settings",
    description: "Empties the application's SMTP settings and turns its mail queue off (edit table and setting names).",
    sql: `UPDATE [dbo].[app_settings] SET [value] = N'' WHERE [name] IN (N'smtp_host', N'smtp_user', N'smtp_password');
UPDATE [dbo].[app_settings] SET [value] = N'false' WHERE [name] = N'mail_enabled';`,
  },
  {
    id: "sqlserver-disable-agent-jobs",
    engine: "sqlserver",
    title: "Disable SQL Agent jobs that work on this database",
    description:
      "Disables every enabled SQL Server Agent job with a step in this database (msdb.dbo.sp_update_job), so production's batch jobs copied along never run against UAT. The login needs SQLAgentOperatorRole or to own the jobs.",
    sql: `DECLARE @job uniqueidentifier;
DECLARE jobs CURSOR LOCAL FAST_FORWARD FOR
  SELECT DISTINCT j.job_id
  FROM msdb.dbo.sysjobs AS j
  JOIN msdb.dbo.sysjobsteps AS s ON s.job_id = j.job_id
  WHERE s.database_name = DB_NAME() AND j.enabled = 1;
OPEN jobs;
FETCH NEXT FROM jobs INTO @job;
WHILE @@FETCH_STATUS = 0
BEGIN
  EXEC msdb.dbo.sp_update_job @job_id = @job, @enabled = 0;
  FETCH NEXT FROM jobs INTO @job;
END;
CLOSE jobs;
DEALLOCATE jobs;`,
  },
  {
    id: "sqlserver-repoint-config",
    engine: "sqlserver",
    title: "Re-point configuration rows at UAT",
    description: "Sets the URLs and endpoints the application reads from its own tables to UAT's (edit names and values).",
    sql: `UPDATE [dbo].[app_settings] SET [value] = N'https://uat.example.com' WHERE [name] = N'site_url';
UPDATE [dbo].[app_settings] SET [value] = N'https://payments-sandbox.example.com' WHERE [name] = N'payment_api_url';`,
  },
  {
    id: "sqlserver-reset-test-accounts",
    engine: "sqlserver",
    title: "Reset test accounts",
    description: "Unlocks the testers' accounts and sets their password hash to UAT's known test password (paste the hash your application stores).",
    sql: `UPDATE [dbo].[users]
SET [password_hash] = N'<hash of the UAT test password>', [failed_logins] = 0, [locked] = 0
WHERE [username] LIKE N'test%';`,
  },
  {
    id: "sqlserver-record-refresh",
    engine: "sqlserver",
    title: "Record the refresh in UAT",
    description: "Writes the run's id, start and requester into a table of UAT's own (the run's facts travel as parameters).",
    sql: `INSERT INTO [dbo].[uat_refresh_log] ([run_id], [refreshed_at], [refreshed_by])
VALUES (@run_id, @run_started_at, @triggered_by);`,
  },
  {
    id: "postgres-grants",
    engine: "postgres",
    title: "Re-apply UAT's grants",
    description: "Gives UAT's roles what they need on the refreshed schema, tables and sequences (edit role and schema names).",
    sql: `GRANT USAGE ON SCHEMA public TO uat_testers;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO uat_testers;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO uat_testers;`,
  },
  {
    id: "postgres-cut-email",
    engine: "postgres",
    title: "Cut outbound email: customer addresses to a sink",
    description:
      "Rewrites every customer address to a non-deliverable one, inside the customers table's refresh transaction, so no committed state of UAT holds a real address (edit table, key and column).",
    tables: ["customers"],
    sql: `UPDATE customers
SET email = 'uat+' || customer_id || '@example.invalid'
WHERE email NOT LIKE '%@example.invalid'`,
  },
  {
    id: "postgres-mail-settings",
    engine: "postgres",
    title: "Cut outbound email: clear the application's mail settings",
    description: "Empties the application's SMTP settings and turns its mail queue off (edit table and setting names).",
    sql: `UPDATE app_settings SET value = '' WHERE name IN ('smtp_host', 'smtp_user', 'smtp_password');
UPDATE app_settings SET value = 'false' WHERE name = 'mail_enabled';`,
  },
  {
    id: "postgres-disable-pg-cron",
    engine: "postgres",
    title: "Disable pg_cron jobs that work on this database",
    description:
      "Turns off every active pg_cron job whose database is UAT's (cron.alter_job). pg_cron keeps its jobs in the database it is installed in (cron.database_name, often postgres): the step runs on UAT's database, so it works where pg_cron is installed there.",
    sql: `SELECT cron.alter_job(jobid, active := false)
FROM cron.job
WHERE database = current_database() AND active`,
  },
  {
    id: "postgres-repoint-config",
    engine: "postgres",
    title: "Re-point configuration rows at UAT",
    description: "Sets the URLs and endpoints the application reads from its own tables to UAT's (edit names and values).",
    sql: `UPDATE app_settings SET value = 'https://uat.example.com' WHERE name = 'site_url';
UPDATE app_settings SET value = 'https://payments-sandbox.example.com' WHERE name = 'payment_api_url';`,
  },
  {
    id: "postgres-reset-test-accounts",
    engine: "postgres",
    title: "Reset test accounts",
    description: "Unlocks the testers' accounts and sets their password hash to UAT's known test password (paste the hash your application stores).",
    sql: `UPDATE users
SET password_hash = '<hash of the UAT test password>', failed_logins = 0, locked = false
WHERE username LIKE 'test%'`,
  },
  {
    id: "postgres-record-refresh",
    engine: "postgres",
    title: "Record the refresh in UAT",
    description: "Writes the run's id, start and requester into a table of UAT's own (the run's facts travel as parameters; one statement).",
    sql: `INSERT INTO uat_refresh_log (run_id, refreshed_at, refreshed_by)
VALUES (@run_id, @run_started_at, @triggered_by)`,
  },
];

export function templatesFor(engine: Engine): StepTemplate[] {
  return STEP_TEMPLATES.filter((t) => t.engine === engine);
}

// The config.yaml format (databases, tables, settings), validated with zod.
// The same schema validates YAML import and the admin forms, so both report the same field paths.
import { z } from "zod";
import { identifier } from "./identifier";
import { maskRuleSchema, personalDataSchema } from "./masking";
import { ExpressionError, parseExpression } from "../dialects/expression";
import { credentialVariableProblem } from "./credentials";
import { SSL_MODES } from "../dialects/postgres/ssl-modes";
import { trustsServerCertificate } from "../dialects/sqlserver/tls-options";
import { stepParameterProblem } from "./step-parameters";
import { blackoutWindowSchema } from "./blackout";

export { identifier };

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, _)");

/** A variable a connection's credentials are read from: under an allowlisted prefix (lib/config/credentials). */
const credentialVar = envVarName.superRefine((name, ctx) => {
  const problem = credentialVariableProblem(name);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const databaseSchema = z
  .object({
    engine: z.enum(["sqlserver", "postgres"]).default("sqlserver"),
    server: z.string().min(1, "must not be empty"),
    port: z.number().int().min(1).max(65535).optional(),
    database: identifier,
    /** The original format's login kind. Credentials then default to SOURCE_DB_USER / SOURCE_DB_PASSWORD
     *  (TARGET_DB_... for the target), and SOURCE_DB_DOMAIN for windows; the *_env fields override the names. */
    auth_type: z.enum(["sql", "windows"]).optional(),
    username_env: credentialVar.optional(),
    password_env: credentialVar.optional(),
    domain_env: credentialVar.optional(),
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.auth_type === "windows" && d.engine !== "sqlserver")
      ctx.addIssue({ code: "custom", path: ["auth_type"], message: "windows authentication is for SQL Server; PostgreSQL logins use username_env/password_env" });
    if (d.auth_type && d.options.authentication !== undefined)
      ctx.addIssue({ code: "custom", path: ["options", "authentication"], message: `conflicts with auth_type ${d.auth_type}: set one of them` });
    if (d.domain_env && d.auth_type !== "windows")
      ctx.addIssue({ code: "custom", path: ["domain_env"], message: "applies only with auth_type: windows" });
    const sslmode = d.options.sslmode;
    if (d.engine === "postgres" && sslmode !== undefined && !(SSL_MODES as readonly unknown[]).includes(sslmode))
      ctx.addIssue({ code: "custom", path: ["options", "sslmode"], message: `must be one of ${SSL_MODES.join(", ")}` });
    if (d.engine === "postgres" && (sslmode === "verify-ca" || sslmode === "verify-full") && d.options.sslrootcert === undefined)
      ctx.addIssue({ code: "custom", path: ["options", "sslrootcert"], message: `is required with sslmode ${sslmode} (the CA certificate file the server is verified against)` });
    const encrypt = d.options.encrypt;
    if (d.engine === "sqlserver" && encrypt !== undefined && !([true, false, "true", "false", "strict", "mandatory", "optional"] as unknown[]).includes(encrypt))
      ctx.addIssue({ code: "custom", path: ["options", "encrypt"], message: "must be true, false or strict" });
    if (d.engine === "sqlserver" && d.options.caCertificate !== undefined && trustsServerCertificate(d.options))
      ctx.addIssue({ code: "custom", path: ["options", "caCertificate"], message: "conflicts with trustServerCertificate: true, which skips the verification caCertificate asks for: set one of them" });
    const exempt = d.options.rowSecurityExempt;
    if (exempt !== undefined && d.engine !== "sqlserver")
      ctx.addIssue({ code: "custom", path: ["options", "rowSecurityExempt"], message: "is for SQL Server; PostgreSQL reads who bypasses row-level security from its catalog (BYPASSRLS, the table's owner)" });
    else if (exempt !== undefined && !([true, false, "true", "false"] as unknown[]).includes(exempt))
      ctx.addIssue({ code: "custom", path: ["options", "rowSecurityExempt"], message: "must be true or false" });
  });

/** An admin's record that a table outside the configuration keeps its UAT rows while this table is refreshed:
 *  the table is then merged, never emptied, and rows gone from the source that those rows reference are kept. */
export const keepReferencingSchema = z
  .object({
    /** The foreign key, as the target's catalog names it. */
    foreign_key: identifier,
    /** Its referencing table, `schema.table` or `table`. */
    table: z.string().trim().min(1, "must not be empty").max(260),
    reason: z.string().trim().min(10, "give a reason of at least 10 characters").max(1000),
    decided_by: z.string().max(320).optional(),
  })
  .strict();
export type KeepReferencing = z.infer<typeof keepReferencingSchema>;

export const STRATEGIES = ["simple_copy", "staging_partition_switch"] as const;
export const SYNC_MODES = ["full_replace", "incremental", "smart_sync"] as const;
export const INCREMENTAL_TYPES = ["identity", "date", "datetime"] as const;

export const tableSchema = z
  .object({
    name: identifier,
    schema: identifier.optional(),
    strategy: z.enum(STRATEGIES).default("simple_copy"),
    sync_mode: z.enum(SYNC_MODES).default("full_replace"),
    incremental_column: identifier.optional(),
    incremental_type: z.enum(INCREMENTAL_TYPES).optional(),
    truncate_target: z.boolean().default(true),
    /** Fire the target table's triggers while rows are loaded (default: they are disabled for the load, as
     *  pg_dump --disable-triggers and SQL Server's bulk copy do). */
    fire_triggers: z.boolean().default(false),
    date_buffer_days: z.number().int().min(0).max(3650).optional(),
    /** Identity mode: ids below the watermark re-read and upserted on every run, so a row production committed
     *  after a higher id (concurrent transactions, a readable secondary) still arrives (default 10000). */
    identity_buffer: z.number().int().min(0).max(100_000_000).optional(),
    /** The first id UAT's own new rows take in this table's identities and sequences (default by the key's type:
     *  2,000,000,000 for int, 9e18 for bigint, 30,000 for smallint). */
    uat_ids_from: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    /** UAT rows to keep on every refresh: a predicate over the target's columns (e.g. `created_by = 'tester'`). */
    keep_rows: z.string().trim().min(1).max(2000).optional(),
    /** Columns whose UAT values stay on rows production also has (a settings row's URL), matched by key. */
    keep_columns: z.array(identifier).max(200).optional(),
    /** The source columns the last personal-data review covered (recorded at the table's first plan): a column
     *  production gains later is refused until an admin decides it (settings.review_new_columns). */
    reviewed_columns: z.array(identifier).max(5000).optional(),
    /** UAT owns the whole table: it is never refreshed, and the tables it references keep the rows it uses. */
    keep_table: z.boolean().optional(),
    /** Count and checksum what each refresh copied, source and target (default true; false for a table too big for
     *  the extra read: its refreshes are then never "in sync", only "equal, not verified"). */
    verify: z.boolean().optional(),
    /** A full replace may go ahead where production holds fewer rows than settings.min_source_rows_percent of UAT's
     *  (production purged them on purpose); refused by default (lib/engine/shrink-guard). */
    allow_shrink: z.boolean().optional(),
    batch_size: z.number().int().min(1).max(10_000_000).optional(),
    partition_column: identifier.optional(),
    partition_function: identifier.optional(),
    partition_scheme: identifier.optional(),
    enabled: z.boolean().default(true),
    /** Personal data masked on every refresh (see lib/config/masking.ts). */
    masking: z.array(maskRuleSchema).max(500).optional(),
    /** Columns flagged as personal data: each needs a masking rule or a recorded "no masking needed". */
    personal_data: z.array(personalDataSchema).max(500).optional(),
    /** Foreign keys from tables outside the configuration whose UAT rows are kept (see keepReferencingSchema). */
    keep_referencing: z.array(keepReferencingSchema).max(200).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const needsWatermark = t.strategy === "simple_copy" && t.sync_mode !== "full_replace";
    if (needsWatermark && !t.incremental_column)
      ctx.addIssue({ code: "custom", path: ["incremental_column"], message: `is required when sync_mode is ${t.sync_mode}` });
    if (needsWatermark && !t.incremental_type)
      ctx.addIssue({ code: "custom", path: ["incremental_type"], message: `is required when sync_mode is ${t.sync_mode}` });
    if (t.identity_buffer !== undefined && t.incremental_type !== "identity")
      ctx.addIssue({ code: "custom", path: ["identity_buffer"], message: "applies only with incremental_type: identity (date modes re-sync date_buffer_days)" });
    if (t.keep_table && (t.keep_rows !== undefined || t.keep_columns?.length))
      ctx.addIssue({ code: "custom", path: ["keep_table"], message: "keeps the whole table: keep_rows and keep_columns have nothing left to do" });
    const seen = new Set<string>();
    t.masking?.forEach((m, i) => {
      if (seen.has(m.column.toLowerCase())) ctx.addIssue({ code: "custom", path: ["masking", i, "column"], message: `${m.column} has more than one rule` });
      seen.add(m.column.toLowerCase());
      for (const key of [t.incremental_column, t.partition_column])
        if (key && key.toLowerCase() === m.column.toLowerCase())
          ctx.addIssue({ code: "custom", path: ["masking", i, "column"], message: `${m.column} is the table's watermark or partition key and cannot be masked` });
    });
    const flagged = new Set<string>();
    t.personal_data?.forEach((p, i) => {
      const key = p.column.toLowerCase();
      if (flagged.has(key)) ctx.addIssue({ code: "custom", path: ["personal_data", i, "column"], message: `${p.column} is listed more than once` });
      flagged.add(key);
      if (p.no_masking_needed && seen.has(key))
        ctx.addIssue({ code: "custom", path: ["personal_data", i, "no_masking_needed"], message: `${p.column} has a masking rule: remove the rule or this decision` });
    });
  });

export const settingsSchema = z
  .object({
    default_batch_size: z.number().int().min(1).max(10_000_000).default(10_000),
    connection_timeout: z.number().int().min(1).max(3600).default(30),
    command_timeout: z.number().int().min(0).max(86_400).default(300),
    max_retries: z.number().int().min(0).max(20).default(3),
    /** Tables one run refreshes at once, each with its own sessions. */
    max_parallel_tables: z.number().int().min(1).max(32).default(2),
    /** Runs one app instance or worker executes at once (the rest wait in the queue). */
    max_concurrent_runs: z.number().int().min(1).max(32).default(2),
    /** Key-range streams one staging load reads and writes at once, each on its own pair of sessions and thread
     *  (absent: on SQL Server the client's cores, at most 4; on PostgreSQL one). */
    max_streams_per_table: z.number().int().min(1).max(16).optional(),
    /** A load is split only into streams of at least this many rows (estimated). */
    min_rows_per_stream: z.number().int().min(1).max(1_000_000_000).default(250_000),
    /** UAT's own new rows take ids from a range production does not reach (tables' uat_ids_from, or the key type's
     *  default): refreshes leave every identity and sequence there, and watermarks never count those rows. */
    reserve_uat_ids: z.boolean().default(true),
    /** A column production gains after a table's last personal-data review is refused until it is decided. */
    review_new_columns: z.boolean().default(true),
    /** Finished runs are kept this many days (each table's last results whatever their age: lib/ops/retention). */
    history_retention_days: z.number().int().min(7).max(36_500).default(365),
    /** Audit events are kept this many days (absent: for good). */
    audit_retention_days: z.number().int().min(30).max(36_500).optional(),
    /** A full replace is refused where production's table holds fewer than this percentage of the rows UAT holds of it
     *  and UAT would lose at least SHRINK_MIN_ROWS (a production emptied by mistake, a connection to another database);
     *  0: never refused (lib/engine/shrink-guard). */
    min_source_rows_percent: z.number().int().min(0).max(100).default(50),
  })
  .strict();

/** SQL run on the target after a refresh (lib/engine/steps): with `tables`, inside every transaction that refreshes one
 *  of them, just before its commit; without, after the run's tables, all such steps in one transaction. */
export const postRefreshStepSchema = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(100),
    sql: z.string().trim().min(1, "must not be empty").max(20_000),
    /** Configured table names: the step runs in their refresh's transaction, when the run refreshes one of them. */
    tables: z.array(identifier).max(200).optional(),
    enabled: z.boolean().default(true),
    description: z.string().trim().max(1000).optional(),
  })
  .strict();
export type PostRefreshStepInput = z.infer<typeof postRefreshStepSchema>;

export const configSchema = z
  .object({
    databases: z.object({ source: databaseSchema, target: databaseSchema }).strict(),
    tables: z.array(tableSchema).default([]),
    settings: settingsSchema.default(settingsSchema.parse({})),
    post_refresh_steps: z.array(postRefreshStepSchema).max(100).optional(),
    /** Times in which no refresh of this environment starts (lib/config/blackout). */
    blackout_windows: z.array(blackoutWindowSchema).max(50).optional(),
    /** A manual refresh waits for a second person's approval (an operator of the environment other than the one who
     *  asked); pending approvals expire. Schedules marked pre-approved run without one. */
    approval: z
      .object({ required: z.boolean().default(false), expires_after_hours: z.number().int().min(1).max(24 * 14).default(24) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.tables.forEach((t, i) => {
      const key = `${t.schema ?? ""}.${t.name}`.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["tables", i, "name"], message: `duplicates tables[${seen.get(key)}]` });
      else seen.set(key, i);
    });
    const steps = new Set<string>();
    c.post_refresh_steps?.forEach((step, i) => {
      if (steps.has(step.name.toLowerCase())) ctx.addIssue({ code: "custom", path: ["post_refresh_steps", i, "name"], message: `another step is named ${step.name}` });
      steps.add(step.name.toLowerCase());
      step.tables?.forEach((name, j) => {
        if (!c.tables.some((t) => t.name.toLowerCase() === name.toLowerCase()))
          ctx.addIssue({ code: "custom", path: ["post_refresh_steps", i, "tables", j], message: `${name} is not a configured table` });
      });
      const problem = stepParameterProblem(step.sql, c.databases.target.engine);
      if (problem) ctx.addIssue({ code: "custom", path: ["post_refresh_steps", i, "sql"], message: problem });
    });
    if (c.databases.source.engine !== c.databases.target.engine)
      ctx.addIssue({ code: "custom", path: ["databases", "target", "engine"], message: "must match the source engine (rows stream in the engine's native bulk format)" });
    // Admin-written SQL is one value expression of the engine's grammar (lib/dialects/expression); its names are
    // checked against the catalog when a refresh resolves the table.
    c.tables.forEach((t, i) => {
      if (t.keep_rows === undefined) return;
      try {
        parseExpression(t.keep_rows, c.databases.target.engine);
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        ctx.addIssue({ code: "custom", path: ["tables", i, "keep_rows"], message: e.message });
      }
    });
    c.tables.forEach((t, i) =>
      t.masking?.forEach((m, j) => {
        if (m.rule !== "sql" || m.expression === undefined) return;
        try {
          parseExpression(m.expression, c.databases.source.engine);
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          ctx.addIssue({ code: "custom", path: ["tables", i, "masking", j, "expression"], message: e.message });
        }
      }),
    );
  });

export type RefreshConfig = z.infer<typeof configSchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type TableConfigInput = z.infer<typeof tableSchema>;
/** A table entry as written (defaults not yet applied). */
export type TableConfigDraft = z.input<typeof tableSchema>;
export type Settings = z.infer<typeof settingsSchema>;

/** `tables[2].incremental_column: is required when ...` for every issue. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
}

/** A form's errors keyed by top-level field ("_" for the form as a whole), the first issue of each field. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) errors[issue.path.length ? String(issue.path[0]) : "_"] ??= `${formatPath(issue.path)}: ${issue.message}`;
  return errors;
}

export function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`${source}: invalid configuration\n  ${issues.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** The new-column review's baseline is recorded by the first run, not written by people: a table that does not state
 *  its reviewed_columns (the original config.yaml states none) keeps the recorded ones, on import and in its diff;
 *  else the next run would take every column as reviewed. */
export function statesReviewedColumns(t: Pick<TableConfigInput, "reviewed_columns">): boolean {
  return t.reviewed_columns !== undefined;
}

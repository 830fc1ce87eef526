// Import a validated config into the metadata DB, and read it back in the same shape.
import type { Metadata } from "../metadata/client";
import { Prisma } from "../generated/prisma/client";
import type { DatabaseConfig, PostRefreshStepInput, RefreshConfig, Settings, TableConfigInput } from "./schema";
import { ConfigError, configSchema, settingsSchema, statesReviewedColumns } from "./schema";
import { chooseEnvironment, environmentGuardIssues, environmentNameFor, type EnvironmentConfig, type Installation } from "./environments";

type TableRow = Prisma.TableConfigGetPayload<object>;
type ConnectionRow = Prisma.ConnectionGetPayload<object>;
type StepRow = Prisma.PostRefreshStepGetPayload<object>;

export function tableToRow(t: TableConfigInput, position: number): Omit<Prisma.TableConfigCreateInput, "env"> {
  return {
    name: t.name,
    schema: t.schema ?? null,
    strategy: t.strategy,
    syncMode: t.sync_mode,
    incrementalColumn: t.incremental_column ?? null,
    incrementalType: t.incremental_type ?? null,
    truncateTarget: t.truncate_target,
    fireTriggers: t.fire_triggers,
    dateBufferDays: t.date_buffer_days ?? null,
    identityBuffer: t.identity_buffer ?? null,
    uatIdsFrom: t.uat_ids_from !== undefined ? BigInt(t.uat_ids_from) : null,
    keepRows: t.keep_rows ?? null,
    keepColumns: t.keep_columns ?? [],
    reviewedColumns: t.reviewed_columns ?? [],
    keepTable: t.keep_table ?? false,
    verify: t.verify ?? true,
    allowShrink: t.allow_shrink ?? false,
    batchSize: t.batch_size ?? null,
    partitionColumn: t.partition_column ?? null,
    partitionFunction: t.partition_function ?? null,
    partitionScheme: t.partition_scheme ?? null,
    enabled: t.enabled,
    masking: t.masking?.length ? (t.masking as unknown as Prisma.InputJsonArray) : Prisma.DbNull,
    personalData: t.personal_data?.length ? (t.personal_data as unknown as Prisma.InputJsonArray) : Prisma.DbNull,
    keepReferencing: t.keep_referencing?.length ? (t.keep_referencing as unknown as Prisma.InputJsonArray) : Prisma.DbNull,
    position,
  };
}

export function rowToTable(r: TableRow): TableConfigInput {
  const t: TableConfigInput = {
    name: r.name,
    strategy: r.strategy,
    sync_mode: r.syncMode,
    truncate_target: r.truncateTarget,
    fire_triggers: r.fireTriggers,
    enabled: r.enabled,
  };
  if (r.keepTable) t.keep_table = true;
  if (!r.verify) t.verify = false;
  if (r.allowShrink) t.allow_shrink = true;
  if (r.schema) t.schema = r.schema;
  if (r.incrementalColumn) t.incremental_column = r.incrementalColumn;
  if (r.incrementalType) t.incremental_type = r.incrementalType;
  if (r.dateBufferDays !== null) t.date_buffer_days = r.dateBufferDays;
  if (r.identityBuffer !== null) t.identity_buffer = r.identityBuffer;
  if (r.uatIdsFrom !== null) t.uat_ids_from = Number(r.uatIdsFrom);
  if (r.keepRows) t.keep_rows = r.keepRows;
  if (r.keepColumns.length) t.keep_columns = r.keepColumns;
  if (r.reviewedColumns.length) t.reviewed_columns = r.reviewedColumns;
  if (r.batchSize !== null) t.batch_size = r.batchSize;
  if (r.partitionColumn) t.partition_column = r.partitionColumn;
  if (r.partitionFunction) t.partition_function = r.partitionFunction;
  if (r.partitionScheme) t.partition_scheme = r.partitionScheme;
  if (Array.isArray(r.masking) && r.masking.length) t.masking = r.masking as unknown as TableConfigInput["masking"];
  if (Array.isArray(r.personalData) && r.personalData.length) t.personal_data = r.personalData as unknown as TableConfigInput["personal_data"];
  if (Array.isArray(r.keepReferencing) && r.keepReferencing.length) t.keep_referencing = r.keepReferencing as unknown as TableConfigInput["keep_referencing"];
  return t;
}

function databaseToRow(role: "source" | "target", d: DatabaseConfig) {
  return {
    name: role,
    role,
    engine: d.engine,
    host: d.server,
    port: d.port ?? null,
    database: d.database,
    userEnv: d.username_env ?? null,
    passwordEnv: d.password_env ?? null,
    authType: d.auth_type ?? null,
    domainEnv: d.domain_env ?? null,
    options: d.options as Prisma.InputJsonObject,
  };
}

export function stepToRow(s: PostRefreshStepInput, position: number) {
  return { name: s.name, position, sql: s.sql, tables: s.tables ?? [], enabled: s.enabled, description: s.description ?? null };
}

export function rowToStep(r: StepRow): PostRefreshStepInput {
  const s: PostRefreshStepInput = { name: r.name, sql: r.sql, enabled: r.enabled };
  if (r.tables.length) s.tables = r.tables;
  if (r.description) s.description = r.description;
  return s;
}

export function rowToDatabase(r: ConnectionRow): DatabaseConfig {
  const d: DatabaseConfig = { engine: r.engine, server: r.host, database: r.database, options: (r.options ?? {}) as DatabaseConfig["options"] };
  if (r.port !== null) d.port = r.port;
  if (r.userEnv) d.username_env = r.userEnv;
  if (r.passwordEnv) d.password_env = r.passwordEnv;
  if (r.authType === "sql" || r.authType === "windows") d.auth_type = r.authType;
  if (r.domainEnv) d.domain_env = r.domainEnv;
  return d;
}

function settingsToRow(s: Settings) {
  return {
    defaultBatchSize: s.default_batch_size,
    connectionTimeout: s.connection_timeout,
    commandTimeout: s.command_timeout,
    maxRetries: s.max_retries,
    maxParallelTables: s.max_parallel_tables,
    maxConcurrentRuns: s.max_concurrent_runs,
    maxStreamsPerTable: s.max_streams_per_table ?? null,
    minRowsPerStream: s.min_rows_per_stream,
    reserveUatIds: s.reserve_uat_ids,
    reviewNewColumns: s.review_new_columns,
    historyRetentionDays: s.history_retention_days,
    auditRetentionDays: s.audit_retention_days ?? null,
    minSourceRowsPercent: s.min_source_rows_percent,
  };
}

/** The stored settings row back in config.yaml's shape (settingsToRow's inverse). */
function rowToSettings(r: Prisma.SettingsGetPayload<object>) {
  return {
    default_batch_size: r.defaultBatchSize,
    connection_timeout: r.connectionTimeout,
    command_timeout: r.commandTimeout,
    max_retries: r.maxRetries,
    max_parallel_tables: r.maxParallelTables,
    max_concurrent_runs: r.maxConcurrentRuns,
    max_streams_per_table: r.maxStreamsPerTable ?? undefined,
    min_rows_per_stream: r.minRowsPerStream,
    reserve_uat_ids: r.reserveUatIds,
    review_new_columns: r.reviewNewColumns,
    history_retention_days: r.historyRetentionDays,
    audit_retention_days: r.auditRetentionDays ?? undefined,
    min_source_rows_percent: r.minSourceRowsPercent,
  };
}

type Tx = Parameters<Parameters<Metadata["$transaction"]>[0]>[0];

/** Makes one environment hold exactly this configuration (its tables and steps not in it are removed). */
async function writeEnvironment(tx: Tx, name: string, config: RefreshConfig, position: number) {
  const rules = {
    blackoutWindows: (config.blackout_windows ?? []) as unknown as Prisma.InputJsonArray,
    approval: config.approval ? (config.approval as Prisma.InputJsonObject) : Prisma.DbNull,
  };
  await tx.environment.upsert({ where: { name }, create: { name, position, ...rules }, update: { position, ...rules } });
  // Moved connections: the servers' names its last run recorded (lib/engine/environment-guard) no longer apply.
  const before = await tx.connection.findMany({ where: { environment: name } });
  const moved = (["source", "target"] as const).some((role) => {
    const was = before.find((c) => c.role === role);
    const next = databaseToRow(role, config.databases[role]);
    return !was || was.engine !== next.engine || was.host !== next.host || was.port !== next.port || was.database !== next.database;
  });
  if (moved) await tx.environment.update({ where: { name }, data: { sourceKeys: [], targetKeys: [] } });
  for (const role of ["source", "target"] as const) {
    const data = { environment: name, ...databaseToRow(role, config.databases[role]) };
    await tx.connection.upsert({ where: { environment_role: { environment: name, role } }, create: data, update: data });
  }
  await tx.tableConfig.deleteMany({ where: { environment: name, name: { notIn: config.tables.map((t) => t.name) } } });
  for (const [i, t] of config.tables.entries()) {
    const data = { ...tableToRow(t, i), env: { connect: { name } } };
    const { reviewedColumns, ...stated } = data;
    await tx.tableConfig.upsert({ where: { environment_name: { environment: name, name: t.name } }, create: data, update: statesReviewedColumns(t) ? { ...stated, reviewedColumns } : stated });
  }
  await tx.postRefreshStep.deleteMany({ where: { environment: name } });
  await tx.postRefreshStep.createMany({ data: (config.post_refresh_steps ?? []).map((s, i) => ({ environment: name, ...stepToRow(s, i) })) });
}

/** Refuses an installation in which a target is some environment's source or another's target. */
function assertGuards(envs: EnvironmentConfig[]) {
  const issues = environmentGuardIssues(envs);
  if (issues.length) throw new ConfigError("configuration", issues.map((i) => `environments.${i.environment}.databases.target: ${i.message}`));
}

/** Makes the metadata DB hold this installation. The `environments:` form is the whole installation (environments
 *  not in it are removed; their runs stay in the history); the original form is one environment, the others kept. */
export async function importInstallation(db: Metadata, installation: Installation, opts: { whole: boolean }): Promise<void> {
  await db.$transaction(async (tx) => {
    const existing = await tx.environment.findMany({ orderBy: [{ position: "asc" }, { name: "asc" }] });
    const names = installation.environments.map((e) => e.name);
    if (!opts.whole) {
      const others = existing.filter((e) => !names.includes(e.name)).map((e) => e.name);
      const kept: EnvironmentConfig[] = [];
      for (const name of others) {
        const config = await readEnvironment(tx as unknown as Metadata, name, { inTransaction: true });
        if (config) kept.push({ name, config });
      }
      assertGuards([...kept, ...installation.environments]);
    } else {
      assertGuards(installation.environments);
      await tx.environment.deleteMany({ where: { name: { notIn: names } } });
    }
    const settings = settingsToRow(installation.settings);
    await tx.settings.upsert({ where: { id: 1 }, create: { id: 1, ...settings }, update: settings });
    const base = opts.whole ? 0 : existing.length;
    for (const [i, e] of installation.environments.entries()) {
      const position = existing.find((x) => x.name === e.name)?.position ?? base + i;
      await writeEnvironment(tx, e.name, e.config, position);
    }
  });
}

/** Makes one environment (by default the one named after its target) hold exactly this configuration. */
export async function importConfig(db: Metadata, config: RefreshConfig, environment = environmentNameFor(config)): Promise<void> {
  await importInstallation(db, { settings: config.settings, environments: [{ name: environment, config }] }, { whole: false });
}

/** The installation's settings (defaults until a configuration is imported). */
export async function installationSettings(db: Metadata): Promise<Settings> {
  const s = await db.settings.findUnique({ where: { id: 1 } });
  return settingsSchema.parse(s ? rowToSettings(s) : {});
}

/** Environment names, in their order. */
export async function environmentNames(db: Metadata): Promise<string[]> {
  return (await db.environment.findMany({ orderBy: [{ position: "asc" }, { name: "asc" }], select: { name: true } })).map((e) => e.name);
}

/** The environment meant by `asked`, or the only one (throws an EnvironmentChoiceError otherwise). */
export async function resolveEnvironment(db: Metadata, asked?: string): Promise<string> {
  return chooseEnvironment(await environmentNames(db), asked);
}

/** One environment's configuration, or undefined when it has no source/target yet. */
async function readEnvironment(db: Metadata, environment: string, opts: { inTransaction?: boolean } = {}): Promise<RefreshConfig | undefined> {
  // At once from the pool; one after another inside an import's transaction (its queries share one connection).
  const read = opts.inTransaction ? oneAtATime() : <T>(query: () => Promise<T>) => query();
  const [env, connections, tables, settings, steps] = await Promise.all([
    read(() => db.environment.findUnique({ where: { name: environment } })),
    read(() => db.connection.findMany({ where: { environment } })),
    read(() => db.tableConfig.findMany({ where: { environment }, orderBy: [{ position: "asc" }, { name: "asc" }] })),
    read(() => db.settings.findUnique({ where: { id: 1 } })),
    read(() => db.postRefreshStep.findMany({ where: { environment }, orderBy: [{ position: "asc" }, { name: "asc" }] })),
  ]);
  const source = connections.find((c) => c.role === "source");
  const target = connections.find((c) => c.role === "target");
  if (!source || !target) return undefined;
  return configSchema.parse({
    databases: { source: rowToDatabase(source), target: rowToDatabase(target) },
    tables: tables.map(rowToTable),
    settings: settings ? rowToSettings(settings) : undefined,
    post_refresh_steps: steps.length ? steps.map(rowToStep) : undefined,
    blackout_windows: Array.isArray(env?.blackoutWindows) && env.blackoutWindows.length ? env.blackoutWindows : undefined,
    approval: env?.approval ?? undefined,
  });
}

/** Runs the queries given to it one after another, in the order given. */
function oneAtATime() {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(query: () => Promise<T>): Promise<T> => {
    const next = last.then(query, query);
    last = next.catch(() => {});
    return next;
  };
}

/** An environment's configuration (`environment`, or the only one); throws if it has no source/target yet. */
export async function exportConfig(db: Metadata, environment?: string): Promise<RefreshConfig> {
  const name = await resolveEnvironment(db, environment);
  const config = await readEnvironment(db, name);
  if (!config) throw new Error(`environment ${name} has no source/target connection yet: import a config.yaml first`);
  return config;
}

/** Every environment's configuration (those with both connections), in order. */
export async function exportInstallation(db: Metadata): Promise<Installation> {
  const environments: EnvironmentConfig[] = [];
  for (const name of await environmentNames(db)) {
    const config = await readEnvironment(db, name);
    if (config) environments.push({ name, config });
  }
  const settings = environments[0]?.config.settings ?? settingsSchema.parse({});
  return { settings, environments };
}

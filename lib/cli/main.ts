// uat-refresh command line: the original tool's commands on top of the shared engine.
//   --test-connections | --status | --table NAME [--table NAME...] --force | --force | --dry-run
//   --config FILE (use that YAML for this run) | --import FILE | --export [FILE] | --env NAME
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import cliProgress from "cli-progress";
import { ConfigError } from "../config/schema";
import { unknownKeepReferencing } from "../engine/validate";
import { environmentNames, exportConfig, exportInstallation, importInstallation, resolveEnvironment } from "../config/store";
import { chooseEnvironment, environmentName, EnvironmentChoiceError, type EnvironmentConfig } from "../config/environments";
import { connectionChanges, describeConnectionChange, diffConfig } from "../config/diff";
import { audit } from "../audit";
import { redact } from "../redact";
import { loadInstallationFile, stringifyConfig, stringifyInstallation } from "../config/yaml";
import { RefreshError } from "../engine/errors";
import { BlackoutError } from "../engine/errors";
import { remoteMain } from "./remote";
import { parseCliArgs } from "./options";
import type { ProgressEvent } from "../engine/progress";
import { MissingCredentialError } from "../engine/connections";
import { auditRunEnd } from "../run-audit";
import { runRefresh, sweepInterruptedRuns, TableBusyError, UnknownTableError, type RunReport } from "../engine/runner";
import { rowsSaid, type StepReport } from "../engine/steps";
import { tableStatuses, testConnections } from "../engine/status";
import { scanPii, type PiiFinding } from "../engine/pii";
import { createMetadataClient, type Metadata } from "../metadata/client";
import { registerBuiltInDialects } from "../dialects/builtin";
import { notifyRunFinished } from "../notify/notify";
import { openQueue } from "../queue/boss";
import { effectiveMode, modeLabel } from "../mode";
import { pruneHistory } from "../ops/retention";
import { retryScope, RetryRefusedError } from "../run-retry";

export const USAGE = `Usage: uat-refresh [options]

  --test-connections      connect to source and target, show versions and latency
  --status                row counts, max watermark and last sync of every table
  --table NAME --force    refresh one table (repeat --table for several)
  --force                 refresh every enabled table
  --dry-run               show the plan (strategy, mode, source query, rows expected) and write nothing
  --retry RUN_ID          refresh again the tables run RUN_ID did not finish (failed, skipped, never reached), in its
                          environment, as the same kind of run (a dry run's retry plans again); with --api too
  --scan-pii              propose masking rules from column names, types and a sample of source values
  --config FILE           use this config.yaml for this invocation instead of the metadata database's
  --import FILE           validate FILE and make it the stored configuration
  --confirm-connection-change
                          with --import: apply a change of a connection's host, port, database, authentication
                          or credential variables (refused without it)
  --export [FILE]         print (or write) the stored configuration as YAML
  --prune-history         delete run history (and audit events) beyond the retention settings now, as the web app
                          does daily; each table's last results stay (for an installation without the app running)
  --env NAME              the environment (UAT, QA...) to act on; needed only when the installation has several
                          (--status without it shows every environment; with --import it names the original
                          form's one environment)
  --json                  machine-readable output for --status, --test-connections, --prune-history and runs
  --api URL               act through a running app's REST API instead of the metadata database, with a service
                          token in UAT_REFRESH_TOKEN (pipelines): --force / --dry-run [--table NAME] [--env NAME],
                          --retry RUN_ID, --status
  --wait                  with --api: follow the run to its end and exit with its outcome (without --api a refresh
                          always runs to its end)

The metadata database is DATABASE_URL (npm run demo writes .data/demo.env, read when DATABASE_URL is unset).
Exit codes: 0 done, 1 a refresh failed, 2 bad usage or configuration (or a run --retry cannot take up: not ended,
nothing left), 3 a table is already being refreshed,
4 the environment is in a blackout window.`;

const EXIT = { ok: 0, failed: 1, usage: 2, busy: 3, blackout: 4 } as const;

/** Failed runs of the CLI notify too: the deliveries are queued for the workers (the queue is opened only then). */
async function notifyFromCli(db: Metadata, url: string, runId: string) {
  let boss: Awaited<ReturnType<typeof openQueue>> | undefined;
  try {
    await notifyRunFinished(db, async () => (boss = await openQueue(url, "uat-refresh cli queue")), runId);
  } catch (e) {
    console.error(`warning: notifications for run ${runId} were not queued: ${(e as Error).message}`);
  } finally {
    await boss?.stop({ graceful: false }).catch(() => {});
  }
}

/** Who runs the CLI: the OS account on this host. */
function cliActor() {
  return `${os.userInfo().username}@${os.hostname()}`;
}

function loadDemoEnv() {
  const file = path.resolve(".data/demo.env");
  if (!process.env.DATABASE_URL && existsSync(file)) process.loadEnvFile(file);
}

function printRun(report: RunReport, dryRun: boolean) {
  for (const t of report.tables) {
    const p = t.plan;
    const head = `${t.status === "succeeded" ? "✓" : t.status === "skipped" ? "-" : "✗"} ${t.table}`;
    if (p) {
      console.log(`${head}: ${p.strategy} / ${modeLabel(p.configuredMode, effectiveMode(p))} (${p.reason})`);
      if (dryRun) {
        console.log(`    source query: ${p.sourceQuery.sql}${p.sourceQuery.params.length ? `  params: ${JSON.stringify(p.sourceQuery.params)}` : ""}`);
        console.log(`    rows expected: ${p.rowsEstimated ? "≈" : ""}${p.rowsExpected}${p.watermarkBefore !== undefined ? `, target watermark: ${p.watermarkBefore ?? "(empty)"}` : ""}`);
        if (p.verifies) console.log(`    verifies: ${p.verifies}`);
        if (p.days) console.log(`    days: ${p.days.join(", ") || "(none)"}; new partitions: ${p.missingDays?.join(", ") || "(none)"}`);
      }
    } else console.log(head);
    if (t.outcome) {
      const o = t.outcome;
      console.log(`    ${o.rowsWritten} rows${o.rowsRead > o.rowsWritten ? ` changed of ${o.rowsRead} read (loaded by key)` : ""} in ${(t.durationMs / 1000).toFixed(1)}s${o.watermarkAfter != null ? `, watermark now ${o.watermarkAfter}` : ""}${o.partitionsCreated.length ? `, partitions created: ${o.partitionsCreated.join(", ")}` : ""}${o.partitionsSwitched.length ? `, switched: ${o.partitionsSwitched.join(", ")}` : ""}`);
      if (o.verification?.ok) console.log(`    ${o.verification.detail}`);
    }
    if (t.status === "failed" && !dryRun) console.log(`    rows committed: ${t.rowsCommitted ?? 0}${t.rowsCommitted ? " (they stay in the target)" : ""}`);
    if (t.error) console.log(`    error: ${redact(t.error)}${t.hint ? `\n    hint: ${redact(t.hint)}` : ""}`);
  }
  for (const s of report.steps ?? []) console.log(describeStep(s));
  console.log(`run ${report.runId}: ${report.status}`);
}

/** "step cut outbound email (customers): succeeded, 1200 rows in 0.1s" */
function describeStep(s: StepReport): string {
  const scope = s.tables.length ? `in the transaction of ${s.tables.join(", ")}` : "after the tables";
  const mark = s.status === "succeeded" ? "✓" : s.status === "planned" ? "·" : s.status === "skipped" ? "-" : "✗";
  const done = s.executions ? `, ${rowsSaid(s.rowsAffected)} in ${(s.durationMs / 1000).toFixed(1)}s${s.executions > 1 ? ` over ${s.executions} transactions` : ""}` : "";
  const bound = Object.entries(s.parameters).map(([name, value]) => `@${name} = '${value}'`);
  const planned = `would run${bound.length ? ` with ${bound.join(", ")}` : ""}`;
  return `${mark} post-refresh step ${s.name} (${scope}): ${s.status === "planned" ? planned : s.status.replace("_", " ")}${done}${s.error ? `\n    ${redact(s.error)}` : ""}`;
}

/** The findings, then per table the masking list to add to config.yaml (columns not masked yet) and the
 *  personal_data list that keeps the policy on them. */
function printFindings(findings: PiiFinding[]) {
  if (!findings.length) return console.log("no personal data found by name or by sampled values");
  console.table(findings.map((f) => ({ table: f.table, column: f.column, type: f.type, proposed: f.rule.rule, why: f.reason, masked: f.masked ? "yes" : "no" })));
  const open = findings.filter((f) => !f.masked);
  if (!open.length) return console.log("every finding is masked already");
  console.log("\nProposed additions to config.yaml (review each one):");
  for (const table of [...new Set(open.map((f) => f.table))]) {
    console.log(`  - name: ${table}\n    masking:`);
    for (const f of open.filter((x) => x.table === table)) console.log(`      - { column: ${f.column}, rule: ${f.rule.rule} }`);
    console.log("    personal_data:");
    for (const f of findings.filter((x) => x.table === table)) console.log(`      - { column: ${f.column}, found: ${JSON.stringify(f.reason)} }`);
  }
}

/** One bar per table (tables of a run may refresh in parallel), on stderr when it is a terminal. */
function progressBar() {
  if (!process.stderr.isTTY) return { onProgress: undefined, stop() {} };
  const bars = new cliProgress.MultiBar(
    { format: "{table} {phase} |{bar}| {value}/{total} rows {rate} rows/s", stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const byTable = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress(e: ProgressEvent) {
      let bar = byTable.get(e.table);
      if (!bar) byTable.set(e.table, (bar = bars.create(e.rowsExpected ?? 0, 0, { table: e.table, phase: e.phase, rate: 0 })));
      if (e.rowsExpected) bar.setTotal(e.rowsExpected);
      bar.update(e.rows, { phase: e.phase, rate: e.rowsPerSec });
    },
    stop: () => bars.stop(),
  };
}

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const positionals = argv.filter((a) => !a.startsWith("-"));
  if (args.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const retryClash = args.retry !== undefined && [args.table?.length && "--table", args["dry-run"] && "--dry-run", args.config && "--config"].find(Boolean);
  if (retryClash) {
    console.error(`--retry takes its tables, its environment and its kind (a refresh or a dry run) from the run it retries: drop ${retryClash}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.api) {
    if (!args.force && !args["dry-run"] && !args.status && !args.retry) {
      console.error(`Nothing to do: with --api, --force refreshes, --dry-run shows the plan, --retry RUN_ID refreshes again what a run did not finish, --status reads an environment.\n\n${USAGE}`);
      return EXIT.usage;
    }
    return remoteMain({ api: args.api, environment: args.env, tables: args.table, dryRun: !!args["dry-run"], wait: !!args.wait, status: !!args.status, json: !!args.json, retry: args.retry });
  }
  loadDemoEnv();
  registerBuiltInDialects();
  let db: Metadata | undefined;
  try {
    if (args.env !== undefined && !environmentName.safeParse(args.env).success) throw new ConfigError("--env", [`${args.env}: ${environmentName.safeParse(args.env).error!.issues[0].message}`]);
    // --config FILE: that file's environment (--env among several) instead of the metadata database's.
    const file = args.config ? loadInstallationFile(args.config) : undefined;
    const fileEnv: EnvironmentConfig | undefined = file && file.environments.find((e) => e.name === chooseEnvironment(file.environments.map((x) => x.name), args.env));
    if (!process.env.DATABASE_URL) throw new ConfigError("DATABASE_URL", ["is not set: point it at the metadata database (or run npm run demo first)"]);
    db = createMetadataClient(process.env.DATABASE_URL);
    const config = async () => fileEnv?.config ?? (await exportConfig(db!, args.env));

    if (args.import) {
      const next = loadInstallationFile(args.import);
      // --env names the original form's one environment (by default named after its target database).
      if (next.form === "original" && args.env) next.environments[0].name = args.env;
      const confirmations: string[] = [];
      const changes: { environment: string; changes: ReturnType<typeof connectionChanges> }[] = [];
      const existing = await environmentNames(db);
      for (const e of next.environments) {
        const unknown = await unknownKeepReferencing(e.config);
        if (unknown.length) throw new ConfigError(args.import, unknown.map((u) => (next.form === "environments" ? `environments.${e.name}.${u}` : u)));
        const current = existing.includes(e.name) ? await exportConfig(db, e.name).catch(() => null) : null;
        const connections = connectionChanges(current, diffConfig(current, e.config));
        if (connections.length) changes.push({ environment: e.name, changes: connections });
        confirmations.push(...connections.map((c) => `${e.name}: ${describeConnectionChange(c)}`));
      }
      if (confirmations.length && !args["confirm-connection-change"]) {
        console.error(`error: ${args.import} changes where a connection points or how it signs in; credentials are sent wherever it says:\n  ${confirmations.join("\n  ")}\nRun again with --confirm-connection-change to apply it.`);
        return EXIT.usage;
      }
      await importInstallation(db, next, { whole: next.form === "environments" });
      for (const c of changes) await audit({ actor: cliActor(), action: "config.connection_change", environment: c.environment, details: JSON.parse(JSON.stringify({ changes: c.changes, via: "cli" })) }, db);
      console.log(`imported ${args.import} (${next.environments.map((e) => e.name).join(", ")})`);
      return EXIT.ok;
    }
    if (args.export) {
      const yaml = fileEnv || args.env ? stringifyConfig(await config()) : stringifyInstallation(await exportInstallation(db));
      const file = positionals[0];
      if (file) writeFileSync(file, yaml);
      else process.stdout.write(yaml);
      return EXIT.ok;
    }
    if (args["prune-history"]) {
      const pruned = await pruneHistory(db);
      if (args.json) console.log(JSON.stringify(pruned));
      else console.log(`pruned ${pruned.runs} run(s), ${pruned.scheduleFires} schedule due time(s), ${pruned.deliveries} notification(s), ${pruned.revokedSessions} expired sign-out(s), ${pruned.auditEvents} audit event(s)`);
      return EXIT.ok;
    }
    if (args["test-connections"]) {
      const checks = await testConnections(await config());
      if (args.json) console.log(JSON.stringify(checks, null, 2));
      else for (const c of checks) console.log(c.ok ? `✓ ${c.role}: ${c.version} (${c.latencyMs} ms)${c.readOnly ? ", read-only session" : ""}` : `✗ ${c.role}: ${c.error}`);
      return checks.every((c) => c.ok) ? EXIT.ok : EXIT.failed;
    }
    if (args["scan-pii"]) {
      const findings = await scanPii(await config());
      if (args.json) console.log(JSON.stringify(findings, null, 2));
      else printFindings(findings);
      return EXIT.ok;
    }
    if (args.status) {
      // A run whose process died (a killed CLI) holds no locks any more: it is recorded as interrupted now, so the
      // status says so at once instead of "running".
      await sweepInterruptedRuns(db, process.env.DATABASE_URL);
      // --env (or --config): that environment's tables; without: every environment's, one after the other.
      const one = fileEnv ?? (args.env ? { name: await resolveEnvironment(db, args.env), config: await config() } : undefined);
      const envs: EnvironmentConfig[] = one ? [one] : (await exportInstallation(db)).environments;
      const all: { environment: string; tables: Awaited<ReturnType<typeof tableStatuses>> }[] = [];
      for (const e of envs) all.push({ environment: e.name, tables: await tableStatuses(db, e) });
      if (args.json) console.log(JSON.stringify(one ? all[0].tables : all, null, 2));
      else
        for (const { environment, tables: rows } of all) {
          if (!one) console.log(`environment ${environment}:`);
          console.table(
            rows.map((r) => ({
            table: r.name,
            mode: modeLabel(r.mode, r.lastRun?.mode),
            "source rows": r.source.rows === null ? r.source.error : `${r.source.estimated ? "≈" : ""}${r.source.rows}`,
            "target rows": r.target.rows === null ? r.target.error : `${r.target.estimated ? "≈" : ""}${r.target.rows}`,
            "source max": r.source.watermark ?? "",
            "target max": r.target.watermark ?? "",
              "last sync": r.lastRun ? `${r.lastRun.status} ${r.lastRun.finishedAt?.toISOString() ?? ""}` : "never",
            })),
          );
        }
      return EXIT.ok;
    }
    // A retry is the kind of run it retries, in that run's environment (lib/run-retry); otherwise as the flags say.
    const retry = args.retry ? await retryScope(db, args.retry) : undefined;
    if (retry && args.env && args.env !== retry.environment) throw new EnvironmentChoiceError(`run ${retry.retryOf} refreshed environment ${retry.environment}, not ${args.env}: drop --env, or name that one`);
    const dryRun = retry?.dryRun ?? !!args["dry-run"];
    if (!retry && !args.force && !dryRun) {
      console.error(`Nothing to do: refreshing writes to the target, so it needs --force (or --dry-run to see the plan).\n\n${USAGE}`);
      return EXIT.usage;
    }
    const tables = retry?.tables ?? args.table;
    const bar = progressBar();
    // In the audit trail as the web's runs are: who asked (this login on this host), then how it ended.
    let asked: Promise<void> | undefined;
    const report = await runRefresh(db, process.env.DATABASE_URL, {
      tables,
      trigger: "cli",
      triggeredBy: cliActor(),
      executor: `cli ${process.pid}@${os.hostname()}`,
      dryRun,
      retryOf: retry?.retryOf,
      environment: retry?.environment ?? fileEnv?.name ?? args.env,
      config: fileEnv?.config,
      onProgress: bar.onProgress,
      onStarted: (runId, environment) => {
        const action = dryRun ? "refresh.dry_run" : "refresh.trigger";
        asked = audit({ actor: cliActor(), action, environment, target: runId, details: { tables: tables?.length ? tables : "all enabled", via: "cli", ...(retry ? { retryOf: retry.retryOf } : {}) } }, db);
      },
    }).finally(() => bar.stop());
    await asked;
    await auditRunEnd(db, cliActor(), report, "cli");
    if (args.json) console.log(JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2));
    else printRun(report, dryRun);
    await notifyFromCli(db, process.env.DATABASE_URL, report.runId);
    return report.status === "succeeded" ? EXIT.ok : EXIT.failed;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return EXIT.usage;
    }
    // Configuration the environment or the command line gets wrong: exit 2, like invalid YAML.
    if (e instanceof MissingCredentialError || e instanceof UnknownTableError || e instanceof EnvironmentChoiceError || e instanceof RetryRefusedError) {
      console.error(`error: ${redact(e.message)}`);
      return EXIT.usage;
    }
    if (e instanceof TableBusyError) {
      console.error(e.message);
      return EXIT.busy;
    }
    if (e instanceof BlackoutError) {
      console.error(`error: ${e.message}`);
      return EXIT.blackout;
    }
    // A metadata database nobody migrated yet: say how to set it up.
    if ((e as { code?: string }).code === "P2021") {
      console.error("error: the metadata database (DATABASE_URL) has no tables yet: run `npm run db:migrate` first (the container image: `migrate`)");
      return EXIT.usage;
    }
    // One line a person can act on; the stack only when asked for (UAT_REFRESH_DEBUG=1).
    console.error(`error: ${redact(e instanceof Error ? e.message : String(e))}`);
    if (process.env.UAT_REFRESH_DEBUG && !(e instanceof RefreshError)) console.error(e);
    return EXIT.failed;
  } finally {
    await db?.$disconnect();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}

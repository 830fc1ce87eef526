// Several environments from one installation, on real PostgreSQL: UAT and QA refreshed from the same production,
// each with its own target, tables and masking; the same table refreshed for both at once; the guards that keep a
// target from being a source or another environment's target; the CLI's --env and --status; export and import of
// the `environments:` form.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/schema";
import { exportInstallation, importInstallation } from "../../lib/config/store";
import { parseInstallationYaml, stringifyInstallation } from "../../lib/config/yaml";
import { runRefresh } from "../../lib/engine/runner";
import { environmentsOverview } from "../../lib/engine/overview";
import { runCli } from "../support/cli";
import { createTestEnv, fingerprint, type TestEnv } from "../support/env";

describe("environments", () => {
  let env: TestEnv;
  let qa: pg.Client;
  let qaDb: string;
  let yaml: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), "uat-envs-"));
  const u = () => new URL(env.adminUrl);
  const db = (name: string) => `{ engine: postgres, server: ${u().hostname}, port: ${u().port || 5432}, database: ${name}, username_env: UAT_REFRESH_DB_USER, password_env: UAT_REFRESH_DB_PASSWORD }`;
  const dbName = (url: string) => new URL(url).pathname.slice(1);
  const cliEnv = () => ({ DATABASE_URL: env.metaUrl, UAT_REFRESH_DB_USER: process.env.UAT_REFRESH_DB_USER!, UAT_REFRESH_DB_PASSWORD: process.env.UAT_REFRESH_DB_PASSWORD!, UAT_REFRESH_MASKING_KEY: process.env.UAT_REFRESH_MASKING_KEY! });
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  beforeAll(async () => {
    process.env.UAT_REFRESH_MASKING_KEY = "environments-test-key-0123456789";
    env = await createTestEnv();
    ({ name: qaDb, client: qa } = await env.addDatabase("qa"));
    // QA's database has no orders: its testers work on customers only.
    for (const c of [env.source, env.target, qa]) await c.query("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL)");
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric(10,2) NOT NULL)");
    await env.source.query("INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@corp.example' FROM generate_series(1, 2000) g");
    await env.source.query("INSERT INTO orders SELECT g, 1 + g % 2000, g * 0.5 FROM generate_series(1, 6000) g");
    // UAT: both tables, unmasked (UAT's testers see production's addresses); QA: customers only, email masked.
    yaml = `settings:
  max_retries: 0
  connection_timeout: 10
environments:
  uat:
    databases:
      source: ${db(dbName(env.sourceUrl))}
      target: ${db(dbName(env.targetUrl))}
    tables:
      - { name: customers, strategy: simple_copy, sync_mode: full_replace }
      - { name: orders, strategy: simple_copy, sync_mode: full_replace }
  qa:
    databases:
      source: ${db(dbName(env.sourceUrl))}
      target: ${db(qaDb)}
    tables:
      - name: customers
        strategy: simple_copy
        sync_mode: full_replace
        masking: [{ column: email, rule: fake_email }]
        personal_data: [{ column: email, found: "by hand" }]
`;
    await importInstallation(env.db, parseInstallationYaml(yaml), { whole: true });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("refreshes the same production table into two environments at once, each with its own tables and masking", async () => {
    const run = (environment: string) => runRefresh(env.db, env.metaUrl, { environment, trigger: "cli", triggeredBy: "test" });
    const [uat, qaRun] = await Promise.all([run("uat"), run("qa")]);
    expect([uat.status, qaRun.status]).toEqual(["succeeded", "succeeded"]);
    expect(uat.tables.map((t) => t.table)).toEqual(["customers", "orders"]);
    expect(qaRun.tables.map((t) => t.table)).toEqual(["customers"]);
    expect(await fingerprint(env.target, "customers")).toEqual(await fingerprint(env.source, "customers"));
    expect(await fingerprint(env.target, "orders")).toEqual(await fingerprint(env.source, "orders"));
    // QA: every address replaced, every other column as production's.
    expect((await qa.query("SELECT count(*)::int AS n FROM customers c WHERE email LIKE '%@corp.example'")).rows[0].n).toBe(0);
    expect((await qa.query("SELECT count(*)::int AS n FROM customers")).rows[0].n).toBe(2000);
    const runs = await env.db.refreshRun.findMany({ orderBy: { environment: "asc" }, select: { environment: true, status: true } });
    expect(runs).toEqual([{ environment: "qa", status: "succeeded" }, { environment: "uat", status: "succeeded" }]);
  });

  it("the overview: each environment reachable, how many tables are behind production, its last run", async () => {
    await env.source.query("ANALYZE"); // production is read through its statistics only
    const overview = async () => (await environmentsOverview(env.db, env.metaUrl)).map((e) => [e.environment, e.reachable, e.tables, e.behind, e.lastRun?.status, e.running]);
    expect(await overview()).toEqual([
      ["uat", true, 2, 0, "succeeded", 0],
      ["qa", true, 1, 0, "succeeded", 0],
    ]);
    // Production gains customers: both environments have a table behind (each status is cached a few seconds).
    await env.source.query("INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@corp.example' FROM generate_series(2001, 2500) g");
    await env.source.query("ANALYZE customers");
    process.env.STATUS_CACHE_SECONDS = "1";
    await new Promise((r) => setTimeout(r, 1100));
    expect(await overview()).toEqual([
      ["uat", true, 2, 1, "succeeded", 0],
      ["qa", true, 1, 1, "succeeded", 0],
    ]);
    await env.source.query("DELETE FROM customers WHERE id > 2000");
    await env.source.query("ANALYZE customers");
  });

  it("a run that names no environment where several exist is refused, naming them", async () => {
    await expect(runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" })).rejects.toThrow("this installation has 2 environments (uat, qa): name one (--env NAME, or ?env=NAME)");
    await expect(runRefresh(env.db, env.metaUrl, { environment: "training", trigger: "cli", triggeredBy: "test" })).rejects.toThrow("unknown environment training; environments: uat, qa");
  });

  it("refuses a target that is some environment's source, or another environment's target, with the field path", () => {
    const asSource = yaml.replace(`target: ${db(qaDb)}`, `target: ${db(dbName(env.sourceUrl))}`);
    expect(() => parseInstallationYaml(asSource)).toThrow(ConfigError);
    try {
      parseInstallationYaml(asSource);
    } catch (e) {
      expect((e as ConfigError).issues).toEqual([
        expect.stringMatching(/^environments\.qa\.databases\.target: is the source of environment uat \(postgres:\/\/.*\): a database that is read as production is never written$/),
      ]);
    }
    const twin = yaml.replace(`target: ${db(qaDb)}`, `target: ${db(dbName(env.targetUrl))}`);
    try {
      parseInstallationYaml(twin);
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).issues).toEqual([
        expect.stringMatching(/^environments\.uat\.databases\.target: is also the target of environment qa/),
        expect.stringMatching(/^environments\.qa\.databases\.target: is also the target of environment uat/),
      ]);
    }
    expect(() => parseInstallationYaml(yaml.replace("  qa:", "  QA env:"))).toThrow(/environments: |QA env/);
  });

  it("an original-form file imported next to them may not take another environment's target either", async () => {
    const original = `databases:\n  source: ${db(dbName(env.sourceUrl))}\n  target: ${db(qaDb)}\ntables: []\n`;
    const training = parseInstallationYaml(original);
    training.environments[0].name = "training";
    await expect(importInstallation(env.db, training, { whole: false })).rejects.toThrow(/environments\.training\.databases\.target: is also the target of environment qa/);
  });

  it("a target that is another environment's under another host name is refused when it runs (the servers' own names)", async () => {
    // The configuration's guard compares host names as written: the other name of this server passes it.
    const other = u().hostname === "localhost" ? "127.0.0.1" : "localhost";
    const alias = (name: string) => db(name).replace(`server: ${u().hostname}`, `server: ${other}`);
    const training = parseInstallationYaml(`databases:\n  source: ${db(dbName(env.sourceUrl))}\n  target: ${alias(dbName(env.targetUrl))}\ntables:\n  - { name: customers, strategy: simple_copy, sync_mode: full_replace }\n`);
    training.environments[0].name = "training";
    await importInstallation(env.db, training, { whole: false });
    const before = await fingerprint(env.target, "customers");
    const refused = runRefresh(env.db, env.metaUrl, { environment: "training", trigger: "cli", triggeredBy: "test" });
    await expect(refused).rejects.toThrow(`the target database ${dbName(env.targetUrl)} is also the target of environment uat: one target database belongs to one environment`);
    expect(await fingerprint(env.target, "customers")).toEqual(before);
    // Nor may it write production under another name (here from a production of its own).
    const { name: otherProduction } = await env.addDatabase("prod2");
    try {
      const prodAlias = parseInstallationYaml(`databases:\n  source: ${db(otherProduction)}\n  target: ${alias(dbName(env.sourceUrl))}\ntables: []\n`);
      prodAlias.environments[0].name = "training";
      await importInstallation(env.db, prodAlias, { whole: false });
      await expect(runRefresh(env.db, env.metaUrl, { environment: "training", trigger: "cli", triggeredBy: "test", dryRun: true })).rejects.toThrow(
        `the target database ${dbName(env.sourceUrl)} is the source of environment uat: refusing to write a database that is read as production`,
      );
    } finally {
      await env.db.environment.delete({ where: { name: "training" } });
    }
  });

  it("the CLI: --env chooses, --status without it shows every environment, --export and --import keep both", async () => {
    const refused = await runCli(["--force"], cliEnv());
    expect(refused.code).toBe(2);
    expect(refused.output).toContain("this installation has 2 environments (uat, qa): name one (--env NAME, or ?env=NAME)");
    const qaOnly = await runCli(["--env", "qa", "--table", "customers", "--force"], cliEnv());
    expect(qaOnly.code, qaOnly.output).toBe(0);
    expect((await env.db.refreshRun.findFirstOrThrow({ where: { trigger: "cli", triggeredBy: { not: "test" } } })).environment).toBe("qa");
    const status = await runCli(["--status", "--json"], cliEnv());
    expect(status.code, status.output).toBe(0);
    const all = JSON.parse(status.output) as { environment: string; tables: { name: string }[] }[];
    expect(all.map((e) => [e.environment, e.tables.map((t) => t.name)])).toEqual([["uat", ["customers", "orders"]], ["qa", ["customers"]]]);
    const one = await runCli(["--status", "--json", "--env", "qa"], cliEnv());
    expect((JSON.parse(one.output) as { name: string }[]).map((t) => t.name)).toEqual(["customers"]);

    const exported = await runCli(["--export"], cliEnv());
    expect(exported.code).toBe(0);
    expect(exported.output).toMatch(/^environments:\n {2}uat:\n/m);
    const back = file("exported.yaml", exported.output);
    const again = await runCli(["--import", back], cliEnv());
    expect(again.code, again.output).toBe(0);
    expect(stringifyInstallation(await exportInstallation(env.db))).toBe(exported.output);
    // The whole-installation form removes an environment it leaves out; runs of it stay in the history.
    const uatOnly = file("uat-only.yaml", exported.output.replace(/\n {2}qa:\n[\s\S]*$/, "\n"));
    expect((await runCli(["--import", uatOnly], cliEnv())).code).toBe(0);
    expect((await env.db.environment.findMany()).map((e) => e.name)).toEqual(["uat"]);
    expect(await env.db.refreshRun.count({ where: { environment: "qa" } })).toBe(2);
    const status1 = await runCli(["--status", "--json"], cliEnv());
    expect((JSON.parse(status1.output) as { environment: string }[]).map((e) => e.environment)).toEqual(["uat"]);
  });
});

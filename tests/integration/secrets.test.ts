// Secrets never leave: with real secrets in the process's environment, runs fail, webhooks are refused, redirected
// and misconfigured, a connection change is imported; then every text and JSON column of the metadata database is
// scanned for the secrets. Webhooks go to real local receivers.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringifyConfig } from "../../lib/config/yaml";
import { deliver } from "../../lib/notify/notify";
import { runRefresh } from "../../lib/engine/runner";
import { runCli } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

const SECRETS = { AUTH_SECRET: "auth-secret-value-0123456789abcdef", UAT_REFRESH_MASKING_KEY: "masking-key-value-0123456789abcdef", UAT_REFRESH_DB_SPARE_PASSWORD: "Spare-Pa55word!" };

describe("secrets never leave", () => {
  let env: TestEnv;
  let receiver: http.Server;
  const received: string[] = [];
  let base = "";

  beforeAll(async () => {
    Object.assign(process.env, SECRETS);
    receiver = http.createServer((req, res) => {
      received.push(req.url!);
      if (req.url === "/redirect") return void res.writeHead(302, { location: `${base}/elsewhere` }).end();
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE accounts (id int PRIMARY KEY)");
    await env.target.query("ALTER TABLE accounts ADD COLUMN extra int NOT NULL"); // the source lacks it and nothing fills it: fails every refresh
  });
  afterAll(async () => {
    await env?.close();
    receiver?.close();
    delete process.env.UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS;
  });

  it("webhooks: a loopback target is refused unless listed, a redirect is not followed, a variable's value is never quoted", async () => {
    await env.config([{ name: "accounts" }]);
    // stored past the schema (as an edited row would be): the sender checks again
    const channel = (name: string, target: string) => env.db.notificationChannel.create({ data: { name, kind: "webhook", target, events: ["run_failed"] } });
    const delivery = async (name: string, target: string) => {
      const c = await channel(name, target);
      return env.db.notificationDelivery.create({ data: { channelId: c.id, event: "run_failed", dedupeKey: name, subject: "s", body: "b" } });
    };
    const loopback = await delivery("loopback", `${base}/hook`);
    process.env.NOTIFY_RETRY_LIMIT = "0";
    await expect(deliver(env.db, loopback.id)).resolves.toBeUndefined();
    expect((await env.db.notificationDelivery.findUniqueOrThrow({ where: { id: loopback.id } })).lastError).toMatch(/must be https \(http only for hosts in UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS\)/);
    const dbUrl = await delivery("metadata-url", "env:DATABASE_URL");
    await deliver(env.db, dbUrl.id);
    expect((await env.db.notificationDelivery.findUniqueOrThrow({ where: { id: dbUrl.id } })).lastError).toBe("webhook target env:DATABASE_URL env: variables must start with UAT_REFRESH_WEBHOOK_ (a webhook reads no other variable)");
    process.env.UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";
    const redirect = await delivery("redirect", `${base}/redirect`);
    await deliver(env.db, redirect.id);
    expect((await env.db.notificationDelivery.findUniqueOrThrow({ where: { id: redirect.id } })).lastError).toBe("webhook answered HTTP 302 (a redirect, not followed)");
    expect(received).toEqual(["/redirect"]); // nothing reached /hook, nothing followed to /elsewhere
  });

  it("a connection change by import needs its own confirmation, and is audited before/after", async () => {
    const config = await env.config([{ name: "accounts" }]);
    const dir = mkdtempSync(path.join(os.tmpdir(), "secrets-"));
    const moved = path.join(dir, "moved.yaml");
    writeFileSync(moved, stringifyConfig({ ...config, databases: { ...config.databases, source: { ...config.databases.source, server: "localhost", password_env: "UAT_REFRESH_DB_SPARE_PASSWORD" } } }));
    const cliEnv = { DATABASE_URL: env.metaUrl };
    const refused = await runCli(["--import", moved], cliEnv);
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('source.server: "127.0.0.1" -> "localhost"');
    expect(refused.output).toContain("Run again with --confirm-connection-change to apply it.");
    expect((await env.db.connection.findUniqueOrThrow({ where: { environment_role: { environment: env.environment, role: "source" } } })).host).toBe("127.0.0.1");
    const applied = await runCli(["--import", moved, "--confirm-connection-change"], cliEnv);
    expect(applied.code, applied.output).toBe(0);
    const event = await env.db.auditEvent.findFirstOrThrow({ where: { action: "config.connection_change" } });
    expect(event.details).toMatchObject({ changes: expect.arrayContaining([{ side: "source", field: "server", before: "127.0.0.1", after: "localhost" }]), via: "cli" });
    // a variable outside the allowed prefixes is refused whatever is confirmed
    const stolen = path.join(dir, "stolen.yaml");
    writeFileSync(stolen, stringifyConfig(config).replace("password_env: UAT_REFRESH_DB_PASSWORD", "password_env: AUTH_SECRET"));
    const bad = await runCli(["--import", stolen, "--confirm-connection-change"], cliEnv);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain("databases.source.password_env: holds one of the product's own secrets, never a connection's credentials");
  });

  it("failures leave no secret in any stored text", async () => {
    await env.config([{ name: "accounts" }]);
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.status).toBe("failed");
    // texts that quote secrets, written the way driver errors and hints reach the metadata database
    const run = await env.db.refreshRun.findFirstOrThrow({ where: { id: report.runId }, include: { tables: true } });
    await env.db.tableResult.update({
      where: { id: run.tables[0].id },
      data: { error: `cannot connect ${env.metaUrl}: password ${SECRETS.UAT_REFRESH_DB_SPARE_PASSWORD}`, errorHint: "Server=x;Password=hunter22;Encrypt=true", verification: `production's checksum could not be read after the commit: login failed, password ${SECRETS.UAT_REFRESH_DB_SPARE_PASSWORD}` },
    });
    await env.db.refreshRun.update({ where: { id: run.id }, data: { error: `masking key ${SECRETS.UAT_REFRESH_MASKING_KEY}` } });
    await env.db.auditEvent.create({ data: { actor: "test", action: "probe", details: { nested: [`auth ${SECRETS.AUTH_SECRET}`] } } });

    // the metadata URL's password as it would stand in a URL (the embedded server's is a plain word)
    const secrets = [...Object.values(SECRETS), "hunter22", `:${new URL(env.metaUrl).password}@`];
    const { rows: columns } = await env.db.$queryRawUnsafe<{ table_name: string; column_name: string }[]>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')`,
    ).then((rows) => ({ rows }));
    expect(columns.length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const c of columns) {
      const hits = await env.db.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM "${c.table_name}" WHERE "${c.column_name}"::text LIKE ANY ($1)`,
        secrets.map((s) => `%${s.replace(/[%_\\]/g, "\\$&")}%`),
      );
      if (Number(hits[0].n)) found.push(`${c.table_name}.${c.column_name}`);
    }
    expect(found).toEqual([]);
    const stored = await env.db.tableResult.findUniqueOrThrow({ where: { id: run.tables[0].id } });
    expect(stored.error).toMatch(/^cannot connect postgres(ql)?:\/\/[^:]+:\*\*\*@/);
    expect(stored.errorHint).toBe("Server=x;Password=***;Encrypt=true");
    // A verification that could not read a side quotes the driver's error: cleaned like an error.
    expect(stored.verification).toBe("production's checksum could not be read after the commit: login failed, password ***");
  });
});

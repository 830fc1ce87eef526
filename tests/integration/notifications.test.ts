// Notifications against real local servers: an SMTP server (smtp-server) and an HTTP receiver started here, a real
// failing refresh, a missed schedule, a run going on too long and a stale table; every delivery recorded, a flaky
// receiver retried with backoff until it answers, a dead one given up on with the reason.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { PgBoss } from "pg-boss";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBuiltInDialects } from "../../lib/dialects/builtin";
import { runRefresh } from "../../lib/engine/runner";
import { checkThresholds, notifyRunFinished, notifyScheduleMissed } from "../../lib/notify/notify";
import { channelSchema } from "../../lib/notify/channels";
import { openQueue } from "../../lib/queue/boss";
import { startRunWorkers, type RunWorkers } from "../../lib/queue/worker";
import { waitFor } from "../support/cli";
import { createTestEnv, type TestEnv } from "../support/env";

registerBuiltInDialects();

interface Mail {
  to: string;
  raw: string;
}
interface Hook {
  path: string;
  body: Record<string, unknown>;
}

describe("notifications", () => {
  let env: TestEnv;
  let boss: PgBoss;
  let workers: RunWorkers;
  const mails: Mail[] = [];
  const hooks: Hook[] = [];
  let flakyLeft = 2; // the flaky receiver answers 503 this many times, then 200
  let smtp: SMTPServer;
  let receiver: http.Server;
  let hookBase = "";

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, session, cb) {
        let raw = "";
        stream.on("data", (d) => (raw += d));
        stream.on("end", () => {
          // the text part is quoted-printable: undo soft line breaks and =XX escapes to read it as sent
          const decoded = raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(","), raw: decoded });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
    receiver = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        if (req.url === "/dead") return void res.writeHead(500).end();
        if (req.url === "/flaky" && flakyLeft-- > 0) return void res.writeHead(503).end();
        hooks.push({ path: req.url!, body: JSON.parse(body) });
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
    hookBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    process.env.SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
    process.env.SMTP_FROM = "UAT Refresh <uat@example.test>";
    process.env.APP_URL = "https://uat-refresh.example.test";
    process.env.NOTIFY_RETRY_DELAY_SECONDS = "1";
    process.env.NOTIFY_RETRY_LIMIT = "3";
    process.env.UAT_REFRESH_WEBHOOK_SLACK = `${hookBase}/slack`;
    // the local receiver is on loopback over http: allowed only because the operator lists it
    process.env.UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";

    env = await createTestEnv();
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL)");
    await env.target.query("ALTER TABLE accounts ADD COLUMN extra int NOT NULL"); // the source lacks it and nothing fills it: a refresh fails
    for (const c of [env.source, env.target]) await c.query("CREATE TABLE fine (id int PRIMARY KEY)");
    await env.source.query("INSERT INTO fine SELECT generate_series(1, 10)");
    await env.config([
      { name: "accounts", strategy: "simple_copy", sync_mode: "full_replace" },
      { name: "fine", strategy: "simple_copy", sync_mode: "full_replace" },
    ]);
    const channel = (c: unknown) => env.db.notificationChannel.create({ data: channelSchema.parse(c) });
    await channel({ name: "ops-mail", kind: "email", target: "ops@example.test, dba@example.test", events: ["run_failed", "run_partial", "schedule_missed", "table_lag"], lagHours: 2 });
    await channel({ name: "slack", kind: "slack", target: "env:UAT_REFRESH_WEBHOOK_SLACK", events: ["run_partial", "run_long"], longRunMinutes: 5 });
    await channel({ name: "teams", kind: "teams", target: `${hookBase}/teams`, events: ["run_partial"] });
    await channel({ name: "flaky-json", kind: "webhook", target: `${hookBase}/flaky`, events: ["run_partial"] });
    await channel({ name: "dead-json", kind: "webhook", target: `${hookBase}/dead`, events: ["run_partial"] });
    // Limited to this environment: hears it; limited to another: hears nothing of this one.
    await channel({ name: "this-env-only", kind: "webhook", target: `${hookBase}/mine`, events: ["run_partial"], environments: [env.environment] });
    await channel({ name: "qa-only", kind: "webhook", target: `${hookBase}/qa`, events: ["run_partial", "run_failed", "table_lag", "schedule_missed", "run_long"], lagHours: 1, longRunMinutes: 1, environments: ["qa"] });
    boss = await openQueue(env.metaUrl);
    workers = await startRunWorkers(env.db, env.metaUrl, boss, { concurrency: 1, sweepMs: 60_000 });
  });

  afterAll(async () => {
    await workers?.stop();
    await boss?.stop({ graceful: false });
    await env?.close();
    smtp?.close();
    receiver?.close();
  });

  const deliveries = (runId: string) => env.db.notificationDelivery.findMany({ where: { runId }, include: { channel: true }, orderBy: { channel: { name: "asc" } } });

  it("a partly failed run reaches mail, Slack, Teams and a generic webhook, linking to the run page", async () => {
    const report = await runRefresh(env.db, env.metaUrl, { trigger: "cli", triggeredBy: "test" });
    expect(report.status).toBe("partial");
    const ids = await notifyRunFinished(env.db, boss, report.runId);
    expect(ids).toHaveLength(6);
    expect(await notifyRunFinished(env.db, boss, report.runId)).toEqual([]); // one delivery per channel and run, ever
    await waitFor(async () => (await deliveries(report.runId)).every((d) => d.status === "sent" || d.status === "failed"), 60_000, 200);
    const url = `https://uat-refresh.example.test/runs/${report.runId}`;

    const mail = mails.find((m) => m.raw.includes(report.runId))!;
    expect(mail.to).toBe("ops@example.test,dba@example.test");
    expect(mail.raw).toMatch(new RegExp(`Subject: UAT refresh partial \\(${env.environment}\\): accounts, fine`));
    expect(mail.raw).toContain(url);
    expect(mail.raw).toMatch(/accounts: failed \(public\.accounts differs from production: extra: UAT has this NOT NULL column without a default/);

    const slack = hooks.find((h) => h.path === "/slack")!;
    expect(slack.body.text).toContain(`<${url}|Open in UAT Refresh>`);
    const teams = hooks.find((h) => h.path === "/teams")!;
    expect(teams.body).toMatchObject({ "@type": "MessageCard", title: `UAT refresh partial (${env.environment}): accounts, fine`, potentialAction: [{ "@type": "OpenUri", targets: [{ uri: url }] }] });
    const generic = hooks.find((h) => h.path === "/flaky")!;
    expect(generic.body).toMatchObject({ event: "run_partial", subject: `UAT refresh partial (${env.environment}): accounts, fine`, url });

    const by = Object.fromEntries((await deliveries(report.runId)).map((d) => [d.channel.name, d]));
    expect([by["ops-mail"].status, by["ops-mail"].attempts]).toEqual(["sent", 1]);
    expect([by.slack.status, by.teams.status, by["this-env-only"].status]).toEqual(["sent", "sent", "sent"]);
    // retried with backoff until the receiver answered
    expect([by["flaky-json"].status, by["flaky-json"].attempts]).toEqual(["sent", 3]);
    // given up after the retry limit, with the reason
    expect([by["dead-json"].status, by["dead-json"].attempts, by["dead-json"].lastError]).toEqual(["failed", 4, "webhook answered HTTP 500 Internal Server Error"]);
  });

  it("a missed schedule, a run going on too long and a stale table are each told once", async () => {
    const s = await env.db.schedule.create({ data: { environment: env.environment, name: "nightly", cron: "0 2 * * *", timezone: "UTC", scope: "all" } });
    const missed = [new Date("2026-01-01T02:00:00Z"), new Date("2026-01-02T02:00:00Z")];
    expect(await notifyScheduleMissed(env.db, boss, s, missed)).toHaveLength(1);
    expect(await notifyScheduleMissed(env.db, boss, s, missed)).toHaveLength(0);

    // a run that started 7 minutes ago and is still running (threshold 5 min); the table "fine" last succeeded 3 h ago (threshold 2 h)
    const long = await env.db.refreshRun.create({ data: { environment: env.environment, trigger: "web", triggeredBy: "oscar@example.test", startedAt: new Date(Date.now() - 7 * 60_000), tables: { create: [{ tableName: "fine", strategy: "simple_copy", status: "running" }] } } });
    await env.db.tableResult.updateMany({ where: { tableName: "fine", status: "succeeded" }, data: { finishedAt: new Date(Date.now() - 3 * 3_600_000) } });
    const first = await checkThresholds(env.db, boss);
    expect(first).toHaveLength(2); // slack: run_long; ops-mail: table_lag for fine (accounts was configured just now)
    expect(await checkThresholds(env.db, boss)).toHaveLength(0);
    await env.db.refreshRun.update({ where: { id: long.id }, data: { status: "failed", finishedAt: new Date() } });

    await waitFor(async () => mails.some((m) => m.raw.includes("schedule nightly: 2 due time(s) missed")) && mails.filter((m) => m.raw.includes("not refreshed for")).length === 1 && hooks.some((h) => h.path === "/slack" && String(h.body.text).includes("still running after 7 min")), 30_000, 200);
    const lag = mails.find((m) => m.raw.includes(`UAT table fine (${env.environment}) not refreshed for 3 h`))!;
    expect(lag.raw).toContain(`https://uat-refresh.example.test/tables/fine?env=${env.environment}`);
    expect(await env.db.notificationDelivery.count({ where: { channel: { name: "qa-only" } } })).toBe(0);
  });
});

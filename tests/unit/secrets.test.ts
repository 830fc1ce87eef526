// Secrets stay put: which variables a connection may read (lib/config/credentials), where a webhook may go
// (lib/notify/webhook-target, lib/notify/send), and what every readable text is cleaned of (lib/redact).
import { describe, expect, it } from "vitest";
import { credentialVariableProblem } from "../../lib/config/credentials";
import { configSchema, formatIssues } from "../../lib/config/schema";
import { resolveTarget } from "../../lib/engine/connections";
import { channelSchema } from "../../lib/notify/channels";
import { guardedLookup, webhookUrl } from "../../lib/notify/send";
import { forbiddenAddress, webhookTargetProblem } from "../../lib/notify/webhook-target";
import { redact, redactDeep } from "../../lib/redact";

describe("credential variables", () => {
  it("come only from allowlisted prefixes; the product's own secrets never", () => {
    expect(credentialVariableProblem("SOURCE_DB_PASSWORD", {})).toBeNull();
    expect(credentialVariableProblem("UAT_REFRESH_DB_QA_USER", {})).toBeNull();
    expect(credentialVariableProblem("UAT_REFRESH_MASKING_KEY", {})).toMatch(/product's own secrets, never/);
    expect(credentialVariableProblem("AUTH_SECRET", { UAT_REFRESH_CREDENTIAL_PREFIXES: "AUTH_" })).toMatch(/product's own secrets, never/);
    expect(credentialVariableProblem("DATABASE_URL", {})).toMatch(/product's own secrets, never/);
    expect(credentialVariableProblem("PGPASSWORD", {})).toMatch(/must start with UAT_REFRESH_DB_, SOURCE_DB_, TARGET_DB_/);
    expect(credentialVariableProblem("VAULT_DB_PASSWORD", { UAT_REFRESH_CREDENTIAL_PREFIXES: "VAULT_DB_" })).toBeNull();
  });

  it("a configuration naming another variable is refused with its field path, and so is a stored one at connect time", () => {
    const db = (side: string) => ({ engine: "postgres", server: "attacker.example", database: side, username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_MASKING_KEY" });
    const r = configSchema.safeParse({ databases: { source: db("p"), target: db("u") } });
    expect(formatIssues(r.error!)).toContain("databases.source.password_env: holds one of the product's own secrets, never a connection's credentials");
    const stored = { engine: "postgres" as const, server: "attacker.example", database: "p", username_env: "UAT_REFRESH_DB_USER", password_env: "AUTH_SECRET", options: {} };
    expect(() => resolveTarget(stored, "source", { UAT_REFRESH_DB_USER: "u", AUTH_SECRET: "s3cret" })).toThrow(/credential variable AUTH_SECRET holds one of the product's own secrets/);
  });
});

describe("webhook targets", () => {
  it("refuse loopback, link-local, private and metadata addresses, and http, unless the host is allowlisted", () => {
    for (const url of ["http://127.0.0.1:54329/", "https://127.0.0.1/", "https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/", "https://172.20.0.1/", "https://192.168.1.10/", "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[fd00:ec2::254]/", "https://localhost/", "https://metadata.google.internal/"])
      expect(webhookTargetProblem(url, {}), url).toMatch(/must be https|loopback, link-local, private/);
    expect(webhookTargetProblem("http://hooks.example.com/x", {})).toMatch(/must be https/);
    expect(webhookTargetProblem("https://hooks.slack.com/services/T0/B0/x", {})).toBeNull();
    expect(webhookTargetProblem("https://user:pw@hooks.example.com/", {})).toMatch(/user name or password/);
    expect(webhookTargetProblem("http://127.0.0.1:8080/hook", { UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" })).toBeNull();
    expect(webhookTargetProblem("http://127.0.0.1:8080/hook", { UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1:9090" })).toMatch(/must be https/);
    expect(forbiddenAddress("8.8.8.8")).toBeNull();
  });

  it("env: targets only under UAT_REFRESH_WEBHOOK_, and the value is checked like a URL without being quoted", () => {
    expect(webhookTargetProblem("env:DATABASE_URL", {})).toBe("env: variables must start with UAT_REFRESH_WEBHOOK_ (a webhook reads no other variable)");
    const parsed = channelSchema.safeParse({ name: "x", kind: "webhook", target: "env:DATABASE_URL", events: ["run_failed"] });
    expect(formatIssues(parsed.error!)).toEqual(["target: env: variables must start with UAT_REFRESH_WEBHOOK_ (a webhook reads no other variable)"]);
    const secret = "postgres://meta:Sup3r-secret@127.0.0.1:54329/meta";
    const e = (() => {
      try {
        webhookUrl({ target: "env:UAT_REFRESH_WEBHOOK_OPS" }, { UAT_REFRESH_WEBHOOK_OPS: secret });
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e?.message).toBe("the webhook URL in UAT_REFRESH_WEBHOOK_OPS must not carry a user name or password");
    expect(e?.message).not.toContain("Sup3r");
  });

  it("refuses at connect time a name that resolves to a forbidden address", async () => {
    const lookup = guardedLookup(new URL("https://localhost/"), {});
    const err = await new Promise<Error | null>((resolve) => lookup("localhost", { family: 0 }, (e) => resolve(e)));
    expect(err?.message).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1) is a loopback/);
    const allowed = guardedLookup(new URL("http://localhost/"), { UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS: "localhost" });
    const ok = await new Promise<string>((resolve) => allowed("localhost", { family: 4 }, (_e, address) => resolve(address as string)));
    expect(ok).toBe("127.0.0.1");
  });
});

describe("redaction", () => {
  const env = { DATABASE_URL: "postgres://meta:Meta-pw-123@db:5432/meta", UAT_REFRESH_DB_PASSWORD: "Pr0d-Passw0rd!", UAT_REFRESH_DB_USER: "refresh", AUTH_SECRET: "x".repeat(32) };
  it("removes URL passwords, connection-string passwords and the values of secret variables", () => {
    expect(redact("connect postgres://meta:Meta-pw-123@db:5432/meta failed", env)).toBe("connect *** failed");
    expect(redact("login to mssql://sa:other@h/db", env)).toBe("login to mssql://sa:***@h/db");
    expect(redact("Server=h;User Id=sa;Password=hunter2;Encrypt=true", env)).toBe("Server=h;User Id=sa;Password=***;Encrypt=true");
    expect(redact("password authentication failed, tried Pr0d-Passw0rd!", env)).toBe("password authentication failed, tried ***");
    expect(redact(`token ${"x".repeat(32)}`, env)).toBe("token ***");
    // user names are not secrets; short common words are never treated as values
    expect(redact("login refresh failed", env)).toBe("login refresh failed");
    expect(redactDeep({ a: ["https://u:p@h/"], n: 1 }, env)).toEqual({ a: ["https://u:***@h/"], n: 1 });
  });
});

// Credentials of the original config.yaml's auth_type, and connection failures in a database team's words.
import { describe, expect, it } from "vitest";
import { parseConfigYaml } from "../../lib/config/yaml";
import { checkCredentials, connectReason, credentialStatus, resolveTarget } from "../../lib/engine/connections";

const original = parseConfigYaml(`
databases:
  source: { server: "prod-sql-server", database: "ProductionDB", auth_type: "windows" }
  target: { server: "uat-sql-server", database: "UATDB", auth_type: "sql" }
`);

describe("auth_type", () => {
  it("sql: a SQL login from TARGET_DB_USER / TARGET_DB_PASSWORD", () => {
    const t = resolveTarget(original.databases.target, "target", { TARGET_DB_USER: "refresh_user", TARGET_DB_PASSWORD: "pw" });
    expect(t).toMatchObject({ engine: "sqlserver", host: "uat-sql-server", database: "UATDB", user: "refresh_user", password: "pw", options: {} });
    expect(() => resolveTarget(original.databases.target, "target", { TARGET_DB_USER: "u" })).toThrow(
      "environment variable TARGET_DB_PASSWORD (password for target uat-sql-server/UATDB) is not set",
    );
  });

  it("every missing variable of every connection is named in one message", () => {
    expect(() => checkCredentials(original, { SOURCE_DB_DOMAIN: "CORP", SOURCE_DB_USER: "svc" })).toThrow(
      /auth_type windows for source prod-sql-server\/ProductionDB: .*\(not set: SOURCE_DB_PASSWORD\); environment variables TARGET_DB_USER \(user name for target uat-sql-server\/UATDB\), TARGET_DB_PASSWORD \(password for target uat-sql-server\/UATDB\) are not set$/,
    );
    expect(() => checkCredentials(original, { SOURCE_DB_DOMAIN: "C", SOURCE_DB_USER: "u", SOURCE_DB_PASSWORD: "p", TARGET_DB_USER: "u", TARGET_DB_PASSWORD: "p" })).not.toThrow();
  });

  it("windows: NTLM with the domain from SOURCE_DB_DOMAIN or from DOMAIN\\user", () => {
    const env = { SOURCE_DB_DOMAIN: "CORP", SOURCE_DB_USER: "svc_refresh", SOURCE_DB_PASSWORD: "pw" };
    expect(resolveTarget(original.databases.source, "source", env)).toMatchObject({ user: "svc_refresh", password: "pw", options: { authentication: "ntlm", domain: "CORP" } });
    expect(resolveTarget(original.databases.source, "source", { SOURCE_DB_USER: "CORP\\svc_refresh", SOURCE_DB_PASSWORD: "pw" })).toMatchObject({
      user: "svc_refresh",
      options: { authentication: "ntlm", domain: "CORP" },
    });
  });

  it("windows without credentials: says integrated sign-in is not available here and exactly which variables to set", () => {
    expect(() => resolveTarget(original.databases.source, "source", { SOURCE_DB_USER: "svc_refresh" })).toThrow(
      `auth_type windows for source prod-sql-server/ProductionDB: integrated Windows authentication is not available to the SQL Server driver (tedious) on ${process.platform}; it signs in with NTLM instead: set SOURCE_DB_DOMAIN, SOURCE_DB_USER and SOURCE_DB_PASSWORD (not set: SOURCE_DB_DOMAIN, SOURCE_DB_PASSWORD)`,
    );
    expect(credentialStatus(original.databases.source, "source", { SOURCE_DB_USER: "x" })).toEqual([
      { name: "SOURCE_DB_DOMAIN", set: false },
      { name: "SOURCE_DB_USER", set: true },
      { name: "SOURCE_DB_PASSWORD", set: false },
    ]);
  });

  it("the *_env names override the defaults", () => {
    const db = { ...original.databases.source, username_env: "PROD_LOGIN", password_env: "PROD_SECRET", domain_env: "PROD_DOMAIN" };
    expect(credentialStatus(db, "source", {}).map((v) => v.name)).toEqual(["PROD_DOMAIN", "PROD_LOGIN", "PROD_SECRET"]);
  });
});

describe("connection failures", () => {
  it("turns driver errors into a short reason", () => {
    const tedious = Object.assign(new Error("Failed to connect to prod-sql-server:1433 - getaddrinfo ENOTFOUND prod-sql-server"), { code: "ESOCKET" });
    expect(connectReason(tedious, 30)).toBe("host not found");
    expect(connectReason(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), 30)).toBe("connection refused (is the server listening on that port?)");
    expect(connectReason(Object.assign(new Error("Failed to connect to h:1433 in 30000ms"), { code: "ETIMEOUT" }), 30)).toBe("no answer within connection_timeout (30 s)");
    expect(connectReason(new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" })], ""), 5)).toMatch(/^connection refused/);
    expect(connectReason(new Error("Login failed for user 'refresh_user'.\n  at ..."), 5)).toBe("Login failed for user 'refresh_user'.");
  });
});

// TLS to SQL Server does exactly what its settings say (Microsoft's drivers' meaning of encrypt and
// trustServerCertificate, and this product's caCertificate), on the real TDS server of MSSQL_TEST_URL: the session's
// own encrypt_option (sys.dm_exec_connections) says whether it is encrypted. MSSQL_TEST_CA, when given, is a file the
// server's certificate verifies against (for a self-signed test server: its certificate). The configuration's rules
// need no server.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { connectSqlServer } from "../../lib/dialects/sqlserver/driver";
import { configSchema, formatIssues } from "../../lib/config/schema";

const MSSQL = process.env.MSSQL_TEST_URL;
const CA = process.env.MSSQL_TEST_CA;

/** A certificate authority made here, which signed nothing the server has. */
function otherCa(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "uat-mssql-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=uat-refresh other ca"], { cwd: dir, stdio: "pipe" });
  return path.join(dir, "ca.crt");
}

describe.skipIf(!MSSQL)("TLS to a real TDS server, as configured", () => {
  const u = new URL(MSSQL ?? "mssql://x");
  /** Connects with `options` and answers the session's encrypt_option ("TRUE" / "FALSE"). */
  const encryption = async (options: Record<string, string | boolean>, host = u.hostname) => {
    const target = { engine: "sqlserver" as const, host, port: Number(u.port || 1433), database: "master", user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), options };
    const s = await connectSqlServer(target, { readOnly: false, connectionTimeoutSec: 15, commandTimeoutSec: 30 });
    try {
      const [r] = await s.query<{ e: string }>({ sql: "SELECT encrypt_option AS e FROM sys.dm_exec_connections WHERE session_id = @@SPID", params: [] });
      return r.e;
    } finally {
      await s.close();
    }
  };
  const untrusted = /self[- ]signed|unable to verify|unable to get local issuer/;

  it("encrypt: false sends no TLS (this test server does not insist on it); encrypt: true encrypts", async () => {
    expect(await encryption({ encrypt: false })).toBe("FALSE");
    expect(await encryption({ encrypt: true, trustServerCertificate: true })).toBe("TRUE");
  });

  it("trustServerCertificate: false verifies the certificate: a certificate authority that did not sign it is refused", async () => {
    await expect(encryption({ encrypt: true, trustServerCertificate: false, caCertificate: otherCa() })).rejects.toThrow(untrusted);
    // Microsoft's drivers default trustServerCertificate to false: not given, the certificate is verified too.
    await expect(encryption({ encrypt: true, caCertificate: otherCa() })).rejects.toThrow(untrusted);
  });

  it.skipIf(!CA)("caCertificate (MSSQL_TEST_CA): the certificate verifies against it and the session is encrypted; another host name in the certificate is refused", async () => {
    expect(await encryption({ encrypt: true, caCertificate: CA! })).toBe("TRUE");
    await expect(encryption({ encrypt: true, caCertificate: CA!, hostNameInCertificate: "not-this-server.invalid" })).rejects.toThrow(/does not match|not in the cert's altnames/);
  });
});

describe("SQL Server TLS settings in the configuration", () => {
  const db = (options: Record<string, string | boolean>) => ({ engine: "sqlserver", server: "h", database: "d", username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_DB_PASSWORD", options });

  it("caCertificate with trustServerCertificate: true (which skips the verification it asks for) is refused with its path; under strict it is not (strict always verifies)", () => {
    const r = configSchema.safeParse({ databases: { source: db({ encrypt: true, trustServerCertificate: true, caCertificate: "/etc/ca.pem" }), target: db({ encrypt: "strict", trustServerCertificate: true, caCertificate: "/etc/ca.pem" }) } });
    expect(formatIssues(r.error!)).toEqual(["databases.source.options.caCertificate: conflicts with trustServerCertificate: true, which skips the verification caCertificate asks for: set one of them"]);
  });

  it("a caCertificate that cannot be read is said with the option and its path before anything is sent", async () => {
    const target = { engine: "sqlserver" as const, host: "127.0.0.1", port: 9, database: "d", user: "u", password: "p", options: { encrypt: true, caCertificate: "/nonexistent/ca.pem" } };
    await expect(connectSqlServer(target, { readOnly: false, connectionTimeoutSec: 5, commandTimeoutSec: 5 })).rejects.toThrow("caCertificate /nonexistent/ca.pem cannot be read: ENOENT");
  });
});

// TLS does exactly what sslmode says (libpq's table), against a real PostgreSQL serving TLS with a certificate from
// a throwaway CA made here with openssl: verify-full refuses a wrong host name, verify-ca and require-with-a-root
// refuse another CA, disable never encrypts, prefer falls back to plain on a server without TLS.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { postgresDialect } from "../../lib/dialects/postgres";
import type { ConnectionTarget } from "../../lib/dialects/types";
import { configSchema, formatIssues } from "../../lib/config/schema";
import { startEmbeddedPostgres, type EmbeddedCluster } from "../../lib/embedded/postgres";

const dir = mkdtempSync(path.join(os.tmpdir(), "uat-tls-"));
const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

/** A CA, and a server certificate it signs for DNS name localhost only (no IP address in it). */
function makeCertificates() {
  for (const name of ["ca", "other-ca"]) ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=uat-refresh test ${name}`);
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=DNS:localhost\n");
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.ext");
}

describe("TLS as configured (PostgreSQL sslmode)", () => {
  let tlsServer: EmbeddedCluster;
  beforeAll(async () => {
    makeCertificates();
    tlsServer = await startEmbeddedPostgres({ tls: { cert: readFileSync(path.join(dir, "server.crt"), "utf8"), key: readFileSync(path.join(dir, "server.key"), "utf8") } });
  });
  afterAll(() => tlsServer?.stop());

  const target = (host: string, port: number, options: ConnectionTarget["options"]): ConnectionTarget => ({ engine: "postgres", host, port, database: "postgres", user: "postgres", password: "postgres", options });
  /** Connects and answers whether the session is encrypted (pg_stat_ssl). */
  const encrypted = async (t: ConnectionTarget) => {
    const s = await postgresDialect.connect(t, { readOnly: false, connectionTimeoutSec: 10, commandTimeoutSec: 10 });
    try {
      const [r] = await s.query<{ ssl: boolean }>({ sql: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", params: [] });
      return r.ssl;
    } finally {
      await s.close();
    }
  };
  const ca = path.join(dir, "ca.crt");
  const otherCa = path.join(dir, "other-ca.crt");

  it("verify-full: the chain and the host name (localhost is in the certificate, 127.0.0.1 is not)", async () => {
    expect(await encrypted(target("localhost", tlsServer.port, { sslmode: "verify-full", sslrootcert: ca }))).toBe(true);
    await expect(encrypted(target("127.0.0.1", tlsServer.port, { sslmode: "verify-full", sslrootcert: ca }))).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert's list|does not match certificate/);
    await expect(encrypted(target("localhost", tlsServer.port, { sslmode: "verify-full", sslrootcert: otherCa }))).rejects.toThrow(/self[- ]signed|unable to verify|unable to get local issuer/);
  });

  it("verify-ca: the chain, any host name; require with a root certificate behaves the same", async () => {
    expect(await encrypted(target("127.0.0.1", tlsServer.port, { sslmode: "verify-ca", sslrootcert: ca }))).toBe(true);
    await expect(encrypted(target("127.0.0.1", tlsServer.port, { sslmode: "verify-ca", sslrootcert: otherCa }))).rejects.toThrow(/self[- ]signed|unable to verify|unable to get local issuer/);
    await expect(encrypted(target("127.0.0.1", tlsServer.port, { sslmode: "require", sslrootcert: otherCa }))).rejects.toThrow(/self[- ]signed|unable to verify|unable to get local issuer/);
  });

  it("require encrypts without verifying; disable never encrypts; prefer encrypts where it can", async () => {
    expect(await encrypted(target("127.0.0.1", tlsServer.port, { sslmode: "require" }))).toBe(true);
    expect(await encrypted(target("127.0.0.1", tlsServer.port, { sslmode: "disable" }))).toBe(false);
    expect(await encrypted(target("127.0.0.1", tlsServer.port, {}))).toBe(true);
    // the shared test server serves no TLS: prefer falls back to plain, require refuses
    const plain = new URL(inject("adminUrl"));
    const onPlain = (options: ConnectionTarget["options"]) => ({ ...target(plain.hostname, Number(plain.port), options), user: decodeURIComponent(plain.username), password: decodeURIComponent(plain.password) });
    expect(await encrypted(onPlain({ sslmode: "prefer" }))).toBe(false);
    await expect(encrypted(onPlain({ sslmode: "require" }))).rejects.toThrow(/does not support SSL/);
  });

  it("an unknown sslmode, or verify-* without a root certificate, is a configuration error with its path", () => {
    const db = (options: Record<string, string>) => ({ engine: "postgres", server: "h", database: "d", username_env: "UAT_REFRESH_DB_USER", password_env: "UAT_REFRESH_DB_PASSWORD", options });
    const r = configSchema.safeParse({ databases: { source: db({ sslmode: "verify_full" }), target: db({ sslmode: "verify-full" }) } });
    expect(formatIssues(r.error!)).toEqual([
      "databases.source.options.sslmode: must be one of disable, allow, prefer, require, verify-ca, verify-full",
      "databases.target.options.sslrootcert: is required with sslmode verify-full (the CA certificate file the server is verified against)",
    ]);
  });
});

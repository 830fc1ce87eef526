// What the TLS options of a SQL Server connection mean (Microsoft's drivers' meaning), read by the driver and by the
// configuration's checks alike.

/** Whether the server's certificate is accepted without verification: trustServerCertificate true, never under strict. */
export function trustsServerCertificate(o: Record<string, string | number | boolean | undefined>): boolean {
  return o.encrypt !== "strict" && (o.trustServerCertificate === true || o.trustServerCertificate === "true");
}

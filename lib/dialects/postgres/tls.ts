// PostgreSQL's sslmode, as libpq defines it (https://www.postgresql.org/docs/current/libpq-ssl.html, table 32.1),
// translated into node-postgres' `ssl` (Node's TLS options):
//   disable      no TLS
//   allow        plain first; TLS only when the server insists (it refuses the plain connection)
//   prefer       TLS first, plain when the server has no TLS; no verification
//   require      TLS, no verification; but with a root certificate given (sslrootcert), verified as verify-ca
//                (libpq: "if a root CA file exists, the behavior of sslmode=require will be the same as verify-ca")
//   verify-ca    TLS, the chain verified against sslrootcert, any host name
//   verify-full  TLS, the chain verified against sslrootcert and the server's name checked against the certificate
// sslcert / sslkey give a client certificate. Anything else is refused by the configuration schema.
import type { ConnectionOptions } from "node:tls";
import { optionFile as file } from "../option-file";

import { SSL_MODES, type SslMode } from "./ssl-modes";

export { SSL_MODES };

export interface TlsPlan {
  /** What to try, in order: `false` is a plain connection. */
  attempts: (false | ConnectionOptions)[];
}

export function tlsPlan(options: Record<string, string | number | boolean>): TlsPlan {
  const mode = String(options.sslmode ?? "prefer") as SslMode;
  if (!SSL_MODES.includes(mode)) throw new Error(`sslmode ${mode} is not one of ${SSL_MODES.join(", ")}`);
  const client = {
    ...(options.sslcert !== undefined ? { cert: file(options.sslcert, "sslcert") } : {}),
    ...(options.sslkey !== undefined ? { key: file(options.sslkey, "sslkey") } : {}),
  };
  const ca = options.sslrootcert !== undefined ? file(options.sslrootcert, "sslrootcert") : undefined;
  const unverified: ConnectionOptions = { ...client, rejectUnauthorized: false };
  // Chain verified, any host name: Node checks names in checkServerIdentity, which verify-ca skips.
  const chainOnly: ConnectionOptions = { ...client, ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  switch (mode) {
    case "disable":
      return { attempts: [false] };
    case "allow":
      return { attempts: [false, unverified] };
    case "prefer":
      return { attempts: [unverified, false] };
    case "require":
      return { attempts: [ca ? chainOnly : unverified] };
    case "verify-ca":
      if (!ca) throw new Error("sslmode verify-ca needs sslrootcert (the CA certificate file to verify the server against)");
      return { attempts: [chainOnly] };
    case "verify-full":
      if (!ca) throw new Error("sslmode verify-full needs sslrootcert (the CA certificate file to verify the server against)");
      return { attempts: [{ ...client, ca, rejectUnauthorized: true }] };
  }
}

/** Whether a failed attempt means "try the next one" under allow / prefer: the server refused that kind of connection. */
export function refusedKind(e: unknown): boolean {
  const m = (e as Error)?.message ?? "";
  return /does not support SSL|no pg_hba\.conf entry .*(no encryption|SSL off|SSL encryption)|SSL connection is required|requires SSL/i.test(m);
}

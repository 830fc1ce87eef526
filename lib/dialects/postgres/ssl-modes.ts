// PostgreSQL's sslmode values, as libpq names them (./tls says what each does): plain data, read by the
// configuration schema (which the browser's forms load too).
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

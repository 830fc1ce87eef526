// Where a webhook may be sent. A webhook target is typed by an admin, so without limits it reaches whatever the app
// server can reach: the metadata database on loopback, a cloud metadata service (169.254.169.254), anything on the
// private network, and via `env:NAME` any variable's value. So: https only; never a loopback, link-local, private,
// shared, multicast or reserved address (checked on the address the name resolves to, at connect time, so a DNS
// answer cannot point elsewhere later); redirects are not followed; `env:` names only variables under
// UAT_REFRESH_WEBHOOK_. Hosts the operator lists in UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS (an internal chat server, a
// local test receiver) may use http and private addresses.
import { BlockList, isIP } from "node:net";

type Env = Record<string, string | undefined>;

export const WEBHOOK_ENV_PREFIX = "UAT_REFRESH_WEBHOOK_";
export const WEBHOOK_ALLOWED_HOSTS_ENV = "UAT_REFRESH_WEBHOOK_ALLOWED_HOSTS";

const FORBIDDEN = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24],
  ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
] as const)
  FORBIDDEN.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2001:db8::", 32]] as const) FORBIDDEN.addSubnet(net, bits, "ipv6");

/** Why a connection to `address` is refused (a webhook must reach a public address), or null. */
export function forbiddenAddress(address: string): string | null {
  const family = isIP(address);
  if (!family) return null;
  // An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const [a, type] = mapped ? [mapped[1], "ipv4" as const] : [address, family === 4 ? ("ipv4" as const) : ("ipv6" as const)];
  return FORBIDDEN.check(a, type) ? `${address} is a loopback, link-local, private or reserved address` : null;
}

function allowedHosts(env: Env): string[] {
  return (env[WEBHOOK_ALLOWED_HOSTS_ENV] ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
}

/** Whether the operator allowlisted this URL's host (as `host` or `host:port`). */
export function allowlisted(url: URL, env: Env = process.env): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allowedHosts(env).some((h) => h === host || h === `${host}:${port}`);
}

/** Why `text` may not be a webhook URL, or null. Never quotes the value (it may be a variable's secret). */
export function webhookUrlProblem(text: string, env: Env = process.env): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not carry a user name or password";
  const listed = allowlisted(url, env);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && listed))
    return `must be https (http only for hosts in ${WEBHOOK_ALLOWED_HOSTS_ENV})`;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (!listed && (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal") || forbiddenAddress(host)))
    return `must not point at a loopback, link-local, private or metadata address (list the host in ${WEBHOOK_ALLOWED_HOSTS_ENV} to allow it)`;
  return null;
}

/** Why a channel's target (a URL, or env:NAME) is not allowed, or null. */
export function webhookTargetProblem(target: string, env: Env = process.env): string | null {
  const m = /^env:(.+)$/.exec(target);
  if (!m) return webhookUrlProblem(target, env);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(m[1])) return "env: must name an environment variable";
  if (!m[1].toUpperCase().startsWith(WEBHOOK_ENV_PREFIX)) return `env: variables must start with ${WEBHOOK_ENV_PREFIX} (a webhook reads no other variable)`;
  return null;
}

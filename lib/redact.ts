// Secrets never reach a text a user can read. Driver errors, webhook failures and hints may quote a connection
// string, a URL with its password, or the value of a variable that was named where a URL was expected; every such
// text is redacted before it is stored (run and table errors, hints, notification outcomes, audit details) or logged.
// What is removed: the password of a URL's userinfo, `password=...`-style pairs of connection strings, and the
// values of the process's secret variables wherever they appear.

type Env = Record<string, string | undefined>;

export const REDACTED = "***";

/** Variables whose values are secrets: by name (…PASSWORD, …SECRET, …TOKEN, …KEY, …_URL) . */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|_KEY|_URL|^DATABASE_URL)$/i;

function secretValues(env: Env): string[] {
  return Object.entries(env)
    .filter(([name, v]) => SECRET_NAME.test(name) && v && v.length >= 8 && (v.length >= 16 || /[^A-Za-z]/.test(v)))
    .map(([, v]) => v!)
    .sort((a, b) => b.length - a.length);
}

let cache: { env: Env; values: string[] } | null = null;

export function redact(text: string, env: Env = process.env): string {
  if (!text) return text;
  if (cache?.env !== env) cache = { env, values: secretValues(env) };
  let out = text;
  // Whole secret values first (a URL held in a variable goes as a whole, userinfo and all).
  for (const v of cache.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
  return out
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#@]*)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(/\b(password|pwd|passwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|sig)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s;,&"']+)/gi, (_m, key: string, eq: string) => `${key}${eq}${REDACTED}`);
}

/** Every string inside a JSON-like value, redacted. */
export function redactDeep<T>(value: T, env: Env = process.env): T {
  if (typeof value === "string") return redact(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, env)) as T;
  if (value && typeof value === "object" && !(value instanceof Date) && !Buffer.isBuffer(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, env)])) as T;
  return value;
}

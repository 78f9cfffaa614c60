import { pino, stdTimeFunctions, type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Where lines go: a function called with each line (`\n` included), or a stream such as pino-pretty's. */
export type LogOutput = ((line: string) => void) | DestinationStream;

/** What replaces a secret in a log line. */
export const REDACTED = '[redacted]';

/** Field names (compared in lower case) that may carry a secret. */
const SECRET_KEYS = [
  'token', 'accesstoken', 'refreshtoken', 'access_token', 'refresh_token', 'jwt', 'authorization', 'proxy-authorization',
  'cookie', 'set-cookie', 'apikey', 'api_key', 'x-api-key', 'key', 'secret', 'jwtsecret', 'sessionsecret', 'password', 'passcode',
  'credentials', 'postgresurl', 'connectionstring', 'adminpassword', 'adminkey',
];
const SECRET = new Set(SECRET_KEYS);
/** Fields that may hold a URL: logged without their query (where a token may ride). */
const URL_KEYS = new Set(['url', 'href']);
/** How deep `clean` looks into nested objects and arrays. */
const MAX_DEPTH = 4;
const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g;
/** A PEM private key block, or what is left of one cut short. */
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[^]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/**
 * pino's own redaction, for the top-level names (the cheap paths: fast-redact's wildcard paths cost
 * tens of microseconds per line); `clean` covers the same names deeper, and more.
 */
const REDACT_PATHS = [...SECRET_KEYS, 'accessToken', 'refreshToken', 'apiKey', 'jwtSecret', 'sessionSecret', 'postgresUrl', 'connectionString', 'adminPassword', 'adminKey']
  .map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`));

/** `scheme://user:password@`: the password of a database URL. */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i;

function cleanString(key: string, v: string): string {
  if (URL_KEYS.has(key)) v = v.replace(/[?#].*$/s, '').replace(URL_PASSWORD, `$1:${REDACTED}@`);
  if (v.includes('PRIVATE KEY-----')) v = v.replace(PEM_KEY, REDACTED);
  return v.includes('eyJ') ? v.replace(JWT, REDACTED) : v;
}

/**
 * `value` with secret-named fields (and `[name, value]` pairs, as STOMP headers come) replaced by
 * REDACTED, `url`/`href` fields without their query,
 * and JWT-shaped text replaced, down to MAX_DEPTH levels of arrays and plain objects (not into
 * errors, buffers or class instances); the same object when nothing changed (the caller's objects
 * are never modified).
 */
function clean(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    if (value.length === 2 && typeof value[0] === 'string' && SECRET.has(value[0].toLowerCase())) return [value[0], REDACTED];
    let out: unknown[] | undefined;
    value.forEach((v: unknown, i) => {
      const c = typeof v === 'string' ? cleanString('', v) : clean(v, depth + 1);
      if (c !== v) (out ??= [...(value as unknown[])])[i] = c;
    });
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const c = SECRET.has(k.toLowerCase()) ? REDACTED : typeof v === 'string' ? cleanString(k, v) : clean(v, depth + 1);
    if (c !== v) (out ??= { ...obj })[k] = c;
  }
  return out ?? obj;
}

/**
 * Structured logs through pino: one JSON object per line, `{level: "info", time: ISO 8601, msg,
 * ...fields}`, on stderr unless `out` says otherwise. Fields named like a secret (token,
 * authorization, cookie, apiKey, key, secret, password, passcode, postgresUrl, …; any case) are replaced by
 * REDACTED up to four objects deep; `url` and `href` fields lose their query and a password in `scheme://user:password@`;
 * JWT-shaped text and PEM private-key blocks in string fields are redacted. Costs a few microseconds per line written, nothing for a disabled level.
 */
export function createLogger(level: LogLevel = 'info', out: LogOutput = pino.destination({ fd: 2, sync: true })): Logger {
  const stream: DestinationStream = typeof out === 'function' ? { write: out } : out;
  const p = pino({
    level,
    base: undefined,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }), log: (fields) => clean(fields, 0) as Record<string, unknown> },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
  }, stream);
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
  };
}

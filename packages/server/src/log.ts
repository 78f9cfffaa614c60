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

/** Field names that may carry a secret; redacted at the top level and up to three levels down. */
const SECRET_KEYS = [
  'token', 'accessToken', 'refreshToken', 'access_token', 'jwt', 'authorization', 'cookie', 'set-cookie',
  'apiKey', 'api_key', 'x-api-key', 'key', 'secret', 'jwtSecret', 'sessionSecret', 'password', 'passcode', 'credentials',
];
/** Fields that may hold a URL: logged without their query (where a token may ride). */
const URL_KEYS = ['url', 'href'];

function paths(keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const seg = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
    const dot = seg.startsWith('[') ? seg : `.${seg}`;
    out.push(seg, `*${dot}`, `*.*${dot}`, `*.*.*${dot}`);
  }
  return out;
}

const JWT = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g;

function censor(value: unknown, path: string[]): unknown {
  if (URL_KEYS.includes(path[path.length - 1] ?? '') && typeof value === 'string') return value.replace(/[?#].*$/s, '');
  return REDACTED;
}

/** Strips anything shaped like a JWT out of top-level string fields: a net under the named paths. */
function scrub(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v !== 'string' || !v.includes('eyJ')) continue;
    if (out === fields) out = { ...fields };
    out[k] = v.replace(JWT, REDACTED);
  }
  return out;
}

/**
 * Structured logs through pino: one JSON object per line, `{level: "info", time: ISO 8601, msg,
 * ...fields}`, on stderr unless `out` says otherwise. Fields named like a secret (token,
 * authorization, cookie, apiKey, key, secret, password, passcode, …) are replaced by REDACTED at
 * any depth up to four; `url` fields lose their query; JWT-shaped text in top-level string fields
 * is redacted.
 */
export function createLogger(level: LogLevel = 'info', out: LogOutput = pino.destination({ fd: 2, sync: true })): Logger {
  const stream: DestinationStream = typeof out === 'function' ? { write: out } : out;
  const p = pino({
    level,
    base: undefined,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }), log: scrub },
    redact: { paths: [...paths(SECRET_KEYS), ...paths(URL_KEYS)], censor },
  }, stream);
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
  };
}

/**
 * Every setting of `tidings serve`, once: its flag, environment variable, config-file key,
 * type, default and description. The schema that validates flags, env and the config file,
 * `--help` and docs/configuration.md all come from here.
 */
import { expected, namespacesSchema, notificationTypesSchema, proxyOptionsSchema, type NamespaceOptions, type ProxyOptionsInput } from '@tidings/server';
import { z } from 'zod';

export type SettingType = 'int' | 'string' | 'list' | 'enum' | 'file';

export interface Setting {
  /** Flag name without `--`; the env var is TIDINGS_ + upper snake case; the config key is camelCase. */
  readonly flag: string;
  readonly type: SettingType;
  readonly description: string;
  readonly default?: string;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
}

export const SETTINGS: readonly Setting[] = [
  { flag: 'port', type: 'int', min: 0, max: 65535, default: '8080', description: 'HTTP port serving every endpoint' },
  { flag: 'host', type: 'string', default: '0.0.0.0', description: 'Interface to listen on' },
  { flag: 'stomp-port', type: 'int', min: 0, max: 65535, description: 'TCP port for STOMP 1.0–1.2 clients; off unless set (STOMP over /ws is always on)' },
  { flag: 'tls-cert', type: 'file', description: 'PEM certificate chain: serve HTTPS and WSS on --port (every endpoint); reread on SIGHUP. Needs --tls-key' },
  { flag: 'tls-key', type: 'file', description: 'PEM private key of --tls-cert; reread on SIGHUP (a bad new pair keeps the old one and logs an error)' },
  { flag: 'stomp-tls', type: 'enum', values: ['off', 'on'], default: 'off', description: 'Serve STOMP over TLS on --stomp-port with the --tls-cert certificate' },
  { flag: 'trust-proxy', type: 'list', description: 'Comma-separated CIDRs or addresses of reverse proxies (`127.0.0.1/32,10.0.0.0/8`) whose X-Forwarded-For, X-Forwarded-Proto and Forwarded headers give the client address and scheme' },
  { flag: 'stomp-queue-max-length', type: 'int', min: 1, default: '10000', description: 'Messages one STOMP `/queue/…` holds, waiting plus unacknowledged; a SEND beyond gets ERROR 121 (`queue_full`)' },
  { flag: 'stomp-queue-redeliver-after', type: 'int', min: 100, default: '30000', description: 'Milliseconds before messages a dead node\'s STOMP queue consumers held unacknowledged go to other consumers (`--engine redis`)' },
  { flag: 'config', type: 'file', description: 'JSON config file (any setting by its camelCase name, plus `namespaces`, `proxy` and `notificationTypes`)' },
  { flag: 'api-key', type: 'string', description: 'Key for the server API (`X-API-Key`); without one the API refuses every call' },
  { flag: 'jwt-secret', type: 'string', description: 'HS256/384/512 secret for client tokens' },
  { flag: 'jwt-public-key', type: 'file', description: 'PEM file with an RSA, EC or Ed25519 public key for client tokens' },
  { flag: 'jwks', type: 'string', description: 'JWKS URL (http/https) or JWKS JSON file for client tokens' },
  { flag: 'jwt-audience', type: 'string', description: 'Required `aud` claim, when set' },
  { flag: 'jwt-issuer', type: 'string', description: 'Required `iss` claim, when set' },
  { flag: 'allowed-origins', type: 'list', description: 'Comma-separated browser origins allowed to connect; `*` for any; empty: same origin only' },
  { flag: 'max-message-size', type: 'int', min: 64, default: '65536', description: 'Largest client message, API body or payload, in bytes' },
  { flag: 'max-subscriptions', type: 'int', min: 1, default: '128', description: 'Subscriptions per connection' },
  { flag: 'max-queue-bytes', type: 'int', min: 1024, default: '1048576', description: 'Outbound bytes queued per connection before it is closed as slow (3001)' },
  { flag: 'max-connections', type: 'int', min: 1, default: '100000', description: 'Connections per node; more are closed with 3006' },
  { flag: 'max-depth', type: 'int', min: 1, max: 1000, default: '64', description: 'Deepest nesting of arrays and objects in a payload; deeper is refused (107)' },
  { flag: 'history-size', type: 'int', min: 0, default: '100', description: 'Publications kept per channel in the default and `user` namespaces' },
  { flag: 'history-ttl', type: 'int', min: 1, default: '600', description: 'Seconds history lives after a channel\'s last publication (default and `user` namespaces)' },
  { flag: 'token-refresh-lead', type: 'int', min: 1, default: '10', description: 'Seconds before token expiry at which the server asks for a refresh' },
  { flag: 'connect-timeout', type: 'int', min: 1, default: '10', description: 'Seconds a WebSocket connection has to send `connect`' },
  { flag: 'server-subscription-ttl', type: 'int', min: 1, max: 2592000, default: '86400', description: 'Seconds a server-side subscription made by `POST /api/subscribe` is remembered for the user\'s reconnects (Redis; the memory engine keeps it until unsubscribed)' },
  { flag: 'ws-compression', type: 'enum', values: ['off', 'on', 'takeover'], default: 'off', description: 'permessage-deflate on /ws (JSON protocol; STOMP stays uncompressed): `on` compresses each message alone, once per broadcast for every compressing client; `takeover` compresses per connection with its last 4 KiB as context (smaller, one compression per message per connection); a bare flag is `on`' },
  { flag: 'ping-interval', type: 'int', min: 1, default: '25', description: 'Seconds between WebSocket pings; a missed pong closes the connection (3002)' },
  { flag: 'body-timeout', type: 'int', min: 1, max: 3600, default: '30', description: 'Seconds a request body (server API, /emulation) has to arrive in full after its head; also the head limit when under 10 s; slower ones get 408 (code 107)' },
  { flag: 'shutdown-timeout', type: 'int', min: 0, default: '10', description: 'Seconds a graceful shutdown waits for clients to leave' },
  { flag: 'sockjs-prefix', type: 'string', default: '/sockjs', description: 'Path of the SockJS endpoint (sockjs-client 1.x, protocol 0.3.3)' },
  { flag: 'sockjs-aliases', type: 'list', description: 'Comma-separated extra paths serving SockJS, e.g. `/ws-stomp` for Spring front ends' },
  { flag: 'sockjs-client-url', type: 'string', default: 'https://cdn.jsdelivr.net/npm/sockjs-client@1.6.1/dist/sockjs.min.js', description: 'sockjs-client script that SockJS `iframe.html` loads (iframe transports)' },
  { flag: 'sockjs-heartbeat', type: 'int', min: 1, default: '25', description: 'Seconds of silence before SockJS sends a heartbeat frame `h`' },
  { flag: 'sockjs-disconnect-delay', type: 'int', min: 1, default: '5', description: 'Seconds a SockJS session lives without a receiving request' },
  { flag: 'sockjs-response-limit', type: 'int', min: 1024, default: '131072', description: 'Bytes a SockJS streaming response carries before the client opens the next' },
  { flag: 'sockjs-jsessionid', type: 'enum', values: ['off', 'on'], default: 'off', description: 'Set a `JSESSIONID` cookie on SockJS responses (sticky load balancers)' },
  { flag: 'engine', type: 'enum', values: ['memory', 'redis'], default: 'memory', description: 'Engine connecting nodes: `memory` (one process, nothing to install) or `redis` (a cluster of nodes)' },
  { flag: 'redis-url', type: 'string', default: 'redis://127.0.0.1:6379', description: 'Redis URL for `--engine redis` (`redis://[:password@]host:port[/db]`, `rediss://` for TLS)' },
  { flag: 'redis-cluster', type: 'list', description: 'Comma-separated `host:port` seeds of a Redis Cluster for `--engine redis` (sharded pub/sub); replaces --redis-url' },
  { flag: 'redis-prefix', type: 'string', default: 'tidings', description: 'Prefix of every Redis key and pub/sub channel, so deployments can share a Redis' },
  { flag: 'store', type: 'enum', values: ['sqlite', 'memory', 'postgres'], default: 'sqlite', description: 'Where notifications and schedules live: `sqlite` (durable, in --data-dir, one machine), `postgres` (durable, shared by a cluster: --postgres-url) or `memory` (gone on exit)' },
  { flag: 'data-dir', type: 'string', default: 'data', description: 'Directory of the SQLite store (`tidings.db`), created when missing' },
  { flag: 'postgres-url', type: 'string', description: 'PostgreSQL URL for `--store postgres` (`postgres://user:password@host:5432/db`, `?sslmode=require` for TLS); a secret: never logged' },
  { flag: 'postgres-pool-size', type: 'int', min: 1, max: 1000, default: '10', description: 'Connections each node opens to PostgreSQL at most' },
  { flag: 'postgres-statement-timeout', type: 'int', min: 100, max: 600000, default: '5000', description: 'Milliseconds a PostgreSQL statement may run before it is cancelled (the API answers 503, code 120)' },
  { flag: 'metrics', type: 'enum', values: ['on', 'off'], default: 'on', description: 'Serve `GET /metrics` (Prometheus text format); `off` also times and samples nothing' },
  { flag: 'metrics-port', type: 'int', min: 0, max: 65535, description: 'Serve /metrics only on this separate (internal) port, not the main one' },
  { flag: 'metrics-key', type: 'string', description: 'Key /metrics then requires (`Authorization: Bearer <key>` or `X-Metrics-Key`); open when unset' },
  { flag: 'admin-password', type: 'string', description: 'Password of the admin console at /admin (docs/admin.md); the console is off (404) without it or --admin-key. A secret: never logged' },
  { flag: 'admin-key', type: 'string', description: 'Admin key (16+ characters): `Authorization: Bearer <key>` on /admin/api/* for scripts, also accepted by the login form; never logged' },
  { flag: 'connect-proxy', type: 'string', description: 'URL the connect proxy POSTs to when a client brings no token (docs/proxy.md); off unless set' },
  { flag: 'connect-proxy-always', type: 'enum', values: ['off', 'on'], default: 'off', description: 'Ask the connect proxy on every connect, also when the client brought a valid token' },
  { flag: 'refresh-proxy', type: 'string', description: 'URL that refreshes sessions the connect proxy made when their `expireAt` passes; without it they close (3005)' },
  { flag: 'subscribe-proxy', type: 'string', description: 'URL asked before subscriptions in namespaces with `subscribeProxy: true`' },
  { flag: 'publish-proxy', type: 'string', description: 'URL asked (and able to replace the data) before client publications in namespaces with `publishProxy: true`' },
  { flag: 'rpc-proxy', type: 'string', description: 'URL the `rpc` command (and STOMP SEND to `/app/<method>`) is forwarded to' },
  { flag: 'notification-action-proxy', type: 'string', description: 'URL told when a user completes a notification\'s action (docs/notifications.md#actions); off unless set' },
  { flag: 'muted-notification-types', type: 'list', description: 'Comma-separated notification types muted for users who did not choose otherwise (also `notificationTypes.<type>.muted` in the config file)' },
  { flag: 'critical-notification-types', type: 'list', description: 'Comma-separated notification types users cannot mute (130 `type_critical`; also `notificationTypes.<type>.critical`)' },
  { flag: 'proxy-timeout', type: 'int', min: 1, max: 600000, default: '5000', description: 'Milliseconds the backend has to answer a proxy call; then the client gets 125' },
  { flag: 'proxy-secret', type: 'string', description: 'Sent as `X-Tidings-Proxy-Secret` on every proxy call, so the backend can tell the call is from Tidings; never logged' },
  { flag: 'proxy-headers', type: 'list', default: 'cookie,authorization,origin,user-agent,x-forwarded-for', description: 'Comma-separated request headers the connect proxy is sent (lowercase)' },
  { flag: 'proxy-concurrency', type: 'int', min: 1, max: 100000, default: '64', description: 'Proxy calls in flight at once on a node' },
  { flag: 'proxy-queue', type: 'int', min: 0, max: 1000000, default: '1024', description: 'Proxy calls waiting for a free slot; one more fails at once with 127' },
  { flag: 'demo', type: 'enum', values: ['off', 'on'], default: 'off', description: 'Serve the demo (never in production): the page at /demo/, POST /demo/token signing a token for any name asked (with an ephemeral secret when --jwt-secret is unset), a `chat` room and a `ticker:prices` channel ticking every second (docs/demo.md)' },
  { flag: 'log-level', type: 'enum', values: ['debug', 'info', 'warn', 'error', 'silent'], default: 'info', description: 'Log level (stderr); `debug` adds connection opens and closes' },
  { flag: 'log-format', type: 'enum', values: ['json', 'pretty'], default: 'json', description: 'Log lines as JSON (one object per line) or `pretty`: readable, colored on a terminal' },
];

export function envName(flag: string): string {
  return `TIDINGS_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export function configKey(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What a setting's value must be, for messages and docs: `an integer from 0 to 65535`, `one of memory, redis`. */
export function expectedValue(s: Setting): string {
  switch (s.type) {
    case 'int':
      if (s.min !== undefined && s.max !== undefined) return `an integer from ${s.min} to ${s.max}`;
      return s.min !== undefined ? `an integer ≥ ${s.min}` : 'an integer';
    case 'enum':
      return `one of ${s.values?.join(', ')}`;
    case 'list':
      return 'a list of strings (an array, or one comma-separated string)';
    case 'file':
      return 'a file path';
    case 'string':
      return 'a non-empty string';
  }
}

/**
 * The schema of one setting's value. The config file's JSON value goes through it as it is
 * (an int must be a JSON number, a list an array of strings or one comma-separated string);
 * a flag or env value is a string, turned into a number first for an int (see `fromText`).
 */
export function settingSchema(s: Setting): z.ZodType<unknown> {
  const what = expected(expectedValue(s));
  switch (s.type) {
    case 'int': {
      const n = s.min === undefined ? z.int(what) : z.int(what).min(s.min, what);
      return s.max === undefined ? n : n.max(s.max, what);
    }
    case 'enum':
      return z.enum(s.values as [string, ...string[]], what);
    case 'list':
      return z.preprocess(
        (v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v),
        z.array(z.string(expected('a string')), what),
      );
    case 'file':
    case 'string':
      return z.string(what).min(1, what);
  }
}

/** A flag's or env var's text as the setting's value, validated; an error message when it is not one. */
export function fromText(s: Setting, text: string): { value: unknown } | { error: string } {
  if (s.type === 'int' && !/^-?\d+$/.test(text)) return { error: `expected ${expectedValue(s)}, got ${JSON.stringify(text)}` };
  const result = settingSchema(s).safeParse(s.type === 'int' ? Number(text) : text);
  return result.success ? { value: result.data } : { error: result.error.issues[0]?.message ?? 'invalid value' };
}

/** A validated config file: setting values by config key, and namespaces. */
export interface ConfigFile {
  [key: string]: unknown;
  namespaces?: Record<string, Partial<NamespaceOptions>> | undefined;
  /** Per-proxy settings (`proxy.connect.{url,timeout,headers,always}`, …), over the flat ones. */
  proxy?: ProxyOptionsInput | undefined;
  /** Per notification type: `{muted?, critical?}` (docs/notifications.md#preferences). */
  notificationTypes?: Record<string, { muted?: boolean | undefined; critical?: boolean | undefined }> | undefined;
}

/** The config file: any setting but `config` by its camelCase key, plus `namespaces`, `proxy` and `notificationTypes`; unknown keys are refused. */
export function configFileSchema(): z.ZodType<ConfigFile> {
  const shape: Record<string, z.ZodType<unknown>> = {};
  for (const s of SETTINGS) if (s.flag !== 'config') shape[configKey(s.flag)] = settingSchema(s).optional();
  return z.strictObject({ ...shape, namespaces: namespacesSchema.optional(), proxy: proxyOptionsSchema.optional(), notificationTypes: notificationTypesSchema.optional() }, expected('a JSON object'));
}

export function helpText(): string {
  const rows = SETTINGS.map((s) => {
    const left = `  --${s.flag}${s.type === 'enum' ? ` <${s.values?.join('|')}>` : ` <${s.type === 'int' ? 'n' : s.type === 'list' ? 'a,b' : s.type === 'file' ? 'path' : 'value'}>`}`;
    const def = s.default !== undefined ? ` (default ${s.default})` : '';
    return `${left.padEnd(40)} ${s.description}${def}\n${' '.repeat(41)}env ${envName(s.flag)}`;
  });
  return `Usage: tidings serve [options]

Starts a Tidings node: WebSocket /ws, server API /api/*, /healthz, /readyz on one HTTP port.
Settings come from flags, then TIDINGS_* environment variables, then the config file, then defaults.
A bad value, an unknown flag or an unknown config key exits with code 2 and names the setting.
An off|on flag given without a value is on (--demo is --demo on, --ws-compression is --ws-compression on).

Options:
${rows.join('\n')}
  --help                                   This text
  --version                                Print the version
`;
}

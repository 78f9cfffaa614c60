/**
 * What `tidings serve` says once it listens: every endpoint's URL, the engine and store in use,
 * and the settings that make something refuse (foot-guns). Printed as a short banner in pretty
 * log mode; in JSON log mode the same facts go into the `listening` line and one `warn` line per
 * warning, so the log stays one JSON object per line.
 */
import type { AddressInfo } from 'node:net';
import type { ServeConfig } from './config.js';

/** One endpoint: a short name and its URL as a client on this machine would reach it. */
export interface Endpoint {
  name: string;
  url: string;
  /** A few words on what it is or why it is off. */
  note?: string;
}

/** A setting that refuses something a newcomer probably wants, with how to fix it. */
export interface Warning {
  /** The flag (without `--`) the warning is about. */
  setting: string;
  message: string;
}

export interface StartupReport {
  version: string;
  endpoints: Endpoint[];
  engine: { name: 'memory' | 'redis'; note: string };
  store: { name: 'sqlite' | 'memory' | 'postgres'; note: string };
  warnings: Warning[];
}

/** Where the node listens once started: the HTTP port, and the STOMP TCP and metrics ports when on. */
export interface Listening {
  http: AddressInfo;
  stomp?: AddressInfo | undefined;
  metrics?: AddressInfo | undefined;
}

/** `0.0.0.0` and `::` as `localhost` (the address to try first), IPv6 literals in brackets. */
function hostForUrl(address: string): string {
  if (address === '0.0.0.0' || address === '::') return 'localhost';
  return address.includes(':') ? `[${address}]` : address;
}

/** The start-up facts for `config`, listening at `at`. */
export function startupReport(config: ServeConfig, at: Listening, version: string): StartupReport {
  const s = config.server;
  const host = hostForUrl(at.http.address);
  const secure = config.server.tls !== undefined;
  const http = `${secure ? 'https' : 'http'}://${host}:${at.http.port}`;
  const endpoints: Endpoint[] = [
    { name: 'WebSocket', url: `${secure ? 'wss' : 'ws'}://${host}:${at.http.port}/ws`, note: 'JSON protocol; STOMP 1.0–1.2 with a v1x.stomp subprotocol' },
    { name: 'SSE', url: `${http}/sse` },
    { name: 'Streaming', url: `${http}/stream`, note: 'newline-delimited JSON' },
    { name: 'Polling', url: `${http}/poll` },
    { name: 'Emulation', url: `${http}/emulation`, note: 'commands for SSE, streaming and polling' },
  ];
  const sockjs = s.sockjs?.prefix ?? '/sockjs';
  const aliases = s.sockjs?.aliases ?? [];
  endpoints.push({ name: 'SockJS', url: `${http}${sockjs}`, ...(aliases.length > 0 ? { note: `also ${aliases.join(', ')}` } : {}) });
  endpoints.push(s.apiKey
    ? { name: 'Server API', url: `${http}/api/`, note: `X-API-Key; OpenAPI at ${http}/api/openapi.json` }
    : { name: 'Server API', url: `${http}/api/`, note: 'disabled: no API key' });
  if (s.metrics === false) endpoints.push({ name: 'Metrics', url: 'off', note: '--metrics off' });
  else {
    const url = at.metrics ? `http://${hostForUrl(at.metrics.address)}:${at.metrics.port}/metrics` : `${http}/metrics`;
    endpoints.push({ name: 'Metrics', url, note: s.metricsKey ? 'needs the metrics key' : 'open to anyone who reaches the port' });
  }
  endpoints.push(s.adminPassword || s.adminKey
    ? { name: 'Admin', url: `${http}/admin/`, note: s.adminPassword ? 'login with --admin-password' : 'login with --admin-key' }
    : { name: 'Admin', url: 'off', note: 'set --admin-password to turn on the admin console at /admin' });
  endpoints.push({ name: 'SDK', url: `${http}/client/tidings.min.js`, note: 'also tidings-fallback.min.js and IIFE forms' });
  if (s.demo === true) endpoints.push({ name: 'Demo', url: `${http}/demo/`, note: 'DEMO MODE: not for production' });
  endpoints.push({ name: 'Health', url: `${http}/healthz`, note: `readiness at ${http}/readyz` });
  if (at.stomp) endpoints.push({ name: 'STOMP TCP', url: `${config.server.stompTls ? 'stomp+ssl' : 'stomp'}://${hostForUrl(at.stomp.address)}:${at.stomp.port}` });

  const engine = config.engine === 'memory'
    ? { name: 'memory' as const, note: 'one process, a single node; --engine redis runs several' }
    : { name: 'redis' as const, note: config.redisCluster.length > 0 ? `Redis Cluster (${config.redisCluster.length} seeds), prefix ${config.redisPrefix}` : `prefix ${config.redisPrefix}` };
  const store = config.store === 'sqlite'
    ? { name: 'sqlite' as const, note: `${config.dataDir}/tidings.db` }
    : config.store === 'postgres'
      ? { name: 'postgres' as const, note: `pool of ${config.postgres?.poolSize ?? 0}, shared by every node on the database` }
      : { name: 'memory' as const, note: 'notifications are gone when the process exits' };
  return { version, endpoints, engine, store, warnings: warnings(config) };
}

/** The settings that refuse what a first user likely wants, each with its fix. */
export function warnings(config: ServeConfig): Warning[] {
  const s = config.server;
  const out: Warning[] = [];
  const demo = s.demo === true;
  if (demo) {
    out.push({
      setting: 'demo',
      message: 'DEMO MODE (--demo): NOT FOR PRODUCTION. POST /demo/token signs a token for any name anyone asks for'
        + (s.jwt?.secret ? ', with your --jwt-secret: anyone who reaches this port can act as any user' : ', with an ephemeral secret made at start-up')
        + '; /demo/ serves the demo page and a ticker publishes on ticker:prices every second',
    });
  }
  if ((s.allowedOrigins ?? []).length === 0) {
    out.push({
      setting: 'allowed-origins',
      message: (demo
        ? 'no --allowed-origins: every browser page but the demo\'s own (same origin) is refused; '
        : 'no --allowed-origins: every browser page is refused, since this server serves no page of its own; ')
        + 'set --allowed-origins https://app.example (or TIDINGS_ALLOWED_ORIGINS)',
    });
  }
  if (!s.apiKey) out.push({ setting: 'api-key', message: 'the server API is disabled: set --api-key or TIDINGS_API_KEY to enable /api/*' });
  if (!demo && !s.jwt?.secret && !s.jwt?.publicKey && !s.jwt?.jwks) {
    out.push({
      setting: 'jwt-secret',
      message: 'no --jwt-secret, --jwt-public-key or --jwks: every client is anonymous, and the personal channels '
        + '(user:<id>, inbox:<id>) refuse them',
    });
  }
  if (config.engine === 'redis' && config.store === 'sqlite') {
    out.push({
      setting: 'store',
      message: `--engine redis with --store sqlite: notifications live in this node's ${config.dataDir}/tidings.db; nodes that do not share it see different inboxes`,
    });
  }
  return out;
}

/** The report as a short block of text for a terminal (no colors). */
export function bannerText(r: StartupReport): string {
  const width = Math.max(...r.endpoints.map((e) => e.name.length), 'Engine'.length) + 2;
  const row = (name: string, value: string, note?: string): string => `  ${name.padEnd(width)}${value}${note ? `  (${note})` : ''}`;
  const lines = [
    `Tidings ${r.version} is listening`,
    ...r.endpoints.map((e) => row(e.name, e.url, e.note)),
    row('Engine', r.engine.name, r.engine.note),
    row('Store', r.store.name, r.store.note),
  ];
  for (const w of r.warnings) lines.push(`  warning: ${w.message}`);
  return `${lines.join('\n')}\n`;
}

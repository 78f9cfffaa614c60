import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveOptions, type LogLevel, type NamespaceOptions, type ServerOptionsInput } from '@tidings/server';
import { SETTINGS, configKey, envName, type Setting } from './settings.js';

/** A setting with a bad value: the CLI prints it and exits with code 2. */
export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface ServeConfig {
  port: number;
  host: string;
  engine: 'memory' | 'redis';
  redisUrl: string;
  /** Redis Cluster seeds; empty for a standalone Redis. */
  redisCluster: Array<{ host: string; port: number }>;
  redisPrefix: string;
  store: 'sqlite' | 'memory';
  dataDir: string;
  logLevel: LogLevel;
  server: ServerOptionsInput;
}

type Raw = Map<string, { value: unknown; source: string }>;

/** Reads flags, then TIDINGS_* env vars, then the config file; validates everything. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const raw: Raw = new Map();
  const byFlag = new Map(SETTINGS.map((s) => [s.flag, s]));

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(arg, 'unexpected argument (see --help)');
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (!byFlag.has(flag)) throw new ConfigError(`--${flag}`, 'unknown option (see --help)');
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`--${flag}`, 'a value is required');
    raw.set(flag, { value, source: `--${flag}` });
  }
  for (const s of SETTINGS) {
    const v = env[envName(s.flag)];
    if (v !== undefined && v !== '' && !raw.has(s.flag)) raw.set(s.flag, { value: v, source: envName(s.flag) });
  }
  let namespaces: Record<string, Partial<NamespaceOptions>> | undefined;
  const configFile = raw.get('config');
  if (configFile) {
    const file = parseValue(byFlag.get('config')!, configFile.value, configFile.source) as string;
    const json = readConfigFile(file, configFile.source);
    for (const [key, value] of Object.entries(json)) {
      if (key === 'namespaces') {
        namespaces = value as Record<string, Partial<NamespaceOptions>>;
        continue;
      }
      const s = SETTINGS.find((x) => configKey(x.flag) === key);
      if (!s || s.flag === 'config') throw new ConfigError(`${file}: ${key}`, 'unknown setting');
      if (!raw.has(s.flag)) raw.set(s.flag, { value, source: `${file}: ${key}` });
    }
  }

  const values = new Map<string, unknown>();
  for (const s of SETTINGS) {
    const given = raw.get(s.flag);
    if (given) values.set(s.flag, parseValue(s, given.value, given.source));
    else if (s.default !== undefined) values.set(s.flag, parseValue(s, s.default, `--${s.flag}`));
  }
  const get = <T>(flag: string): T | undefined => values.get(flag) as T | undefined;

  const historySize = get<number>('history-size')!;
  const historyTtl = get<number>('history-ttl')!;
  const publicKeyFile = get<string>('jwt-public-key');
  const server: ServerOptionsInput = {
    apiKey: get<string>('api-key'),
    jwt: {
      ...(get<string>('jwt-secret') ? { secret: get<string>('jwt-secret') } : {}),
      ...(publicKeyFile ? { publicKey: readPublicKey(publicKeyFile, raw.get('jwt-public-key')!.source) } : {}),
      ...(get<string>('jwks') ? { jwks: get<string>('jwks') } : {}),
      ...(get<string>('jwt-audience') ? { audience: get<string>('jwt-audience') } : {}),
      ...(get<string>('jwt-issuer') ? { issuer: get<string>('jwt-issuer') } : {}),
    },
    allowedOrigins: get<string[]>('allowed-origins') ?? [],
    limits: {
      maxMessageSize: get<number>('max-message-size')!,
      maxSubscriptions: get<number>('max-subscriptions')!,
      maxQueueBytes: get<number>('max-queue-bytes')!,
      maxConnections: get<number>('max-connections')!,
      maxDepth: get<number>('max-depth')!,
    },
    namespaces: {
      '': { historySize, historyTtl },
      user: { historySize, historyTtl, subscribe: 'owner' },
      ...namespaces,
    },
    tokenRefreshLead: get<number>('token-refresh-lead')!,
    connectTimeout: get<number>('connect-timeout')!,
    pingInterval: get<number>('ping-interval')!,
    shutdownTimeout: get<number>('shutdown-timeout')!,
    bodyTimeout: get<number>('body-timeout')!,
    stompPort: get<number>('stomp-port'),
    sockjs: {
      prefix: get<string>('sockjs-prefix')!,
      aliases: get<string[]>('sockjs-aliases') ?? [],
      clientUrl: get<string>('sockjs-client-url')!,
      heartbeat: get<number>('sockjs-heartbeat')!,
      disconnectDelay: get<number>('sockjs-disconnect-delay')!,
      responseLimit: get<number>('sockjs-response-limit')!,
      jsessionid: get<string>('sockjs-jsessionid') === 'on',
    },
  };
  try {
    resolveOptions(server);
  } catch (err) {
    throw new ConfigError(configFile ? `${configFile.value as string}: namespaces` : 'namespaces', (err as Error).message);
  }
  return {
    port: get<number>('port')!,
    host: get<string>('host')!,
    engine: get<'memory' | 'redis'>('engine')!,
    redisUrl: get<string>('redis-url')!,
    redisCluster: (get<string[]>('redis-cluster') ?? []).map((seed) => parseSeed(seed, raw.get('redis-cluster')!.source)),
    redisPrefix: get<string>('redis-prefix')!,
    store: get<'sqlite' | 'memory'>('store')!,
    dataDir: get<string>('data-dir')!,
    logLevel: get<LogLevel>('log-level')!,
    server,
  };
}

function parseValue(s: Setting, value: unknown, source: string): unknown {
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
  switch (s.type) {
    case 'int': {
      const n = text !== undefined && /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(n) || (s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max)) {
        throw new ConfigError(source, `must be an integer${range(s)}, got ${JSON.stringify(value)}`);
      }
      return n;
    }
    case 'enum':
      if (text === undefined || !s.values?.includes(text)) throw new ConfigError(source, `must be one of ${s.values?.join(', ')}, got ${JSON.stringify(value)}`);
      return text;
    case 'list':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      if (text === undefined) throw new ConfigError(source, 'must be a comma-separated list');
      return text.split(',').map((x) => x.trim()).filter(Boolean);
    case 'file':
    case 'string':
      if (text === undefined || text === '') throw new ConfigError(source, 'must be a non-empty string');
      return text;
  }
}

function range(s: Setting): string {
  if (s.min !== undefined && s.max !== undefined) return ` from ${s.min} to ${s.max}`;
  if (s.min !== undefined) return ` ≥ ${s.min}`;
  return '';
}

function readConfigFile(file: string, source: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(source, `cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(source, `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(source, `${file} must hold a JSON object`);
  return json as Record<string, unknown>;
}

function readPublicKey(file: string, source: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    createPublicKey(pem);
    return pem;
  } catch (err) {
    throw new ConfigError(source, `${file} is not a readable PEM public key: ${(err as Error).message}`);
  }
}

function parseSeed(seed: string, source: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(seed);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(source, `expected host:port seeds, got ${JSON.stringify(seed)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

import { createPublicKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import {
  isTrustEntry, optionProblems, problemLine, settingProblems, type LogLevel, type NamespaceOptions, type ProxyOptionsInput, type ServerOptionsInput, type TlsOptions,
} from '@tidings/server';
import { SETTINGS, configFileSchema, configKey, envName, fromText, type Setting } from './settings.js';

/** Bad settings, each `source: path: expected …, got …`; the CLI prints them and exits with code 2. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.map((p) => `invalid setting ${p}`).join('\n'));
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
  store: 'sqlite' | 'memory' | 'postgres';
  dataDir: string;
  /** Only with `store: 'postgres'`: a secret, never logged. */
  postgres?: { url: string; poolSize: number; statementTimeout: number };
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  /** The certificate and key files (`--tls-cert`, `--tls-key`), reread on SIGHUP; undefined without TLS. */
  tlsFiles: TlsFiles | undefined;
  server: ServerOptionsInput;
}

/** Paths of a PEM certificate chain and its private key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

interface Given { value: unknown; source: string }

/**
 * Reads flags, then TIDINGS_* env vars, then the config file, then defaults, and validates every
 * value given, also one a higher source overrides, against its setting's schema (the file against
 * `configFileSchema`, namespaces included).
 * Throws a ConfigError listing every problem, each with its source (`--port`, `TIDINGS_PORT`,
 * `tidings.json: namespaces.chat.publish`).
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig {
  const problems: string[] = [];
  const byFlag = new Map(SETTINGS.map((s) => [s.flag, s]));
  const texts = new Map<string, { text: string; source: string }>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError([`${arg}: unexpected argument (see --help)`]);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (!byFlag.has(flag)) throw new ConfigError([`--${flag}: unknown option (see --help)`]);
    const next = argv[i + 1];
    // an off|on flag given bare (`--demo`, or followed by another flag) is on
    const bare = eq < 0 && isSwitch(byFlag.get(flag)!) && (next === undefined || next.startsWith('--'));
    const text = eq >= 0 ? arg.slice(eq + 1) : bare ? 'on' : argv[++i];
    if (text === undefined) throw new ConfigError([`--${flag}: a value is required`]);
    texts.set(flag, { text, source: `--${flag}` });
  }
  // an env var a flag overrides is still checked: a bad value is a mistake wherever it is given
  const overridden: Array<{ flag: string; text: string; source: string }> = [];
  for (const s of SETTINGS) {
    const text = env[envName(s.flag)];
    if (text === undefined || text === '') continue;
    if (texts.has(s.flag)) overridden.push({ flag: s.flag, text, source: envName(s.flag) });
    else texts.set(s.flag, { text, source: envName(s.flag) });
  }

  const values = new Map<string, Given>();
  for (const [flag, { text, source }] of texts) {
    const r = fromText(byFlag.get(flag)!, text);
    if ('error' in r) problems.push(`${source}: ${r.error}`);
    else values.set(flag, { value: r.value, source });
  }
  for (const { flag, text, source } of overridden) {
    const r = fromText(byFlag.get(flag)!, text);
    if ('error' in r) problems.push(`${source}: ${r.error}`);
  }
  let namespaces: Record<string, Partial<NamespaceOptions>> | undefined;
  let proxy: ProxyOptionsInput = {};
  let notificationTypes: Record<string, { muted?: boolean; critical?: boolean }> = {};
  const file = values.get('config');
  if (file) {
    const name = file.value as string;
    const result = configFileSchema().safeParse(readConfigFile(name, file.source));
    if (!result.success) problems.push(...settingProblems(result.error).map((p) => `${name}: ${problemLine(p)}`));
    else {
      for (const s of SETTINGS) {
        const key = configKey(s.flag);
        if (result.data[key] !== undefined && !values.has(s.flag)) values.set(s.flag, { value: result.data[key], source: `${name}: ${key}` });
      }
      namespaces = result.data.namespaces;
      proxy = result.data.proxy ?? {};
      notificationTypes = result.data.notificationTypes ?? {};
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const given = new Set(values.keys());
  for (const s of SETTINGS) {
    if (values.has(s.flag) || s.default === undefined) continue;
    const r = fromText(s, s.default);
    if ('error' in r) throw new Error(`the default of --${s.flag} is invalid: ${r.error}`);
    values.set(s.flag, { value: r.value, source: `--${s.flag}` });
  }
  const get = <T>(flag: string): T | undefined => values.get(flag)?.value as T | undefined;

  const historySize = get<number>('history-size')!;
  const historyTtl = get<number>('history-ttl')!;
  const publicKeyFile = get<string>('jwt-public-key');
  const tlsFiles = tlsPair(get<string>('tls-cert'), get<string>('tls-key'));
  const tls = tlsFiles ? readTlsFiles(tlsFiles, values.get('tls-cert')!.source, values.get('tls-key')!.source) : undefined;
  if (get<string>('stomp-tls') === 'on' && !tls) throw new ConfigError([`${values.get('stomp-tls')!.source}: STOMP over TLS needs --tls-cert and --tls-key`]);
  const badProxy = (get<string[]>('trust-proxy') ?? []).find((entry) => !isTrustEntry(entry));
  if (badProxy !== undefined) throw new ConfigError([`${values.get('trust-proxy')!.source}: expected CIDRs like 10.0.0.0/8 or IP addresses, got ${JSON.stringify(badProxy)}`]);
  if (get<string>('stomp-tls') === 'on' && get<number>('stomp-port') === undefined) throw new ConfigError([`${values.get('stomp-tls')!.source}: STOMP over TLS needs --stomp-port`]);
  const server: ServerOptionsInput = {
    apiKey: get<string>('api-key'),
    jwt: {
      ...(get<string>('jwt-secret') ? { secret: get<string>('jwt-secret') } : {}),
      ...(publicKeyFile ? { publicKey: readPublicKey(publicKeyFile, values.get('jwt-public-key')!.source) } : {}),
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
    serverSubscriptionTtl: get<number>('server-subscription-ttl')!,
    pingInterval: get<number>('ping-interval')!,
    wsCompression: get<'off' | 'on' | 'takeover'>('ws-compression')!,
    shutdownTimeout: get<number>('shutdown-timeout')!,
    bodyTimeout: get<number>('body-timeout')!,
    stompPort: get<number>('stomp-port'),
    stompQueues: { maxLength: get<number>('stomp-queue-max-length')!, redeliverAfter: get<number>('stomp-queue-redeliver-after')! },
    sockjs: {
      prefix: get<string>('sockjs-prefix')!,
      aliases: get<string[]>('sockjs-aliases') ?? [],
      clientUrl: get<string>('sockjs-client-url')!,
      heartbeat: get<number>('sockjs-heartbeat')!,
      disconnectDelay: get<number>('sockjs-disconnect-delay')!,
      responseLimit: get<number>('sockjs-response-limit')!,
      jsessionid: get<string>('sockjs-jsessionid') === 'on',
    },
    metrics: get<string>('metrics') === 'on',
    metricsPort: get<number>('metrics-port'),
    metricsKey: get<string>('metrics-key'),
    adminPassword: get<string>('admin-password'),
    adminKey: get<string>('admin-key'),
    tls,
    stompTls: get<string>('stomp-tls') === 'on',
    trustProxy: get<string[]>('trust-proxy') ?? [],
    demo: get<string>('demo') === 'on',
    proxy: proxySettings((flag, file) => (given.has(flag) || file === undefined ? get(flag) : file), proxy),
    notificationTypes: typeSettings(notificationTypes, get<string[]>('muted-notification-types') ?? [], get<string[]>('critical-notification-types') ?? []),
  };
  const unresolved = optionProblems(server);
  if (unresolved.length > 0) throw new ConfigError(unresolved.map(problemLine));
  const store = get<'sqlite' | 'memory' | 'postgres'>('store')!;
  const postgresUrl = get<string>('postgres-url');
  if (store === 'postgres' && !postgresUrl) throw new ConfigError([`${values.get('store')!.source}: postgres needs --postgres-url (or TIDINGS_POSTGRES_URL)`]);
  if (postgresUrl !== undefined && !/^postgres(ql)?:\/\//.test(postgresUrl)) {
    throw new ConfigError([`${values.get('postgres-url')!.source}: expected a postgres:// or postgresql:// URL`]);
  }
  return {
    port: get<number>('port')!,
    host: get<string>('host')!,
    engine: get<'memory' | 'redis'>('engine')!,
    redisUrl: get<string>('redis-url')!,
    redisCluster: (get<string[]>('redis-cluster') ?? []).map((seed) => parseSeed(seed, values.get('redis-cluster')!.source)),
    redisPrefix: get<string>('redis-prefix')!,
    store,
    dataDir: get<string>('data-dir')!,
    ...(store === 'postgres' ? { postgres: { url: postgresUrl!, poolSize: get<number>('postgres-pool-size')!, statementTimeout: get<number>('postgres-statement-timeout')! } } : {}),
    logLevel: get<LogLevel>('log-level')!,
    logFormat: get<'json' | 'pretty'>('log-format')!,
    tlsFiles,
    server,
  };
}

/**
 * The proxy settings: a flat setting given (flag, env or its config key) wins over the same thing
 * in the config file's `proxy` object, which wins over the flat setting's default. `pick(flag, fromFile)`
 * makes that choice.
 */
function proxySettings(pick: (flag: string, fromFile: unknown) => unknown, file: ProxyOptionsInput): ProxyOptionsInput {
  const fileConnect = typeof file.connect === 'string' ? { url: file.connect } : file.connect;
  const url = pick('connect-proxy', fileConnect?.url) as string | undefined;
  const always = pick('connect-proxy-always', fileConnect?.always === undefined ? undefined : fileConnect.always ? 'on' : 'off') === 'on';
  const endpoint = (flag: string, e: ProxyOptionsInput['rpc']): ProxyOptionsInput['rpc'] => {
    const fileUrl = typeof e === 'string' ? e : e?.url;
    const chosen = pick(flag, fileUrl) as string | undefined;
    if (chosen === undefined) return undefined;
    return typeof e === 'object' && e.url === chosen ? e : chosen;
  };
  return {
    secret: pick('proxy-secret', file.secret) as string | undefined,
    timeout: pick('proxy-timeout', file.timeout) as number | undefined,
    headers: pick('proxy-headers', file.headers) as string[] | undefined,
    concurrency: pick('proxy-concurrency', file.concurrency) as number | undefined,
    queue: pick('proxy-queue', file.queue) as number | undefined,
    connect: url === undefined ? undefined : { ...fileConnect, url, always },
    refresh: endpoint('refresh-proxy', file.refresh),
    subscribe: endpoint('subscribe-proxy', file.subscribe),
    publish: endpoint('publish-proxy', file.publish),
    rpc: endpoint('rpc-proxy', file.rpc),
    notificationAction: endpoint('notification-action-proxy', file.notificationAction),
  };
}

/** The config file's `notificationTypes`, plus the types the flat lists mark muted or critical. */
function typeSettings(file: Record<string, { muted?: boolean; critical?: boolean }>, muted: readonly string[], critical: readonly string[]): Record<string, { muted?: boolean; critical?: boolean }> {
  const types = Object.create(null) as Record<string, { muted?: boolean; critical?: boolean }>;
  for (const [type, t] of Object.entries(file)) types[type] = { ...t };
  for (const type of muted) types[type] = { ...types[type], muted: true };
  for (const type of critical) types[type] = { ...types[type], critical: true };
  return types;
}

/** An `off|on` setting (maybe with more values), which may be given as a bare flag. */
function isSwitch(s: Setting): boolean {
  return s.type === 'enum' && s.values !== undefined && s.values.includes('on') && s.values.includes('off');
}

function readConfigFile(file: string, source: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${source}: cannot read ${file}: ${(err as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${source}: ${file} is not valid JSON: ${(err as Error).message}`]);
  }
  return json;
}

function readPublicKey(file: string, source: string): string {
  try {
    const pem = readFileSync(file, 'utf8');
    createPublicKey(pem);
    return pem;
  } catch (err) {
    throw new ConfigError([`${source}: ${file} is not a readable PEM public key: ${(err as Error).message}`]);
  }
}

function tlsPair(cert: string | undefined, key: string | undefined): TlsFiles | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined) throw new ConfigError(['--tls-key: needs --tls-cert (the certificate it belongs to)']);
  if (key === undefined) throw new ConfigError(['--tls-cert: needs --tls-key (the certificate\'s private key)']);
  return { cert, key };
}

/**
 * The certificate and key PEM text of `files`, checked to make a working TLS context (the key fits
 * the certificate). Throws an Error naming the file and OpenSSL's reason, never the key's text.
 */
export function readTlsPair(files: TlsFiles): TlsOptions {
  const cert = readFileSync(files.cert, 'utf8');
  const key = readFileSync(files.key, 'utf8');
  createSecureContext({ cert, key });
  return { cert, key };
}

function readTlsFiles(files: TlsFiles, certSource: string, keySource: string): TlsOptions {
  for (const [file, source] of [[files.cert, certSource], [files.key, keySource]] as const) {
    try {
      readFileSync(file);
    } catch (err) {
      throw new ConfigError([`${source}: cannot read ${file}: ${(err as Error).message}`]);
    }
  }
  try {
    return readTlsPair(files);
  } catch (err) {
    throw new ConfigError([`${certSource}, ${keySource}: ${files.cert} and ${files.key} are not a usable PEM certificate and key: ${(err as Error).message}`]);
  }
}

function parseSeed(seed: string, source: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(seed);
  if (!m || Number(m[2]) > 65535) throw new ConfigError([`${source}: expected host:port seeds, got ${JSON.stringify(seed)}`]);
  return { host: m[1]!, port: Number(m[2]) };
}

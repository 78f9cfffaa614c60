/** Server settings, their defaults, namespace options and their schema. Every field is documented in docs/configuration.md. */
import { CHANNEL_CHARS, isValidNamespace } from '@tidings/protocol';
import { z } from 'zod';
import { isTrustEntry } from './http/forwarded.js';
import type { Compression } from './websocket/deflate.js';
import { expected, problemLine, settingProblems, type SettingProblem } from './validation.js';

export type SubscribePolicy = 'anyone' | 'authenticated' | 'owner';

export interface NamespaceOptions {
  /** Publications kept per channel for recovery and history (0 = none). */
  historySize: number;
  /** Seconds the history is kept after the channel's last publication. */
  historyTtl: number;
  /** Track who is subscribed (the `presence` command and API). */
  presence: boolean;
  /** Push `join`/`leave` to subscribers. */
  joinLeave: boolean;
  /**
   * Who may subscribe: `anyone` (also anonymous connections), `authenticated`,
   * or `owner` (only the user whose id is the part after `:`, as in `user:42`).
   * A token's `channels` claim grants a listed channel regardless.
   */
  subscribe: SubscribePolicy;
  /** Whether clients may publish (they also need permission to subscribe). The server API always may. */
  publish: boolean;
  /** Ask the app backend (`proxy.subscribe`) before each subscription, after the `subscribe` rule passed. */
  subscribeProxy: boolean;
  /**
   * Send each client publication to the app backend (`proxy.publish`) first: it allows (and may
   * replace the data) or refuses. Clients may then publish whatever `publish` says.
   */
  publishProxy: boolean;
}

/** One backend endpoint a proxy calls. */
export interface ProxyEndpoint {
  /** http(s) URL that gets the JSON POST. */
  url: string;
  /** Milliseconds the backend has to answer; then the call fails with 125. */
  timeout: number;
}

export interface ConnectProxyOptions extends ProxyEndpoint {
  /** Ask the backend on every connect, also when the client brought a valid token (its answer wins). */
  always: boolean;
  /** Request headers forwarded (lowercase names); the proxies' `headers` when not set. */
  headers: string[];
}

/** Calls to the app's own HTTP backend (docs/proxy.md). A proxy without a URL is off. */
export interface ProxyOptions {
  /** Sent as `X-Tidings-Proxy-Secret` on every call, so the backend knows it is Tidings; never logged. */
  secret: string | undefined;
  /** Default timeout of each proxy, in milliseconds. */
  timeout: number;
  /** Request headers forwarded to the connect proxy (lowercase names). */
  headers: string[];
  /** Proxy calls in flight at once on this node, all proxies together. */
  concurrency: number;
  /** Calls waiting for a free slot; one more fails at once with 127. */
  queue: number;
  connect: ConnectProxyOptions | undefined;
  refresh: ProxyEndpoint | undefined;
  subscribe: ProxyEndpoint | undefined;
  publish: ProxyEndpoint | undefined;
  rpc: ProxyEndpoint | undefined;
  /** Told when a user completes a notification's action (docs/notifications.md#actions). */
  notificationAction: ProxyEndpoint | undefined;
}

/** What the server says about one notification type (docs/notifications.md#preferences). */
export interface NotificationTypeOptions {
  /** Muted for users who did not choose otherwise. */
  muted: boolean;
  /** Never muted: a user's attempt to mute it fails with 130 (`type_critical`). */
  critical: boolean;
}

export interface JwtOptions {
  /** HS256/384/512 shared secret. */
  secret?: string;
  /** PEM public key (RSA, EC or Ed25519) for RS*, PS*, ES* or EdDSA tokens. */
  publicKey?: string;
  /** A JWKS URL (http/https) or a path to a JWKS JSON file. */
  jwks?: string;
  /** Expected `aud`, when set. */
  audience?: string;
  /** Expected `iss`, when set. */
  issuer?: string;
}

export interface LimitOptions {
  /** Largest client message, API body or publication payload, in bytes. */
  maxMessageSize: number;
  /** Subscriptions one connection may hold. */
  maxSubscriptions: number;
  /** Bytes queued for one connection before it is disconnected as slow (close 3001). */
  maxQueueBytes: number;
  /** Concurrent connections on this node (further ones are closed with 3006). */
  maxConnections: number;
  /**
   * Deepest nesting of arrays and objects in a payload (publication data, notification payload);
   * deeper is refused with 107 and not stored. At most 1000.
   */
  maxDepth: number;
}

export interface SockjsOptions {
  /** Path of the SockJS endpoint (`/info`, transports, `iframe.html` below it). */
  prefix: string;
  /** More paths serving the same endpoint, e.g. Spring's `/ws-stomp`. */
  aliases: string[];
  /** The sockjs-client script `iframe.html` loads (iframe transports). */
  clientUrl: string;
  /** Seconds of silence on a receiving connection before an `h` frame. */
  heartbeat: number;
  /** Seconds a session lives without a receiving connection. */
  disconnectDelay: number;
  /** Bytes a streaming response carries before it ends and the client opens the next. */
  responseLimit: number;
  /** Set a `JSESSIONID` cookie (for load balancers that stick by it) and answer `cookie_needed: true`. */
  jsessionid: boolean;
}

/** A certificate and its key, both PEM text (not file names). */
export interface TlsOptions {
  /** PEM certificate chain: the server's certificate first, then any intermediates. */
  cert: string;
  /** PEM private key of the certificate (never logged). */
  key: string;
}

export interface StompQueueOptions {
  /** Messages one `/queue/…` holds (waiting plus unacknowledged); a SEND beyond gets ERROR 121 `queue_full`. */
  maxLength: number;
  /**
   * Redis engine: milliseconds a message may stay unacknowledged on a node that stopped
   * vouching for it (the node died or lost Redis) before another node takes it and delivers it
   * again. Live nodes refresh what their consumers hold, so a slow consumer keeps its messages.
   */
  redeliverAfter: number;
}

export interface ServerOptions {
  /** API key for `/api/*` (`X-API-Key`); without one the API refuses every call. */
  apiKey: string | undefined;
  jwt: JwtOptions;
  limits: LimitOptions;
  /** Namespaces by name; `` is the default namespace for channels without `:`. */
  namespaces: Record<string, NamespaceOptions>;
  /** Browser origins allowed to connect; `*` allows any. Empty: same-origin only. Requests without `Origin` are allowed. */
  allowedOrigins: string[];
  /** Seconds before token expiry at which the server asks for a refresh. */
  tokenRefreshLead: number;
  /** Seconds a new WebSocket connection has to send `connect`. */
  connectTimeout: number;
  /**
   * Seconds a user's server-side subscription made by `POST /api/subscribe` is remembered (for the
   * user's later connections and reconnects) after the call; the memory engine keeps it until
   * `POST /api/unsubscribe`.
   */
  serverSubscriptionTtl: number;
  /** Seconds between WebSocket pings; a connection that missed the previous pong is closed. */
  pingInterval: number;
  /**
   * permessage-deflate (RFC 7692) on `/ws` for our JSON protocol: `off` (no extension in the
   * handshake answer), `on` (each message compressed alone, once per broadcast for every
   * compressing subscriber) or `takeover` (compressed per connection with its last 4 KiB sent as
   * context). See docs/transports.md.
   */
  wsCompression: Compression;
  /** Seconds a graceful shutdown waits for connections to close. */
  shutdownTimeout: number;
  /** TCP port for STOMP clients; no TCP listener when undefined (STOMP over `/ws` is always on). */
  stompPort: number | undefined;
  /** STOMP `/queue/…` limits and redelivery. */
  stompQueues: StompQueueOptions;
  /** Seconds a request body (API call, `/emulation`) has to arrive in full after its head, and the head limit (from the connection) when under 10 s; slower ones get 408. */
  bodyTimeout: number;
  /** The SockJS endpoint. */
  sockjs: SockjsOptions;
  /** Serve `GET /metrics` (Prometheus text format). `false` also times and samples nothing (no engine/store timing, no size or latency samples, no process metrics). */
  metrics: boolean;
  /** Serve `/metrics` only on this separate (internal) port instead of the main one. */
  metricsPort: number | undefined;
  /** When set, `/metrics` needs `Authorization: Bearer <key>` or `X-Metrics-Key: <key>`. */
  metricsKey: string | undefined;
  /** Serve HTTPS and WSS (every transport, the API, `/metrics` on the main port) with this certificate instead of plain HTTP. */
  tls: TlsOptions | undefined;
  /** Serve STOMP over TLS on `stompPort`, with the `tls` certificate (which must be set). */
  stompTls: boolean;
  /**
   * Peers (CIDRs such as `10.0.0.0/8`, or single addresses) whose `X-Forwarded-For`,
   * `X-Forwarded-Proto` and `Forwarded` headers are believed. Empty: no peer is, and the client
   * is the TCP peer.
   */
  trustProxy: string[];
  /** Connect, refresh, subscribe, publish and RPC proxies to the app backend. */
  proxy: ProxyOptions;
  /** Per notification type: muted by default, or critical (never muted). Types not listed are delivered unless a user mutes them. */
  notificationTypes: Record<string, NotificationTypeOptions>;
  /** The admin console's login password (`/admin`, docs/admin.md); the console is off without it and `adminKey`. A secret: never logged. */
  adminPassword: string | undefined;
  /** The admin key: `Authorization: Bearer <key>` on `/admin/api/*` (scripts), and accepted by the login form too. A secret: never logged. */
  adminKey: string | undefined;
  /**
   * The demo (docs/demo.md; never in production): the page at `/demo/`, `POST /demo/token` signing
   * a token for any name asked, `POST /demo/notify`, the `chat` and `ticker` namespaces
   * (DEMO_NAMESPACES, unless configured) and a price tick on `ticker:prices` every second.
   * Without a `jwt.secret` the node signs and verifies with an ephemeral one.
   */
  demo: boolean;
}

export const DEFAULT_SOCKJS: SockjsOptions = {
  prefix: '/sockjs',
  aliases: [],
  clientUrl: 'https://cdn.jsdelivr.net/npm/sockjs-client@1.6.1/dist/sockjs.min.js',
  heartbeat: 25,
  disconnectDelay: 5,
  responseLimit: 128 * 1024,
  jsessionid: false,
};

export const DEFAULT_STOMP_QUEUES: StompQueueOptions = {
  maxLength: 10_000,
  redeliverAfter: 30_000,
};

export const DEFAULT_NAMESPACE: NamespaceOptions = {
  historySize: 100,
  historyTtl: 600,
  presence: false,
  joinLeave: false,
  subscribe: 'anyone',
  publish: false,
  subscribeProxy: false,
  publishProxy: false,
};

export const DEFAULT_PROXY_HEADERS = ['cookie', 'authorization', 'origin', 'user-agent', 'x-forwarded-for'];

export function defaultProxy(): ProxyOptions {
  return {
    secret: undefined, timeout: 5000, headers: [...DEFAULT_PROXY_HEADERS], concurrency: 64, queue: 1024,
    connect: undefined, refresh: undefined, subscribe: undefined, publish: undefined, rpc: undefined, notificationAction: undefined,
  };
}

/** The highest `limits.maxDepth` allowed. */
export const MAX_DEPTH_LIMIT = 1000;

export const DEFAULT_LIMITS: LimitOptions = {
  maxMessageSize: 64 * 1024,
  maxSubscriptions: 128,
  maxQueueBytes: 1024 * 1024,
  maxConnections: 100_000,
  maxDepth: 64,
};

/**
 * Built-in namespaces; configured ones with the same name replace them. A null-prototype object, so a
 * configured `__proto__` namespace is an own key like any other and no name finds `Object.prototype`'s members.
 */
export function defaultNamespaces(): Record<string, NamespaceOptions> {
  return Object.assign(Object.create(null) as Record<string, NamespaceOptions>, {
    '': { ...DEFAULT_NAMESPACE },
    user: { ...DEFAULT_NAMESPACE, subscribe: 'owner' },
    /** `inbox:<user>`: the user's notification events (created, updated, deleted, unread count). */
    inbox: { ...DEFAULT_NAMESPACE, subscribe: 'owner' },
  });
}

export function defaultOptions(): ServerOptions {
  return {
    apiKey: undefined,
    jwt: {},
    limits: { ...DEFAULT_LIMITS },
    namespaces: defaultNamespaces(),
    allowedOrigins: [],
    tokenRefreshLead: 10,
    connectTimeout: 10,
    serverSubscriptionTtl: 86400,
    pingInterval: 25,
    wsCompression: 'off',
    shutdownTimeout: 10,
    stompPort: undefined,
    stompQueues: { ...DEFAULT_STOMP_QUEUES },
    bodyTimeout: 30,
    sockjs: { ...DEFAULT_SOCKJS, aliases: [] },
    metrics: true,
    metricsPort: undefined,
    metricsKey: undefined,
    tls: undefined,
    stompTls: false,
    trustProxy: [],
    proxy: defaultProxy(),
    notificationTypes: Object.create(null) as Record<string, NotificationTypeOptions>,
    adminPassword: undefined,
    adminKey: undefined,
    demo: false,
  };
}

/** The namespaces `demo` adds (configured ones of the same name win): a chat room with presence, and a read-only ticker. */
export function demoNamespaces(): Record<string, NamespaceOptions> {
  return {
    chat: { ...DEFAULT_NAMESPACE, historySize: 50, presence: true, joinLeave: true, subscribe: 'authenticated', publish: true },
    ticker: { ...DEFAULT_NAMESPACE, historySize: 20, historyTtl: 60 },
  };
}

/** A proxy endpoint as given: a URL, or `{url, timeout?}` (the connect proxy also `always?`, `headers?`). */
export interface ProxyEndpointInput { url: string; timeout?: number | undefined }
export interface ProxyOptionsInput {
  secret?: string | undefined;
  timeout?: number | undefined;
  headers?: string[] | undefined;
  concurrency?: number | undefined;
  queue?: number | undefined;
  connect?: string | (ProxyEndpointInput & { always?: boolean | undefined; headers?: string[] | undefined }) | undefined;
  refresh?: string | ProxyEndpointInput | undefined;
  subscribe?: string | ProxyEndpointInput | undefined;
  publish?: string | ProxyEndpointInput | undefined;
  rpc?: string | ProxyEndpointInput | undefined;
  notificationAction?: string | ProxyEndpointInput | undefined;
}

export type ServerOptionsInput = Partial<Omit<ServerOptions, 'limits' | 'namespaces' | 'sockjs' | 'tls' | 'stompQueues' | 'proxy' | 'notificationTypes'>> & {
  notificationTypes?: Record<string, Partial<NotificationTypeOptions>>;
  tls?: TlsOptions | undefined;
  proxy?: ProxyOptionsInput;
  limits?: Partial<LimitOptions>;
  stompQueues?: Partial<StompQueueOptions>;
  sockjs?: Partial<SockjsOptions>;
  namespaces?: Record<string, Partial<NamespaceOptions>>;
};

const int = (min: number, max?: number) => {
  const what = expected(max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`);
  return max === undefined ? z.int(what).min(min, what) : z.int(what).min(min, what).max(max, what);
};
const seconds = (min: 'positive' | 'nonnegative') => {
  const what = expected(min === 'positive' ? 'a number of seconds > 0' : 'a number of seconds ≥ 0');
  return min === 'positive' ? z.number(what).positive(what) : z.number(what).nonnegative(what);
};
const text = z.string(expected('a string'));
/** A secret of `min` to 1024 characters; a message names its length, never the text. */
const secretText = (min: number) => {
  const what = { error: (issue: { input?: unknown }) => `expected ${min} to 1024 characters, got ${typeof issue.input === 'string' ? issue.input.length : 0}` };
  return text.min(min, what).max(1024, what);
};
const object = expected('an object');

/** One namespace's options, each optional (missing ones take DEFAULT_NAMESPACE's); unknown keys are refused. */
export const namespaceOptionsSchema = z.strictObject({
  historySize: int(0),
  historyTtl: seconds('positive'),
  presence: z.boolean(expected('boolean')),
  joinLeave: z.boolean(expected('boolean')),
  subscribe: z.enum(['anyone', 'authenticated', 'owner'], expected('one of anyone, authenticated, owner')),
  publish: z.boolean(expected('boolean')),
  subscribeProxy: z.boolean(expected('boolean')),
  publishProxy: z.boolean(expected('boolean')),
}, object).partial();

const proxyUrl = z.string(expected('an http(s) URL')).refine((u) => {
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}, expected('an http(s) URL without user:password'));
const millis = int(1, 600_000);
const headerNames = z.array(z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/, expected('lowercase header names')), expected('an array of lowercase header names')).max(64);
const endpoint = z.union([proxyUrl, z.strictObject({ url: proxyUrl, timeout: millis.optional() }, object)]);

/** `proxy`: the backend proxies (docs/proxy.md); unknown keys are refused. */
export const proxyOptionsSchema = z.strictObject({
  secret: text.min(1).optional(),
  timeout: millis.optional(),
  headers: headerNames.optional(),
  concurrency: int(1, 100_000).optional(),
  queue: int(0, 1_000_000).optional(),
  connect: z.union([proxyUrl, z.strictObject({ url: proxyUrl, timeout: millis.optional(), always: z.boolean(expected('a boolean')).optional(), headers: headerNames.optional() }, object)]).optional(),
  refresh: endpoint.optional(),
  subscribe: endpoint.optional(),
  publish: endpoint.optional(),
  rpc: endpoint.optional(),
  notificationAction: endpoint.optional(),
}, object);

/** `notificationTypes`: type (1–100 characters) → `{muted?, critical?}`; a critical type cannot be muted by default. */
export const notificationTypesSchema = z.record(
  z.string().min(1, expected('a type name of 1–100 characters')).max(100, expected('a type name of 1–100 characters')),
  z.strictObject({ muted: z.boolean(expected('a boolean')).optional(), critical: z.boolean(expected('a boolean')).optional() }, object)
    .refine((t) => !(t.muted === true && t.critical === true), { error: 'a critical type cannot be muted by default' }),
  object,
);

/**
 * Namespaces by name: `` or 1–255 of the channel characters without `:`, except `__proto__`, which
 * JSON.parse and object assignment treat as the prototype, so it is refused rather than silently lost.
 */
export const namespacesSchema = z.preprocess((input, ctx) => {
  // zod's record skips a `__proto__` key without a word; say so instead
  if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
    ctx.issues.push({ code: 'custom', message: 'namespace name "__proto__" is reserved', path: ['__proto__'], input });
  }
  return input;
}, z.record(
  z.string().refine(isValidNamespace, { error: (issue) => `invalid namespace name ${JSON.stringify(issue.input)}: expected "" or 1–255 of ${CHANNEL_CHARS} without ":"` }),
  namespaceOptionsSchema,
  object,
));

const SOCKJS_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;
/** Paths of the node's other endpoints, which a SockJS prefix or alias must not cover. */
const RESERVED = ['/ws', '/sse', '/stream', '/poll', '/emulation', '/api', '/healthz', '/readyz', '/client', '/admin', '/demo'];

/** A SockJS prefix or alias: `/name` or `/a/b`, not covering another endpoint. */
const sockjsPath = z.string(expected('a path')).superRefine((path, ctx) => {
  if (!SOCKJS_PATH.test(path)) {
    ctx.addIssue({ code: 'custom', message: `expected a path like /name or /a/b without a trailing slash, got ${JSON.stringify(path)}` });
    return;
  }
  const taken = RESERVED.find((r) => path === r || path.startsWith(`${r}/`));
  if (taken !== undefined) ctx.addIssue({ code: 'custom', message: `${path} would cover the ${taken} endpoint` });
});

/** Everything `resolveOptions` accepts; unknown keys at any level are refused. */
export const serverOptionsSchema = z.strictObject({
  apiKey: text.optional(),
  jwt: z.strictObject({
    secret: text.optional(),
    publicKey: text.optional(),
    jwks: text.optional(),
    audience: text.optional(),
    issuer: text.optional(),
  }, object).optional(),
  limits: z.strictObject({
    maxMessageSize: int(1).optional(),
    maxSubscriptions: int(1).optional(),
    maxQueueBytes: int(1).optional(),
    maxConnections: int(1).optional(),
    // JSON.stringify recurses; a few thousand levels overflow its stack, so data must stay well short of that
    maxDepth: int(1, MAX_DEPTH_LIMIT).optional(),
  }, object).optional(),
  namespaces: namespacesSchema.optional(),
  allowedOrigins: z.array(text, expected('an array of strings')).optional(),
  tokenRefreshLead: seconds('positive').optional(),
  connectTimeout: seconds('positive').optional(),
  serverSubscriptionTtl: int(1, 30 * 86400).optional(),
  pingInterval: seconds('positive').optional(),
  wsCompression: z.enum(['off', 'on', 'takeover'], expected('one of off, on, takeover')).optional(),
  shutdownTimeout: seconds('nonnegative').optional(),
  stompPort: int(0, 65535).optional(),
  stompQueues: z.strictObject({
    maxLength: int(1).optional(),
    redeliverAfter: int(100).optional(),
  }, object).optional(),
  metrics: z.boolean(expected('a boolean')).optional(),
  metricsPort: int(0, 65535).optional(),
  metricsKey: text.optional(),
  adminPassword: secretText(1).optional(),
  adminKey: secretText(16).optional(),
  proxy: proxyOptionsSchema.optional(),
  notificationTypes: notificationTypesSchema.optional(),
  sockjs: z.strictObject({
    prefix: sockjsPath.optional(),
    aliases: z.array(sockjsPath, expected('an array of paths')).optional(),
    clientUrl: text.optional(),
    heartbeat: z.number(expected('a number of seconds ≥ 1')).min(1, expected('a number of seconds ≥ 1')).optional(),
    disconnectDelay: z.number(expected('a number of seconds ≥ 1')).min(1, expected('a number of seconds ≥ 1')).optional(),
    responseLimit: int(1024).optional(),
    jsessionid: z.boolean(expected('a boolean')).optional(),
  }, object).optional(),
  bodyTimeout: seconds('positive').max(3600, expected('a number of seconds > 0 and ≤ 3600')).optional(),
  tls: z.strictObject({ cert: pem('CERTIFICATE'), key: pem('PRIVATE KEY') }, object).optional(),
  stompTls: z.boolean(expected('a boolean')).optional(),
  trustProxy: z.array(z.string(expected('a CIDR')).refine(isTrustEntry, { error: (issue) => `expected a CIDR like 10.0.0.0/8 or an IP address, got ${JSON.stringify(issue.input)}` }),
    expected('an array of CIDRs')).optional(),
  demo: z.boolean(expected('a boolean')).optional(),
}, object).superRefine((o, ctx) => {
  if (o.stompTls === true && o.tls === undefined) ctx.addIssue({ code: 'custom', path: ['stompTls'], message: 'STOMP over TLS needs a certificate (tls)' });
  // a namespace that asks a proxy needs that proxy's URL
  for (const [name, ns] of Object.entries(o.namespaces ?? {})) {
    if (ns.subscribeProxy && o.proxy?.subscribe === undefined) {
      ctx.addIssue({ code: 'custom', path: ['namespaces', name, 'subscribeProxy'], message: 'needs a subscribe proxy (proxy.subscribe, --subscribe-proxy)' });
    }
    if (ns.publishProxy && o.proxy?.publish === undefined) {
      ctx.addIssue({ code: 'custom', path: ['namespaces', name, 'publishProxy'], message: 'needs a publish proxy (proxy.publish, --publish-proxy)' });
    }
  }
});

/** A PEM block of this kind (`CERTIFICATE`; `PRIVATE KEY` also matches `RSA PRIVATE KEY`, `EC PRIVATE KEY`); the message never quotes the text. */
function pem(kind: string) {
  const what = `expected PEM text with a ${kind} block`;
  return z.string(expected(what)).refine((text) => new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text), { error: what });
}

/** Every problem with `input` (`namespaces.chat.publish: expected boolean, got string`); empty when it is valid. */
export function optionProblems(input: unknown): SettingProblem[] {
  const result = serverOptionsSchema.safeParse(input);
  return result.success ? [] : settingProblems(result.error);
}

/**
 * Fills defaults. Throws a TypeError naming each bad setting for a programmer error
 * (a wrong type or range, an unknown key, a bad namespace name), e.g.
 * `namespaces.chat.publish: expected boolean, got string`.
 */
export function resolveOptions(input: ServerOptionsInput = {}): ServerOptions {
  const problems = optionProblems(input);
  if (problems.length > 0) throw new TypeError(problems.map(problemLine).join('; '));
  const base = defaultOptions();
  const namespaces = base.namespaces;
  if (input.demo === true) Object.assign(namespaces, demoNamespaces());
  for (const [name, ns] of Object.entries(input.namespaces ?? {})) namespaces[name] = { ...DEFAULT_NAMESPACE, ...stripUndefined(ns) };
  const proxy = resolveProxy(input.proxy ?? {});
  const notificationTypes = Object.create(null) as Record<string, NotificationTypeOptions>;
  for (const [type, t] of Object.entries(input.notificationTypes ?? {})) notificationTypes[type] = { muted: t.muted === true, critical: t.critical === true };
  return {
    ...base,
    ...stripUndefined(input),
    jwt: { ...input.jwt },
    limits: { ...base.limits, ...stripUndefined(input.limits ?? {}) },
    namespaces,
    sockjs: { ...base.sockjs, ...stripUndefined(input.sockjs ?? {}) },
    stompQueues: { ...base.stompQueues, ...stripUndefined(input.stompQueues ?? {}) },
    proxy,
    notificationTypes,
  };
}

function resolveProxy(input: ProxyOptionsInput): ProxyOptions {
  const base = { ...defaultProxy(), ...stripUndefined({ secret: input.secret, timeout: input.timeout, headers: input.headers, concurrency: input.concurrency, queue: input.queue }) };
  const at = (e: string | ProxyEndpointInput | undefined): ProxyEndpoint | undefined => {
    if (e === undefined) return undefined;
    return typeof e === 'string' ? { url: e, timeout: base.timeout } : { url: e.url, timeout: e.timeout ?? base.timeout };
  };
  const c = input.connect;
  const connect = at(c);
  return {
    ...base,
    connect: connect && {
      ...connect,
      always: typeof c === 'object' && c.always === true,
      headers: typeof c === 'object' && c.headers !== undefined ? c.headers : base.headers,
    },
    refresh: at(input.refresh),
    subscribe: at(input.subscribe),
    publish: at(input.publish),
    rpc: at(input.rpc),
    notificationAction: at(input.notificationAction),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Server settings, their defaults, and namespace options. Every field is documented in docs/configuration.md. */

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
  /** Deepest nesting of arrays and objects in a payload (publication data, notification payload); deeper is refused with 107. */
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
  /** Seconds between WebSocket pings; a connection that missed the previous pong is closed. */
  pingInterval: number;
  /** Seconds a graceful shutdown waits for connections to close. */
  shutdownTimeout: number;
  /** TCP port for STOMP clients; no TCP listener when undefined (STOMP over `/ws` is always on). */
  stompPort: number | undefined;
  /** Seconds a request body (API call, `/emulation`) has to arrive in full; slower ones get 408. */
  bodyTimeout: number;
  /** The SockJS endpoint. */
  sockjs: SockjsOptions;
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

export const DEFAULT_NAMESPACE: NamespaceOptions = {
  historySize: 100,
  historyTtl: 600,
  presence: false,
  joinLeave: false,
  subscribe: 'anyone',
  publish: false,
};

export const DEFAULT_LIMITS: LimitOptions = {
  maxMessageSize: 64 * 1024,
  maxSubscriptions: 128,
  maxQueueBytes: 1024 * 1024,
  maxConnections: 100_000,
  maxDepth: 64,
};

/** Built-in namespaces; configured ones with the same name replace them. */
export function defaultNamespaces(): Record<string, NamespaceOptions> {
  return {
    '': { ...DEFAULT_NAMESPACE },
    user: { ...DEFAULT_NAMESPACE, subscribe: 'owner' },
    /** `inbox:<user>`: the user's notification events (created, updated, deleted, unread count). */
    inbox: { ...DEFAULT_NAMESPACE, subscribe: 'owner' },
  };
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
    pingInterval: 25,
    shutdownTimeout: 10,
    stompPort: undefined,
    bodyTimeout: 30,
    sockjs: { ...DEFAULT_SOCKJS, aliases: [] },
  };
}

export type ServerOptionsInput = Partial<Omit<ServerOptions, 'limits' | 'namespaces' | 'sockjs'>> & {
  limits?: Partial<LimitOptions>;
  sockjs?: Partial<SockjsOptions>;
  namespaces?: Record<string, Partial<NamespaceOptions>>;
};

/** Fills defaults. Throws a TypeError naming the setting for a programmer error (bad value). */
export function resolveOptions(input: ServerOptionsInput = {}): ServerOptions {
  const base = defaultOptions();
  const namespaces = base.namespaces;
  for (const [name, ns] of Object.entries(input.namespaces ?? {})) {
    if (name.includes(':')) throw new TypeError(`namespaces.${name}: a namespace name cannot contain ':'`);
    namespaces[name] = { ...DEFAULT_NAMESPACE, ...ns };
  }
  const out: ServerOptions = {
    ...base,
    ...stripUndefined(input),
    jwt: { ...input.jwt },
    limits: { ...base.limits, ...stripUndefined(input.limits ?? {}) },
    namespaces,
    sockjs: { ...base.sockjs, ...stripUndefined(input.sockjs ?? {}) },
  };
  checkSockjs(out.sockjs);
  if (out.stompPort !== undefined && (!Number.isSafeInteger(out.stompPort) || out.stompPort < 0 || out.stompPort > 65535)) {
    throw new TypeError('stompPort must be an integer from 0 to 65535');
  }
  if (!(out.bodyTimeout > 0 && out.bodyTimeout <= 3600)) throw new TypeError('bodyTimeout must be more than 0 and at most 3600 seconds');
  for (const [key, value] of Object.entries(out.limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`limits.${key} must be a positive integer`);
  }
  for (const [name, ns] of Object.entries(namespaces)) {
    if (!Number.isSafeInteger(ns.historySize) || ns.historySize < 0) throw new TypeError(`namespaces.${name}.historySize must be an integer ≥ 0`);
    if (!(ns.historyTtl > 0)) throw new TypeError(`namespaces.${name}.historyTtl must be > 0 seconds`);
    if (!['anyone', 'authenticated', 'owner'].includes(ns.subscribe)) {
      throw new TypeError(`namespaces.${name}.subscribe must be anyone, authenticated or owner`);
    }
  }
  return out;
}

const SOCKJS_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;
/** Paths of the node's other endpoints, which a SockJS prefix or alias must not cover. */
const RESERVED = ['/ws', '/sse', '/stream', '/poll', '/emulation', '/api', '/healthz', '/readyz', '/client'];

function checkSockjs(o: SockjsOptions): void {
  for (const path of [o.prefix, ...o.aliases]) {
    if (!SOCKJS_PATH.test(path)) throw new TypeError(`sockjs path ${JSON.stringify(path)} must look like /name or /a/b, without a trailing slash`);
    const taken = RESERVED.find((r) => path === r || path.startsWith(`${r}/`));
    if (taken !== undefined) throw new TypeError(`sockjs path ${path} would cover the ${taken} endpoint`);
  }
  if (!(o.heartbeat >= 1)) throw new TypeError('sockjs.heartbeat must be at least 1 second');
  if (!(o.disconnectDelay >= 1)) throw new TypeError('sockjs.disconnectDelay must be at least 1 second');
  if (!Number.isSafeInteger(o.responseLimit) || o.responseLimit < 1024) throw new TypeError('sockjs.responseLimit must be an integer of at least 1024 bytes');
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@tidings/protocol';
import { LIVE_TOKEN_TTL_S, MAX_LIVE_TOKEN_TTL_S } from '../auth/live-token.js';
import { apiRoute, type ApiHost } from '../api/routes.js';
import { TidingsError } from '../errors.js';
import type { ProxyTrust } from '../http/forwarded.js';
import type { Logger } from '../log.js';
import { RequestGone, isObject, readJson, sendError, sendJson, sendProtocolError } from '../http/json.js';
import type { TransportName } from '../observability/metrics.js';
import { reasonOf } from '../observability/refusals.js';
import { PageAssets } from '../static/pages.js';
import { LoginLimiter } from './limiter.js';
import { AdminLive, type LiveHost } from './live.js';
import { AdminSecrets, MAX_SECRET_LENGTH, sameText } from './secrets.js';
import { AdminSessions, SESSION_COOKIE, SESSION_TTL_S, cookieValue, type AdminSession } from './sessions.js';

/** The path prefix of the admin console. */
export const ADMIN_PREFIX = '/admin';
/** The header carrying a session's CSRF token on every state-changing admin request. */
export const CSRF_HEADER = 'x-csrf-token';

/** What the admin console needs from its node. */
export interface AdminHost extends ApiHost, LiveHost {
  readonly id: string;
  readonly log: Logger;
  readonly trust: ProxyTrust;
  readonly secure: boolean;
  connectionCounts(): Record<TransportName, number>;
  subscriptionCount(): number;
}

/** This node's counters at one moment (`GET /admin/api/stats`); the page turns two of them into rates. */
export interface AdminStats {
  node: string;
  /** Milliseconds since the epoch. */
  time: number;
  connections: Record<TransportName, number>;
  subscriptions: number;
  /** Publications accepted by this node since it started (every source). */
  publications: number;
  /** Messages this node queued to its connections since it started (every transport). */
  delivered: number;
}

/** `/admin/api/<name>` routes that run the server API's own route `/api/<name>`. */
const API_ROUTES = new Set(['POST /publish', 'GET /history', 'GET /presence', 'GET /channels', 'POST /disconnect', 'GET /schedules']);
const CANCEL = /^\/schedules\/[0-9a-z]{1,64}$/;
/** Logins checked at once (each costs one scrypt derivation); more wait a second (429). */
const MAX_LOGINS_IN_FLIGHT = 4;

/**
 * The admin console at `/admin`: the page, `POST /admin/login` and `/admin/logout`, and the JSON
 * endpoints under `/admin/api/`. Off (404 everywhere) without `adminPassword` or `adminKey`.
 * Logins are rate-limited per client address (LoginLimiter); a login sets a session cookie
 * (`HttpOnly`, `SameSite=Strict`, `Path=/admin`, `Secure` under TLS). Every request but GET and
 * HEAD needs the session's CSRF token in `X-CSRF-Token` and an `Origin` equal to this node's own
 * (the login checks `Origin` when one is sent). Scripts may instead send `Authorization: Bearer <adminKey>` (no cookie, no CSRF).
 * See docs/admin.md.
 */
export class AdminConsole {
  private readonly sessions = new AdminSessions();
  private readonly limiter = new LoginLimiter();
  private readonly secrets: Promise<AdminSecrets>;
  /** The stats pushed on `$admin:stats` and the live tokens of the page's connection. */
  readonly live: AdminLive;
  /** The built page of `@tidings/pages` (`dist/admin/`); undefined while the console is off. */
  private readonly page: PageAssets | undefined;
  private loginsInFlight = 0;

  constructor(private readonly host: AdminHost) {
    const { adminPassword, adminKey } = host.options;
    this.secrets = AdminSecrets.create([adminPassword, adminKey]);
    this.page = this.enabled ? new PageAssets('admin') : undefined;
    this.live = new AdminLive(host, () => this.stats());
  }

  /** Starts publishing the live stats while consoles watch (nothing while the console is off). */
  start(): void {
    if (this.enabled) this.live.start();
  }

  stop(): void {
    this.live.stop();
  }

  /** Whether the console is on (`adminPassword` or `adminKey` is set). */
  get enabled(): boolean {
    return Boolean(this.host.options.adminPassword || this.host.options.adminKey);
  }

  /** Answers a request whose path is `/admin` or starts with `/admin/`. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    if (!this.enabled) return sendError(res, ErrorCode.NotFound, 'the admin console is off: set --admin-password (or --admin-key)');
    if (path === ADMIN_PREFIX) {
      res.writeHead(308, { location: `${ADMIN_PREFIX}/`, 'content-length': 0 });
      return void res.end();
    }
    if (path === `${ADMIN_PREFIX}/login`) return this.login(req, res);
    if (path === `${ADMIN_PREFIX}/logout`) return this.logout(req, res);
    if (path.startsWith(`${ADMIN_PREFIX}/api/`)) return this.api(req, res, url, path.slice(`${ADMIN_PREFIX}/api`.length));
    return this.page?.handle(req, res, path);
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendError(res, ErrorCode.NotFound, '/admin/login answers POST only', 405);
    const address = this.host.trust.clientAddress(req) ?? '';
    const wait = this.loginsInFlight >= MAX_LOGINS_IN_FLIGHT ? 1 : this.limiter.attempt(address);
    if (wait !== undefined) {
      this.host.refusals.request('limit', req, ErrorCode.LimitExceeded, 'too many admin logins');
      res.setHeader('retry-after', String(wait));
      return sendError(res, ErrorCode.LimitExceeded, `too many login attempts from this address: retry in ${wait} s`);
    }
    if (!this.sameOrigin(req, false)) return this.refuse(req, res, 'origin', ErrorCode.PermissionDenied, 'the login came from another origin');
    let password: unknown;
    try {
      const body = await readJson(req, MAX_SECRET_LENGTH * 2, 2);
      password = isObject(body) ? body.password : undefined;
    } catch (err) {
      if (err instanceof RequestGone) return;
      return sendError(res, ErrorCode.BadRequest, 'expected a JSON body {"password": "…"}');
    }
    if (typeof password !== 'string' || !(await this.check(password))) {
      return this.refuse(req, res, 'auth', ErrorCode.Unauthorized, 'wrong admin password');
    }
    this.limiter.succeeded(address);
    const session = this.sessions.create();
    res.setHeader('set-cookie', this.cookie(req, session.id, SESSION_TTL_S));
    this.host.log.info('admin login', { address });
    sendJson(res, 200, { csrf: session.csrf, expiresAt: session.expires });
  }

  private async check(password: string): Promise<boolean> {
    this.loginsInFlight++;
    try {
      return await (await this.secrets).matches(password);
    } finally {
      this.loginsInFlight--;
    }
  }

  private logout(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') return sendError(res, ErrorCode.NotFound, '/admin/logout answers POST only', 405);
    const session = this.session(req);
    if (!session) return sendError(res, ErrorCode.Unauthorized, 'not logged in');
    if (!this.csrfOk(req, session, res)) return;
    this.sessions.end(session.id);
    res.setHeader('set-cookie', this.cookie(req, '', 0));
    sendJson(res, 200, {});
  }

  private async api(req: IncomingMessage, res: ServerResponse, url: URL, sub: string): Promise<void> {
    const method = req.method ?? 'GET';
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const key = this.host.options.adminKey;
    if (bearer !== undefined) {
      if (!key || !sameText(bearer, key)) return this.refuse(req, res, 'auth', ErrorCode.Unauthorized, 'wrong admin key');
    } else {
      const session = this.session(req);
      if (!session) return this.refuse(req, res, 'auth', ErrorCode.Unauthorized, 'log in to the admin console first');
      if (sub === '/session' && method === 'GET') return sendJson(res, 200, { csrf: session.csrf, expiresAt: session.expires, node: this.host.id });
      if (method !== 'GET' && method !== 'HEAD' && !this.csrfOk(req, session, res)) return;
    }
    try {
      if (sub === '/stats' && method === 'GET') return sendJson(res, 200, this.stats());
      if (sub === '/live-token' && method === 'POST') return this.liveToken(res, url);
      const route = API_ROUTES.has(`${method} ${sub}`) || (method === 'DELETE' && CANCEL.test(sub)) ? apiRoute(method, `/api${sub}`) : undefined;
      if (!route) return sendError(res, ErrorCode.NotFound, `no admin endpoint ${method} ${sub.slice(0, 64)}`);
      const apiUrl = new URL(url.href);
      apiUrl.pathname = `/api${sub}`;
      sendJson(res, 200, await route(this.host, req, apiUrl));
    } catch (err) {
      if (err instanceof RequestGone) return;
      const e = this.host.publisher.mapError(err);
      if (!(err instanceof TidingsError)) this.host.log.error('admin api failure', { err: String(err) });
      this.host.refusals.request(reasonOf(e.code), req, e.code, e.message);
      sendProtocolError(res, e);
    }
  }

  /**
   * `POST /admin/api/live-token[?ttl=<seconds>]` (session and CSRF, or the admin key): a token for
   * the page's own Tidings connection, good on this node for `ttl` seconds (1–300, default 60),
   * that receives the admin channels and nothing else (auth/live-token.ts).
   */
  private liveToken(res: ServerResponse, url: URL): void {
    const asked = url.searchParams.get('ttl');
    const ttl = asked === null ? LIVE_TOKEN_TTL_S : Number(asked);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LIVE_TOKEN_TTL_S) {
      return sendError(res, ErrorCode.BadRequest, `ttl must be an integer from 1 to ${MAX_LIVE_TOKEN_TTL_S} seconds`);
    }
    sendJson(res, 200, this.live.issue(ttl));
  }

  /** This node's counters now. */
  stats(): AdminStats {
    const m = this.host.metrics;
    let publications = 0;
    for (const n of Object.values(m.publications)) publications += n;
    let delivered = 0;
    for (const w of Object.values(m.written)) delivered += w.messages;
    return { node: this.host.id, time: Date.now(), connections: this.host.connectionCounts(), subscriptions: this.host.subscriptionCount(), publications, delivered };
  }

  private session(req: IncomingMessage): AdminSession | undefined {
    return this.sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));
  }

  /** The CSRF token and Origin checks of a state-changing request; answers 403 and returns false when one fails. */
  private csrfOk(req: IncomingMessage, session: AdminSession, res: ServerResponse): boolean {
    if (!this.sameOrigin(req, true)) {
      this.refuse(req, res, 'origin', ErrorCode.PermissionDenied, 'state-changing admin requests must come from the admin page\'s own origin');
      return false;
    }
    const token = req.headers[CSRF_HEADER];
    if (!this.sessions.checkCsrf(session, typeof token === 'string' ? token : undefined)) {
      this.refuse(req, res, 'auth', ErrorCode.PermissionDenied, 'missing or wrong X-CSRF-Token');
      return false;
    }
    return true;
  }

  /** Whether the request's `Origin` is this node's own (scheme from `requestScheme`, host from `Host`); `required`: a missing Origin fails. */
  private sameOrigin(req: IncomingMessage, required: boolean): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return origin === `${this.host.trust.requestScheme(req)}://${req.headers.host ?? ''}`;
  }

  private cookie(req: IncomingMessage, value: string, maxAge: number): string {
    const secure = this.host.secure || this.host.trust.requestScheme(req) === 'https';
    return `${SESSION_COOKIE}=${value}; Path=${ADMIN_PREFIX}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }

  private refuse(req: IncomingMessage, res: ServerResponse, reason: 'auth' | 'origin', code: number, message: string): void {
    this.host.refusals.request(reason, req, code, message);
    sendError(res, code, message);
  }
}

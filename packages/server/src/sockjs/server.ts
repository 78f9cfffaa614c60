import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import { AuthError, type Credentials } from '../auth/jwt.js';
import type { ConnectRequest, WireProtocol } from '../proxy/request.js';
import { TidingsError } from '../errors.js';
import { requestCredentials } from '../http/handshake.js';
import type { ProxyTrust } from '../http/forwarded.js';
import { originAllowed } from '../http/origin.js';
import type { RequestHead } from '../http/request-head.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { reasonOf, type RefusalReason, type Refusals } from '../observability/refusals.js';
import type { ServerOptions } from '../options.js';
import type { Session } from '../session.js';
import type { StompWire } from '../stomp/wire.js';
import type { Timed, TimerWheel } from '../timer.js';
import type { Transport } from '../transports/transport.js';
import { CloseSweep } from '../websocket/close-sweep.js';
import { WebSocketConnection } from '../websocket/connection.js';
import { checkUpgrade, isRefusal, refuse, refuseUpgrade, switchingProtocols } from '../websocket/handshake.js';
import { IframePage, NO_CACHE, corsHeaders, greeting, info, preflight, sendText, sessionCookie, type PageSettings } from './pages.js';
import { SockjsStompWire, SockjsTransport, isStompStart } from './protocols.js';
import { HttpReceiver, needsCallback, type ReceivingTransport } from './receivers.js';
import { handleSend } from './send.js';
import { SockjsSession, type SessionOwner, type SessionUser } from './session.js';
import { FramedWebSocket, RawWebSocket } from './websocket.js';
import { routeOf, type Route } from './paths.js';
import { SockjsCluster, sessionKey, sharable } from './cluster.js';
import type { Engine, SockjsControl } from '../engine/engine.js';

/** What the SockJS endpoint needs from its node. */
export interface SockjsHost {
  /** The node's id (cluster control messages). */
  readonly id: string;
  readonly engine: Engine;
  readonly options: ServerOptions;
  readonly timers: TimerWheel;
  readonly refusals: Refusals;
  /** Client address and scheme through trusted proxies (`--trust-proxy`). */
  readonly trust: ProxyTrust;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly draining: boolean;
  /** Open connections of every protocol on the node. */
  readonly connections: number;
  verify(token: string): Promise<Credentials>;
  mapError(err: unknown): { code: number; message: string };
  /** What the connect proxy is told about the request that opened a SockJS session. */
  connectRequest(req: RequestHead, transport: string, protocol: WireProtocol): ConnectRequest;
  /** A JSON-protocol session; undefined when the node is full. */
  newSession(transport: Transport, credentials: Credentials | undefined, request?: ConnectRequest): Session | undefined;
  readonly stomp: { acceptWire(wire: StompWire, credentials: Credentials | undefined, request: ConnectRequest): void };
}

const SWEEP_MS = 1000;
const CALLBACK = /^[a-zA-Z0-9_.]{1,128}$/;
const RECEIVING_METHOD: Record<ReceivingTransport, 'GET' | 'POST'> = { xhr: 'POST', xhr_streaming: 'POST', eventsource: 'GET', htmlfile: 'GET', jsonp: 'GET' };

/** Why a new session is closed as soon as it opens. */
interface Refusal {
  reason: RefusalReason;
  close: number;
  message: string;
  code: number;
}

/**
 * The SockJS endpoint (protocol 0.3.3) under `sockjs.prefix` and its aliases: info, the iframe
 * page, every transport, and the sessions. Session ids come from the client and are its secret:
 * they are never logged. One sweep on the node's timer sends heartbeats and collects sessions.
 */
export class SockjsServer implements SessionOwner, Timed {
  /** HTTP sessions by key (`sessionKey(server, session)`: the ids themselves are not kept). */
  private readonly byId = new Map<string, SockjsSession>();
  private readonly all = new Set<SockjsSession>();
  /** Sessions whose protocol is not known yet (they count toward `maxConnections`). */
  private readonly undetected = new Set<SockjsSession>();
  private readonly pages: PageSettings;
  private readonly iframe: IframePage;
  private readonly closeSweep: CloseSweep;
  /** Forwarding to the nodes holding sessions, when the engine is shared and has claims. */
  private readonly cluster: SockjsCluster | undefined;
  private sweeping = false;

  constructor(private readonly host: SockjsHost) {
    const { sockjs } = host.options;
    this.pages = { jsessionid: sockjs.jsessionid, clientUrl: sockjs.clientUrl };
    this.iframe = new IframePage(sockjs.clientUrl);
    this.closeSweep = new CloseSweep(host.timers);
    const { engine } = host;
    const claims = engine.shared ? engine.claims : undefined;
    this.cluster = claims && new SockjsCluster(
      { id: host.id, claims, publishControl: (m) => engine.publishControl(m), timers: host.timers, log: host.log },
      { byKey: (key) => this.byId.get(key) },
      () => ({ heartbeatMs: host.options.sockjs.heartbeat * 1000, responseLimit: host.options.sockjs.responseLimit, maxQueueBytes: host.options.limits.maxQueueBytes }),
    );
  }

  /** A SockJS control message from another node. */
  onControl(message: SockjsControl): void {
    this.cluster?.onControl(message);
  }

  /** Live SockJS sessions, including closed ones kept for the disconnect delay. */
  get size(): number {
    return this.all.size;
  }

  /** Sessions not yet running a protocol. */
  get pending(): number {
    return this.undetected.size;
  }

  /** The route of `path`, when it is under the prefix or an alias. */
  route(path: string): Route | undefined {
    const { prefix, aliases } = this.host.options.sockjs;
    return routeOf(path, [prefix, ...aliases]);
  }

  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL, route: Route): void {
    this.dispatch(req, res, url, route).catch((err: unknown) => {
      this.host.log.error('sockjs failure', { transport: route.label, err: err instanceof Error ? err.stack ?? err.message : String(err) });
      if (!res.headersSent) sendText(res, 500, 'Internal error');
      else res.destroy();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, route: Route): Promise<void> {
    const method = req.method ?? 'GET';
    if (route.kind === 'greeting') return method === 'GET' ? greeting(res) : notAllowed(res, 'GET');
    if (route.kind === 'iframe') return method === 'GET' ? this.iframe.serve(req, res) : notAllowed(res, 'GET');
    if (route.kind === 'websocket') {
      return method === 'GET' ? sendText(res, 400, 'Can "Upgrade" only to "WebSocket".') : notAllowed(res, 'GET');
    }
    if (!this.originOk(req, res, route.label)) return;
    if (route.kind === 'info') {
      if (method === 'OPTIONS') return preflight(req, res, 'GET', this.pages);
      return method === 'GET' ? info(req, res, this.pages) : notAllowed(res, 'OPTIONS, GET');
    }
    const { transport } = route;
    const key = sessionKey(route.server, route.session);
    const shared = this.cluster !== undefined && sharable(route.session) ? this.cluster : undefined;
    if (transport === 'xhr_send' || transport === 'jsonp_send') {
      if (method === 'OPTIONS' && transport === 'xhr_send') return preflight(req, res, 'POST', this.pages);
      if (method !== 'POST') return notAllowed(res, transport === 'xhr_send' ? 'OPTIONS, POST' : 'POST');
      this.transportHeaders(req, res);
      const limit = sendLimit(this.host.options.limits.maxMessageSize);
      const owner = !this.byId.has(key) && shared ? await shared.elsewhere(key).catch(() => undefined) : undefined;
      if (owner !== undefined) return handleSend(req, res, { open: () => true, deliver: (messages) => shared!.send(owner, key, messages) }, transport, limit);
      return handleSend(req, res, {
        open: () => this.byId.get(key)?.state === 'open',
        deliver: (messages) => {
          const session = this.byId.get(key);
          if (session?.state !== 'open') return false;
          session.receive(messages);
          return true;
        },
      }, transport, limit);
    }
    const expected = RECEIVING_METHOD[transport];
    if (method === 'OPTIONS' && expected === 'POST') return preflight(req, res, 'POST', this.pages);
    if (method !== expected) return notAllowed(res, expected === 'POST' ? 'OPTIONS, POST' : 'GET');
    let callback = '';
    if (needsCallback(transport)) {
      const c = url.searchParams.get('c');
      if (c === null) return sendText(res, 500, '"callback" parameter required');
      if (!CALLBACK.test(c)) return sendText(res, 500, 'invalid "callback" parameter');
      callback = c;
    }
    this.transportHeaders(req, res);
    const receiver = new HttpReceiver(res, transport, callback, this.host.options.sockjs.responseLimit, this.closeSweep);
    if (!this.byId.has(key) && shared) {
      const owner = await shared.claim(key).catch(() => this.host.id);
      if (owner !== this.host.id) {
        if (res.destroyed) return;
        receiver.open();
        return shared.receive(owner, key, receiver, res);
      }
    }
    const found = this.byId.get(key) ?? await this.open(req, url, route.label, key);
    if (res.destroyed) return;
    receiver.start(found);
  }

  /** A WebSocket upgrade under the prefix: `/<server>/<session>/websocket` or raw `/websocket`. */
  async handleUpgrade(req: RequestHead, socket: Duplex, head: Buffer, url: URL, route: Route): Promise<void> {
    if (route.kind !== 'websocket') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const upgrade = checkUpgrade(req);
    if (isRefusal(upgrade)) {
      this.refused('bad_request', req, route.label, ErrorCode.BadRequest, upgrade.message);
      return refuseUpgrade(socket, upgrade);
    }
    if (!this.originAllowed(req)) {
      const message = `origin ${req.headers.origin ?? ''} is not allowed (see --allowed-origins)`;
      this.refused('origin', req, route.label, ErrorCode.PermissionDenied, message);
      return refuse(socket, ErrorCode.PermissionDenied, message);
    }
    const session = await this.open(req, url, route.label, undefined);
    if (socket.destroyed) return session.close(1000, 'gone');
    socket.write(switchingProtocols({ key: upgrade.key, protocol: undefined }));
    const conn = new WebSocketConnection(socket, undefined, sendLimit(this.host.options.limits.maxMessageSize), this.closeSweep);
    conn.remoteAddress = this.host.trust.clientAddress(req);
    const receiver = route.raw ? new RawWebSocket(conn, session) : new FramedWebSocket(conn, session);
    conn.attach(receiver);
    conn.start(head);
    session.attach(receiver);
  }

  /**
   * A new session, registered under `key` (HTTP transports) or not (WebSocket). When the node is
   * draining or full, or the token is refused, the session opens already closed: the client reads
   * the close frame with the Tidings close code.
   */
  private async open(req: IncomingMessage | RequestHead, url: URL, label: string, key: string | undefined): Promise<SockjsSession> {
    const { options } = this.host;
    let credentials: Credentials | undefined;
    let refusal: Refusal | undefined;
    if (this.host.draining) {
      refusal = { reason: 'unavailable', close: CloseCode.Shutdown, code: ErrorCode.ShuttingDown, message: 'the node is shutting down' };
    } else if (this.host.connections + this.undetected.size >= options.limits.maxConnections) {
      refusal = { reason: 'limit', close: CloseCode.ConnectionLimit, code: ErrorCode.LimitExceeded, message: 'connection limit reached' };
    } else {
      try {
        credentials = await requestCredentials(req, url, (token) => this.host.verify(token));
      } catch (err) {
        if (!(err instanceof AuthError) && !(err instanceof TidingsError)) throw err;
        const e = this.host.mapError(err);
        const close = e.code === ErrorCode.TokenExpired ? CloseCode.TokenExpired : e.code === ErrorCode.BadRequest ? CloseCode.BadRequest : CloseCode.InvalidToken;
        refusal = { reason: reasonOf(e.code) ?? 'auth', close, code: e.code, message: e.message };
      }
    }
    const existing = key === undefined ? undefined : this.byId.get(key);
    if (existing) return existing;
    const session = new SockjsSession(this, credentials, this.host.metrics.written.sockjs, this.host.connectRequest(req, 'sockjs', 'sockjs'));
    this.all.add(session);
    if (key !== undefined) this.byId.set(key, session);
    if (refusal) {
      this.refused(refusal.reason, req, label, refusal.code, refusal.message);
      session.close(refusal.close, refusal.message);
    } else {
      this.undetected.add(session);
    }
    this.scheduleSweep(Date.now());
    return session;
  }

  detect(session: SockjsSession, first: string): SessionUser | undefined {
    this.undetected.delete(session);
    const { maxQueueBytes, maxMessageSize } = this.host.options.limits;
    if (isStompStart(first)) {
      const wire = new SockjsStompWire(session, maxQueueBytes, this.host.metrics.written.sockjs);
      this.host.stomp.acceptWire(wire, session.credentials, { ...session.request, protocol: 'stomp' });
      return wire;
    }
    const transport = new SockjsTransport(session, maxQueueBytes, maxMessageSize, this.host.metrics.written.sockjs);
    const s = this.host.newSession(transport, session.credentials, session.request);
    if (!s) {
      this.host.refusals.refused('limit', { transport: 'sockjs', code: CloseCode.ConnectionLimit, message: 'connection limit reached' });
      session.close(CloseCode.ConnectionLimit, 'connection limit reached');
      return undefined;
    }
    transport.session = s;
    return transport;
  }

  /** The sweep: heartbeats, disconnect delays, connect deadlines; forgets finished sessions. */
  onTimer(now: number): void {
    this.sweeping = false;
    const { sockjs, connectTimeout } = this.host.options;
    const timing = { heartbeatMs: sockjs.heartbeat * 1000, disconnectDelayMs: sockjs.disconnectDelay * 1000, connectTimeoutMs: connectTimeout * 1000 };
    for (const session of this.all) {
      if (session.tick(now, timing)) continue;
      this.all.delete(session);
      this.undetected.delete(session);
    }
    if (this.byId.size > 0) {
      for (const [key, session] of this.byId) {
        if (this.all.has(session)) continue;
        this.byId.delete(key);
        this.cluster?.forget(key);
      }
    }
    this.scheduleSweep(now);
  }

  /** Tells every session's client to reconnect elsewhere (close 3000). */
  drain(): void {
    for (const session of [...this.all]) {
      if (session.user) session.user.drain();
      else session.close(CloseCode.Shutdown, 'server shutting down');
    }
  }

  /** Closes every session now. */
  terminateAll(): void {
    this.cluster?.endAll();
    for (const session of [...this.all]) session.close(CloseCode.Shutdown, 'server shutting down');
  }

  private scheduleSweep(now: number): void {
    if (this.sweeping || this.all.size === 0) return;
    this.sweeping = true;
    this.host.timers.schedule(this, now + SWEEP_MS);
  }

  /** Headers of every transport response: CORS with credentials, no caching, the cookie when on. */
  private transportHeaders(req: IncomingMessage, res: ServerResponse): void {
    corsHeaders(req, res);
    sessionCookie(req, res, this.pages);
    res.setHeader('Cache-Control', NO_CACHE);
  }

  /**
   * The node's Origin rule, plus the node's own origin: the iframe transports run in SockJS's
   * `iframe.html`, served from here, so their requests come from this origin.
   */
  private originAllowed(req: RequestHead): boolean {
    const { origin, host } = req.headers;
    const scheme = this.host.trust.requestScheme(req);
    return originAllowed(origin, host, this.host.options.allowedOrigins, scheme) || originAllowed(origin, host, [], scheme);
  }

  private originOk(req: IncomingMessage, res: ServerResponse, label: string): boolean {
    if (this.originAllowed(req)) return true;
    const message = `origin ${req.headers.origin ?? ''} is not allowed (see --allowed-origins)`;
    this.refused('origin', req, label, ErrorCode.PermissionDenied, message);
    sendText(res, 403, message);
    return false;
  }

  /** Logs a refusal under the route's label, which leaves out the session id (a client secret). */
  private refused(reason: RefusalReason, req: RequestHead, label: string, code: number, message: string): void {
    const header = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v.join(', ') : v;
    this.host.refusals.refused(reason, {
      transport: label, code, message, remote: this.host.trust.clientAddress(req), origin: header(req.headers.origin), userAgent: header(req.headers['user-agent']),
    });
  }
}

/** The largest client send: a JSON array around one maximal message, with room for escapes. */
function sendLimit(maxMessageSize: number): number {
  return maxMessageSize * 2 + 1024;
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendText(res, 405, '');
}

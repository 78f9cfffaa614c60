import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, type Cursor } from '@tidings/protocol';
import { AuthError, type Credentials } from '../auth/jwt.js';
import type { ChannelPolicy } from '../channels.js';
import { TidingsError } from '../errors.js';
import { handshakeToken } from '../http/credentials.js';
import { channelParams, requestCursor } from '../http/handshake.js';
import type { ProxyTrust } from '../http/forwarded.js';
import { originAllowed } from '../http/origin.js';
import type { RequestHead } from '../http/request-head.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import { reasonOf, type Refusals } from '../observability/refusals.js';
import type { ServerOptions } from '../options.js';
import type { ConnectRequest, WireProtocol } from '../proxy/request.js';
import type { Session } from '../session.js';
import type { TimerWheel } from '../timer.js';
import { CloseSweep } from '../websocket/close-sweep.js';
import { negotiateDeflate, type Negotiated } from '../websocket/deflate.js';
import { MESSAGE_TOO_BIG, WebSocketConnection } from '../websocket/connection.js';
import { checkUpgrade, header, isRefusal, refuse, refuseUpgrade, switchingProtocols, type Upgrade } from '../websocket/handshake.js';
import { WebSocketTransport, type WebSocketTransportOwner } from './websocket.js';

/** What the WebSocket endpoint needs from its node. */
export interface WebSocketHost {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly log: Logger;
  readonly timers: TimerWheel;
  readonly draining: boolean;
  readonly refusals: Refusals;
  /** Client address and scheme through trusted proxies (`--trust-proxy`). */
  readonly trust: ProxyTrust;
  readonly metrics: Metrics;
  verify(token: string): Promise<Credentials>;
  mapError(err: unknown): { code: number; message: string };
  /** What the connect proxy is told about the upgrade request. */
  connectRequest(req: RequestHead, transport: string, protocol: WireProtocol): ConnectRequest;
  /** The connect seam (`Proxies.authenticate`), for `/ws?connect=1`. */
  authenticate(credentials: Credentials | undefined, request: ConnectRequest, client: string, data: unknown): Promise<Credentials | undefined>;
  /** Creates a session for a new connection; `undefined` when the node is full. */
  newSession(transport: WebSocketTransport, credentials: Credentials | undefined, request?: ConnectRequest, id?: string): Session | undefined;
  /**
   * Takes connections that chose a STOMP subprotocol (`v10.stomp`, `v11.stomp`, `v12.stomp`), and
   * those without one whose first message is a STOMP CONNECT (`first`, to be read as input).
   */
  readonly stomp: { acceptWebSocket(conn: WebSocketConnection, credentials: Credentials | undefined, request: ConnectRequest, first?: Buffer): void };
}

/** Until a connection takes an upgrading socket (and handles its errors), an error destroys it. Shared, not a closure per socket. */
export function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** What `/ws?connect=1` opens the session with: `channel=` parameters and the resume cursor. */
interface OpenAtOnce {
  readonly channels: string[];
  readonly cursor: Cursor;
  /** The client id the connect proxy was told. */
  readonly client: string;
}

/**
 * `/ws`: the WebSocket endpoint. Checks the handshake, Origin and token before upgrading, then
 * feeds decoded messages to the session. With `connect=1` the handshake is the `connect`: the
 * `101` and the `connected` message leave in one write. Keepalive is one sweep over all
 * connections (`heartbeat`); close handshakes are bounded by one more (`CloseSweep`).
 */
export class WebSocketEndpoint implements WebSocketTransportOwner {
  private readonly transports = new Set<WebSocketTransport>();
  private readonly sweep: CloseSweep;

  constructor(private readonly host: WebSocketHost) {
    this.sweep = new CloseSweep(host.timers);
  }

  get log(): Logger {
    return this.host.log;
  }

  get size(): number {
    return this.transports.size;
  }

  async handleUpgrade(req: RequestHead, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const { options, refusals } = this.host;
    const upgrade = checkUpgrade(req);
    if (isRefusal(upgrade)) {
      refusals.request('bad_request', req, ErrorCode.BadRequest, upgrade.message);
      return refuseUpgrade(socket, upgrade);
    }
    if (!originAllowed(req.headers.origin, req.headers.host, options.allowedOrigins, this.host.trust.requestScheme(req))) {
      const message = `origin ${req.headers.origin ?? ''} is not allowed (see --allowed-origins)`;
      refusals.request('origin', req, ErrorCode.PermissionDenied, message);
      return refuse(socket, ErrorCode.PermissionDenied, message);
    }
    if (this.host.draining) {
      refusals.request('unavailable', req, ErrorCode.ShuttingDown, 'the node is shutting down');
      return refuse(socket, ErrorCode.ShuttingDown, 'the node is shutting down');
    }
    let credentials: Credentials | undefined;
    let open: OpenAtOnce | undefined;
    const stomp = upgrade.protocol !== undefined;
    const request = this.host.connectRequest(req, stomp ? 'stomp-ws' : 'websocket', stomp ? 'stomp' : 'json');
    try {
      const token = handshakeToken(req, url);
      if (token !== undefined) credentials = await this.host.verify(token);
      if (!stomp && url.searchParams.get('connect') === '1') {
        const client = randomUUID();
        credentials = await this.host.authenticate(credentials, request, client, undefined);
        open = this.openParams(req, url, credentials, client);
      }
    } catch (err) {
      if (!(err instanceof AuthError) && !(err instanceof TidingsError)) throw err;
      const e = this.host.mapError(err);
      refusals.request(reasonOf(e.code), req, e.code, e.message);
      return refuse(socket, e.code, e.message);
    }
    if (socket.destroyed) return;
    socket.removeListener('error', destroyOnError);
    // STOMP frames are built per connection: a STOMP subprotocol is answered without compression
    const deflate = stomp ? undefined : negotiateDeflate(header(req, 'sec-websocket-extensions'), options.wsCompression);
    if (open) return this.acceptAndOpen(req, upgrade, socket, head, credentials, open, deflate);
    socket.write(switchingProtocols(upgrade, deflate?.header));
    const transport = this.accept(req, upgrade, socket, head, credentials, request, undefined, deflate);
    if (transport) transport.stompCandidate = true;
  }

  /** Checks `channel=` and `cursor=` of `/ws?connect=1` as `/sse` does. */
  private openParams(req: RequestHead, url: URL, credentials: Credentials | undefined, client: string): OpenAtOnce {
    const { options, policy } = this.host;
    const channels = channelParams(url);
    if (channels.length > options.limits.maxSubscriptions) {
      throw new TidingsError(ErrorCode.LimitExceeded, `at most ${options.limits.maxSubscriptions} channels per connection`);
    }
    const who = { user: credentials?.user ?? '', channels: credentials?.channels };
    for (const channel of channels) policy.checkSubscribe(policy.resolve(channel), channel, who);
    return { channels, cursor: requestCursor(req, url), client };
  }

  /**
   * `request` is what the connect proxy is told at the `connect` command (or STOMP CONNECT); absent
   * when the handshake was the connect (`open.client` is then the session's id).
   */
  private accept(req: RequestHead, upgrade: Upgrade, socket: Duplex, head: Buffer, credentials: Credentials | undefined,
    request: ConnectRequest | undefined, client?: string, deflate?: Negotiated): WebSocketTransport | undefined {
    const conn = new WebSocketConnection(socket, upgrade.protocol, this.host.options.limits.maxMessageSize, this.sweep, deflate?.deflater);
    conn.remoteAddress = this.host.trust.clientAddress(req);
    if (upgrade.protocol !== undefined) {
      this.host.stomp.acceptWebSocket(conn, credentials, request ?? this.host.connectRequest(req, 'stomp-ws', 'stomp'));
      conn.start(head);
      return undefined;
    }
    const transport = new WebSocketTransport(conn, this, this.host.options.limits.maxQueueBytes, this.host.metrics.written.websocket, credentials, request);
    conn.attach(transport);
    const session = this.host.newSession(transport, credentials, request, client);
    if (!session) {
      this.host.refusals.request('limit', req, CloseCode.ConnectionLimit, 'connection limit reached');
      conn.start(head);
      conn.close(CloseCode.ConnectionLimit, 'connection limit reached');
      return undefined;
    }
    transport.session = session;
    this.transports.add(transport);
    conn.start(head);
    return transport;
  }

  /** Upgrades and opens the session; the 101 and what the open produces leave in one write. */
  private async acceptAndOpen(req: RequestHead, upgrade: Upgrade, socket: Duplex, head: Buffer, credentials: Credentials | undefined, open: OpenAtOnce,
    deflate: Negotiated | undefined): Promise<void> {
    socket.cork();
    try {
      socket.write(switchingProtocols(upgrade, deflate?.header));
      const transport = this.accept(req, upgrade, socket, head, credentials, undefined, open.client, deflate);
      if (!transport) return;
      await transport.session?.open(open.channels, open.cursor);
      transport.flush();
    } finally {
      socket.uncork();
    }
  }

  protocolError(transport: WebSocketTransport, code: number, message: string): void {
    this.host.refusals.refused(code === MESSAGE_TOO_BIG ? 'limit' : 'bad_request', { transport: 'websocket', code, message, remote: transport.connection.remoteAddress });
  }

  /** The session never connected: it ends without a word, and the broker reads `first` as the connection's first input. */
  handOverToStomp(transport: WebSocketTransport, first: Buffer): void {
    this.transports.delete(transport);
    transport.discard();
    transport.session?.closed();
    const request = transport.request ?? { transport: 'stomp-ws', protocol: 'stomp', remoteAddr: '', headers: {} };
    this.host.stomp.acceptWebSocket(transport.connection, transport.handshake, { ...request, transport: 'stomp-ws', protocol: 'stomp' }, first);
  }

  remove(transport: WebSocketTransport): void {
    if (!this.transports.delete(transport)) return;
    transport.session?.closed();
  }

  /** Pings every connection; one that did not answer the previous ping is closed (3002). */
  heartbeat(): void {
    for (const transport of this.transports) {
      if (!transport.alive) {
        transport.session?.disconnect(CloseCode.NoPong, 'no pong');
        transport.connection.terminate();
        continue;
      }
      transport.alive = false;
      transport.connection.ping();
    }
  }

  /** Tells every connection to reconnect elsewhere and closes it (3000). */
  drain(): void {
    for (const transport of [...this.transports]) transport.session?.disconnect(CloseCode.Shutdown, 'server shutting down');
  }

  terminateAll(): void {
    for (const transport of [...this.transports]) transport.connection.terminate();
  }
}

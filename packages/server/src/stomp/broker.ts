import type { AddressInfo, Socket } from 'node:net';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import type { StompVersion } from '@tidings/stomp';
import type { Credentials } from '../auth/jwt.js';
import type { Proxies } from '../proxy/proxies.js';
import type { ConnectRequest } from '../proxy/request.js';
import type { ChannelPolicy } from '../channels.js';
import type { Engine, UserControlMessage } from '../engine/engine.js';
import type { Hub } from '../hub.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../observability/metrics.js';
import type { Refusals } from '../observability/refusals.js';
import type { Disconnects } from '../observability/disconnects.js';
import type { ServerOptions, TlsOptions } from '../options.js';
import type { Publisher } from '../publisher.js';
import type { ServerSubscriptions } from '../server-subs.js';
import type { TimerWheel } from '../timer.js';
import { StompConnection, type ConnectionRegistry } from './connection.js';
import { StompError } from './errors.js';
import type { StompHost } from './host.js';
import { ClusterQueues } from './cluster-queues.js';
import type { StompQueues } from './queue-contract.js';
import type { SharedQueueLog } from './queue-log.js';
import { MemoryQueues } from './queues.js';
import { versionsFor } from './subprotocols.js';
import { TcpListener } from './tcp.js';
import { TopicRouter } from './topics.js';
import type { WebSocketConnection } from '../websocket/connection.js';
import { TcpWire, WebSocketWire, transportOf, type StompWire } from './wire.js';

/** What the broker needs from its node. */
export interface BrokerNode {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly engine: Engine;
  readonly hub: Hub;
  readonly publisher: Publisher;
  readonly timers: TimerWheel;
  readonly log: Logger;
  readonly refusals: Refusals;
  readonly metrics: Metrics;
  readonly disconnects: Disconnects;
  readonly serverSubs: ServerSubscriptions;
  readonly proxies: Proxies;
  readonly draining: boolean;
  /** Open connections of every protocol on the node. */
  readonly connections: number;
  /** Where `/queue/…` lives when shared by the cluster (Redis Streams); node-local queues without. */
  readonly queueLog: SharedQueueLog | undefined;
  verify(token: string): Promise<Credentials>;
}

/**
 * The node's STOMP broker: STOMP over WebSocket (`/ws` with a `v1x.stomp` subprotocol, or none
 * and a first CONNECT frame) and over TCP (`stompPort`), topics on the shared channels, queues
 * node-local (memory engine) or shared by the cluster (a SharedQueueLog: Redis engine).
 */
export class StompBroker implements StompHost, ConnectionRegistry {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly engine: Engine;
  readonly publisher: Publisher;
  readonly timers: TimerWheel;
  readonly log: Logger;
  readonly refusals: Refusals;
  readonly metrics: Metrics;
  readonly disconnects: Disconnects;
  readonly proxies: Proxies;
  readonly topics: TopicRouter;
  readonly queues: StompQueues;
  readonly serverSubs: ServerSubscriptions;
  private readonly all = new Set<StompConnection>();
  private readonly byUser = new Map<string, Set<StompConnection>>();
  private readonly tcp: TcpListener;

  constructor(private readonly node: BrokerNode) {
    this.options = node.options;
    this.policy = node.policy;
    this.engine = node.engine;
    this.publisher = node.publisher;
    this.timers = node.timers;
    this.log = node.log;
    this.refusals = node.refusals;
    this.metrics = node.metrics;
    this.disconnects = node.disconnects;
    this.serverSubs = node.serverSubs;
    this.proxies = node.proxies;
    this.topics = new TopicRouter(node.hub);
    this.queues = node.queueLog
      ? new ClusterQueues(node.queueLog, node.options.stompQueues, node.log)
      : new MemoryQueues(node.timers, node.options.stompQueues.maxLength);
    this.tcp = new TcpListener((socket) => this.acceptSocket(socket), node.options.stompTls ? node.options.tls : undefined);
  }

  /** Open STOMP connections over TCP, WebSocket and SockJS (including those still closing). */
  countByKind(): Record<StompWire['kind'], number> {
    const n = { tcp: 0, websocket: 0, sockjs: 0 };
    for (const conn of this.all) n[conn.wire.kind]++;
    return n;
  }

  /** Open STOMP connections (including those still closing). */
  get size(): number {
    return this.all.size;
  }

  verify(token: string): Promise<Credentials> {
    return this.node.verify(token);
  }

  /** Listens for STOMP over TCP. */
  listen(port: number, host: string): Promise<AddressInfo> {
    return this.tcp.listen(port, host);
  }

  /** The TCP listener's address, when listening. */
  address(): AddressInfo | undefined {
    return this.tcp.address();
  }

  /** Serves new STOMP-over-TLS connections with this certificate; throws for a bad pair or a plain listener. */
  setCertificate(tls: TlsOptions): void {
    this.tcp.setCertificate(tls);
  }

  /** Whether the TCP listener is STOMP over TLS. */
  get secure(): boolean {
    return this.tcp.secure;
  }

  /** Stops accepting TCP connections. */
  stopListening(): Promise<void> {
    return this.tcp.close();
  }

  /**
   * A `/ws` connection that chose a STOMP subprotocol, or offered none and sent a STOMP CONNECT
   * first (`first`, read as its first input; any version may be negotiated). `credentials` come
   * from its handshake.
   */
  acceptWebSocket(conn: WebSocketConnection, credentials: Credentials | undefined, request: ConnectRequest, first?: Buffer): void {
    const wire = new WebSocketWire(conn, this.options.limits.maxQueueBytes, this.metrics.written['stomp-ws']);
    this.open(wire, credentials, versionsFor(conn.protocol), request);
    if (first !== undefined) wire.onMessage(first);
  }

  /** STOMP over another wire (a SockJS session); `credentials` come from its opening request. */
  acceptWire(wire: StompWire, credentials: Credentials | undefined, request: ConnectRequest): void {
    this.open(wire, credentials, versionsFor(undefined), request);
  }

  acceptSocket(socket: Socket): void {
    this.open(new TcpWire(socket, this.options.limits.maxQueueBytes, this.metrics.written['stomp-tcp']), undefined, versionsFor(undefined));
  }

  /** `request`: what the connect proxy is told at CONNECT; over TCP it is made from the CONNECT frame's headers. */
  private open(wire: StompWire, credentials: Credentials | undefined, versions: readonly StompVersion[], request?: ConnectRequest): void {
    const refusal = this.node.draining ? new StompError('the node is shutting down', ErrorCode.ShuttingDown, CloseCode.Shutdown)
      : this.node.connections >= this.options.limits.maxConnections ? new StompError('connection limit reached', ErrorCode.LimitExceeded, CloseCode.ConnectionLimit)
      : undefined;
    const conn = new StompConnection(this, this, wire, credentials, versions, request);
    wire.attach(conn);
    this.all.add(conn);
    this.log.debug('connection opened', { transport: `stomp-${wire.kind}`, client: conn.id });
    if (refusal) conn.fail(refusal);
  }

  // ---- ConnectionRegistry ----

  connected(conn: StompConnection): void {
    this.metrics.handshakes[transportOf(conn.wire.kind)]++;
    if (conn.user === '') return;
    let set = this.byUser.get(conn.user);
    if (!set) {
      set = new Set();
      this.byUser.set(conn.user, set);
    }
    set.add(conn);
  }

  detached(conn: StompConnection): void {
    const set = this.byUser.get(conn.user);
    if (!set?.delete(conn) || set.size > 0) return;
    this.byUser.delete(conn.user);
  }

  gone(conn: StompConnection): void {
    this.all.delete(conn);
    this.log.debug('connection closed', { transport: `stomp-${conn.wire.kind}`, client: conn.id, user: conn.user });
  }

  // ---- node-wide operations ----

  /**
   * Carries out `POST /api/disconnect`, `/api/subscribe` and `/api/unsubscribe` for STOMP
   * connections of the user: server-side subscriptions go to the connection's
   * `/user/subscriptions` subscription (dropped quietly on unsubscribe); a client's own
   * subscription cannot be ended from the server in STOMP, so its connection closes.
   */
  control(message: UserControlMessage): void {
    const set = this.byUser.get(message.user);
    if (!set) return;
    for (const conn of [...set]) {
      if (message.type === 'disconnect') conn.fail(new StompError(message.reason, ErrorCode.PermissionDenied, message.code));
      else if (message.type === 'subscribe') void conn.serverSubscribe(message.channel);
      else if (conn.serverUnsubscribe(message.channel) && !conn.holds(message.channel)) continue;
      else if (conn.holds(message.channel)) {
        conn.fail(new StompError(`unsubscribed from ${message.channel}: ${message.reason}`, ErrorCode.NotSubscribed, CloseCode.ForceReconnect,
          'STOMP cannot end one subscription from the server, so the connection closes'));
      }
    }
  }

  /** Pings STOMP WebSocket connections; one that missed the previous pong is closed (3002). */
  ping(): void {
    for (const conn of this.all) {
      const wire = conn.wire;
      if (!(wire instanceof WebSocketWire) || !conn.connected) continue;
      if (!wire.alive) {
        conn.fail(new StompError('no pong', ErrorCode.BadRequest, CloseCode.NoPong));
        wire.terminate();
        continue;
      }
      wire.alive = false;
      wire.connection.ping();
    }
  }

  /** Keeps STOMP subscribers present in engines whose presence expires. */
  refreshPresence(): void {
    for (const conn of this.all) conn.refreshPresence();
  }

  /** Tells every STOMP client the node is going away (ERROR, close 3000). */
  drain(): void {
    for (const conn of [...this.all]) conn.fail(new StompError('server shutting down', ErrorCode.ShuttingDown, CloseCode.Shutdown, 'reconnect to another node'));
  }

  terminateAll(): void {
    for (const conn of [...this.all]) conn.wire.terminate();
  }
}

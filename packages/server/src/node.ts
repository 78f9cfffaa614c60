import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { ErrorCode, isAdminChannel, type ClientInfo, type Publication, type ServerMessage } from '@tidings/protocol';
import { AdminConsole, ADMIN_PREFIX } from './admin/console.js';
import { handleApi } from './api/routes.js';
import { TokenVerifier, type Credentials } from './auth/jwt.js';
import { ChannelPolicy } from './channels.js';
import { ClusterView, type ChannelCount } from './cluster-view.js';
import type { ControlMessage, Engine, EngineHandler } from './engine/engine.js';
import { MemoryEngine } from './engine/memory.js';
import { sendError, sendJson } from './http/json.js';
import { Hub } from './hub.js';
import { createLogger, type Logger } from './log.js';
import { resolveOptions, type ServerOptions, type ServerOptionsInput, type TlsOptions } from './options.js';
import { InboxActions } from './notifications/actions.js';
import { Inbox } from './notifications/inbox.js';
import { Preferences } from './notifications/preferences.js';
import { MemoryStore } from './notifications/memory-store.js';
import { Scheduler } from './notifications/scheduler.js';
import type { NotificationStore } from './notifications/store.js';
import { Publisher } from './publisher.js';
import { ServerSubscriptions } from './server-subs.js';
import { ProxyCaller } from './proxy/caller.js';
import { Proxies } from './proxy/proxies.js';
import { connectRequest, type ConnectRequest } from './proxy/request.js';
import { requestCredentials } from './http/handshake.js';
import { Session } from './session.js';
import { SockjsServer } from './sockjs/index.js';
import { CLIENT_PREFIX, ClientBundles } from './static/client-bundles.js';
import { Demo, ephemeralSecret } from './demo/demo.js';
import { StompBroker } from './stomp/index.js';
import type { SharedQueueLog } from './stomp/queue-log.js';
import { TimerWheel, type Timed } from './timer.js';
import { answerClientError } from './http/client-error.js';
import { answerPreflight } from './http/cors.js';
import { ProxyTrust } from './http/forwarded.js';
import { FrontDoor, HEAD_TIMEOUT_MS } from './http/front-door.js';
import type { RequestHead } from './http/request-head.js';
import { requestUrl } from './http/target.js';
import { Metrics, isSessionTransport, type TransportName } from './observability/metrics.js';
import { MetricsEndpoint } from './observability/metrics-endpoint.js';
import { Refusals } from './observability/refusals.js';
import { timed } from './observability/timed.js';
import { Disconnects } from './observability/disconnects.js';
import { NodeResponse, type HttpResponse } from './http/response.js';
import { handleEmulation, runCommands } from './transports/emulation.js';
import { PollEndpoint } from './transports/poll.js';
import { SessionSecrets } from './transports/session-secrets.js';
import { StreamEndpoint } from './transports/stream-endpoint.js';
import type { Transport } from './transports/transport.js';
import { WebSocketEndpoint, destroyOnError } from './transports/ws-endpoint.js';

const HTTP_TRANSPORTS = new Set(['/sse', '/stream', '/poll', '/emulation']);
const RESPONSE_TRANSPORTS = new Set(['/sse', '/stream', '/poll']);
const FORWARD_TIMEOUT_MS = 3000;
/** How often node:http checks request deadlines (`bodyTimeout`), in milliseconds. */
const REQUEST_CHECK_MS = 1000;

export interface TidingsNodeInit extends ServerOptionsInput {
  /** The engine; the memory engine when absent. */
  engine?: Engine;
  /** Where notifications and schedules are kept; in memory when absent (`tidings serve` uses SQLite). */
  store?: NotificationStore;
  logger?: Logger;
  /** Where STOMP `/queue/…` lives across nodes (`RedisQueueLog` with the Redis engine); node-local queues when absent. Closed by `close()`. */
  queueLog?: SharedQueueLog;
}

/**
 * One Tidings node: the HTTP server with `/ws`, `/api/*`, `/healthz`, `/readyz` and the SDK at `/client/`, its sessions,
 * the local hub and the engine that connects it to other nodes.
 */
export class TidingsNode implements EngineHandler, Timed {
  readonly options: ServerOptions;
  readonly engine: Engine;
  readonly log: Logger;
  /** Whose forwarding headers are believed (`trustProxy`): ask it for a request's client address and scheme. */
  readonly trust: ProxyTrust;
  /** The refusal log (rate-limited, at `info`). */
  readonly refusals: Refusals;
  /** This node's Prometheus metrics (`GET /metrics`). */
  readonly metrics: Metrics;
  private readonly metricsEndpoint: MetricsEndpoint;
  /** The log of connections the server closes (slow consumers and forced disconnects rate-limited, at `info`). */
  readonly disconnects: Disconnects;
  readonly policy: ChannelPolicy;
  readonly hub: Hub;
  readonly publisher: Publisher;
  readonly store: NotificationStore;
  readonly inbox: Inbox;
  /** Completing notifications' actions, reported through the action proxy. */
  readonly inboxActions: InboxActions;
  /** Server-side subscriptions remembered per user (`POST /api/subscribe`). */
  readonly serverSubs: ServerSubscriptions;
  /** Calls to the app backend (connect, refresh, subscribe, publish, RPC). */
  readonly proxies: Proxies;
  private readonly scheduler: Scheduler;
  readonly timers = new TimerWheel();
  readonly http: Server;
  readonly stomp: StompBroker;
  readonly sockjs: SockjsServer;
  readonly queueLog: SharedQueueLog | undefined;
  /** Cluster-wide views (`GET /api/channels`). */
  readonly views: ClusterView;
  /** The admin console at `/admin` (off without `adminPassword` or `adminKey`). */
  readonly admin: AdminConsole;
  /** The SDK's browser bundles at `/client/`. */
  readonly clientBundles = new ClientBundles();
  /** The demo at `/demo/` (`demo` on), else undefined. */
  readonly demo: Demo | undefined;
  private readonly verifier: TokenVerifier;
  private readonly websocket: WebSocketEndpoint;
  private readonly streams: StreamEndpoint;
  private readonly polls: PollEndpoint;
  private readonly door: FrontDoor;
  private readonly sessions = new Map<string, Session>();
  private readonly secrets = new SessionSecrets();
  /** This node's id, for answers to forwarded commands. */
  readonly id = randomUUID();
  private readonly forwards = new Map<string, (replies: ServerMessage[] | undefined) => void>();
  private readonly byUser = new Map<string, Set<Session>>();
  private state: 'new' | 'running' | 'draining' | 'closed' = 'new';

  constructor(init: TidingsNodeInit = {}) {
    const { engine, logger, store, queueLog, ...options } = init;
    this.queueLog = queueLog;
    this.options = resolveOptions(options);
    this.metrics = new Metrics({
      connections: () => this.connectionCounts(), subscriptions: () => this.subscriptionCount(),
      channels: () => this.hub.size, engineUp: () => this.engine.isReady(),
    }, this.options.metrics);
    // with metrics off, nothing is timed or observed: the plain per-transport counts are all that is left
    const measured = this.options.metrics;
    this.engine = measured ? timed(engine ?? new MemoryEngine(), 'command', this.metrics.engineDuration, this.metrics.engineErrors) : engine ?? new MemoryEngine();
    this.log = logger ?? createLogger('info');
    this.trust = new ProxyTrust(this.options.trustProxy);
    this.refusals = new Refusals(this.log, Date.now, this.metrics, this.trust);
    this.metricsEndpoint = new MetricsEndpoint({ metrics: this.metrics, refusals: this.refusals, key: this.options.metricsKey }, this.options,
      (err) => this.log.error('metrics failure', { err: String(err) }));
    this.disconnects = new Disconnects(this.log);
    this.policy = new ChannelPolicy(this.options.namespaces);
    // the demo signs its tokens with the configured secret, else with one that lives as long as the process
    if (this.options.demo && !this.options.jwt.secret) this.options.jwt.secret = ephemeralSecret();
    this.verifier = new TokenVerifier(this.options.jwt);
    const { proxy } = this.options;
    this.proxies = new Proxies(proxy, new ProxyCaller(
      { concurrency: proxy.concurrency, queue: proxy.queue, maxResponseBytes: this.options.limits.maxMessageSize, secret: proxy.secret },
      this.log, measured ? { calls: this.metrics.proxyCalls, duration: this.metrics.proxyDuration } : undefined,
    ));
    this.hub = new Hub(this.engine, (err) => this.log.warn('engine unsubscribe failed', { err: String(err) }), measured ? this.metrics.latency : undefined);
    this.publisher = new Publisher(this.engine, this.policy, this.log, this.options.limits.maxDepth, measured ? this.metrics : undefined);
    this.store = measured ? timed(store ?? new MemoryStore(), 'operation', this.metrics.storeDuration, this.metrics.storeErrors) : store ?? new MemoryStore();
    this.inbox = new Inbox(this.store, this.publisher, this.log, new Preferences(this.store, this.options.notificationTypes),
      (count) => this.metrics.notificationsSkipped.inc({ reason: 'muted' }, count), this.metrics);
    this.inboxActions = new InboxActions(this.store, this.proxies.reportsActions ? (report) => this.proxies.action(report) : undefined,
      (user, notifications) => this.inbox.updated(user, notifications), this.log, (report) => this.metrics.notificationActions.inc({ report }));
    this.serverSubs = new ServerSubscriptions(this.engine, this.options.serverSubscriptionTtl, this.options.limits.maxSubscriptions);
    this.scheduler = new Scheduler(this.store, this.inbox, this.publisher, this.timers, this.log, this.id, this.metrics);
    this.demo = this.options.demo ? new Demo({
      publisher: this.publisher, inbox: this.inbox, timers: this.timers, log: this.log,
      verify: (token) => this.verify(token), clientAddress: (req) => this.trust.clientAddress(req),
    }, this.options.jwt.secret ?? '') : undefined;
    this.stomp = new StompBroker(this);
    this.sockjs = new SockjsServer(this);
    this.views = new ClusterView(this.engine, this.id, () => this.localChannels(), this.log, this.options.pingInterval * 3000);
    this.websocket = new WebSocketEndpoint(this);
    this.streams = new StreamEndpoint(this);
    this.polls = new PollEndpoint(this);
    this.admin = new AdminConsole(this);
    const requestTimeout = Math.ceil(this.options.bodyTimeout * 1000);
    const limits = { requestTimeout, headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: REQUEST_CHECK_MS };
    const tls = this.options.tls;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.handleRequest(req, res);
    this.http = tls
      ? createHttpsServer({ ...limits, cert: tls.cert, key: tls.key, handshakeTimeout: Math.min(HEAD_TIMEOUT_MS, requestTimeout) }, onRequest)
      : createServer(limits, onRequest);
    this.http.on('clientError', (err: Error, socket: Socket) => answerClientError(err, socket, this.refusals, this.options.bodyTimeout));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    this.door = new FrontDoor(this.http, this, Math.min(HEAD_TIMEOUT_MS, requestTimeout));
  }

  get draining(): boolean {
    return this.state === 'draining' || this.state === 'closed';
  }

  /** Number of open connections (JSON-protocol sessions and STOMP connections). */
  get connections(): number {
    return this.sessions.size + this.stomp.size;
  }

  // ---- NodeGauges (read when /metrics is scraped) ----

  /** Open connections by transport; `poll` counts waiting long polls. */
  connectionCounts(): Record<TransportName, number> {
    const stomp = this.stomp.countByKind();
    const counts = { websocket: 0, 'stomp-ws': stomp.websocket, 'stomp-tcp': stomp.tcp, sse: 0, stream: 0, poll: this.polls.size, sockjs: stomp.sockjs + this.sockjs.pending };
    for (const s of this.sessions.values()) {
      const name = s.transport.name;
      if (isSessionTransport(name)) counts[name]++;
    }
    return counts;
  }

  /** Channels with subscribers on this node, and how many connections (or waiting long polls) each; the admin channels are not shown. */
  localChannels(): ChannelCount[] {
    return this.hub.list().filter(({ channel }) => !isAdminChannel(channel)).map(({ channel, subscribers }) => {
      const stomp = this.stomp.topics.subscribersOf(channel);
      // the STOMP subscriptions of a channel are one hub subscriber
      return { channel, subscribers: subscribers - (stomp > 0 ? 1 : 0) + stomp };
    });
  }

  subscriptionCount(): number {
    let n = this.stomp.topics.subscriptions;
    for (const s of this.sessions.values()) n += s.subscriptions;
    return n;
  }

  /** Where `/metrics` is served on its own port (`metricsPort`), once listening. */
  metricsAddress(): AddressInfo | undefined {
    return this.metricsEndpoint.address();
  }

  /** Starts the engine and listens. Resolves with the bound address. */
  async listen(port: number, host = '0.0.0.0'): Promise<AddressInfo> {
    await this.engine.start(this);
    this.log.info('engine up', { engine: this.engine.name, shared: this.engine.shared });
    this.state = 'running';
    this.views.hello(true);
    this.scheduler.start();
    this.demo?.start();
    this.admin.start();
    this.timers.schedule(this, Date.now() + this.options.pingInterval * 1000);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    if (this.options.stompPort !== undefined) {
      const stomp = await this.stomp.listen(this.options.stompPort, host);
      this.log.info('stomp listening', { host: stomp.address, port: stomp.port, tls: this.stomp.secure });
    }
    const metrics = await this.metricsEndpoint.listen(host);
    if (metrics) this.log.info('metrics listening', { host: metrics.address, port: metrics.port });
    return this.http.address() as AddressInfo;
  }

  /**
   * Graceful shutdown: tells every client to reconnect elsewhere (close 3000), waits up to
   * `shutdownTimeout` for connections to close, then ends the rest and the engine. The HTTP
   * listener stays open until then: `/readyz` answers 503 (118), `/healthz` 200, and new transport
   * connections are refused with 503 (118); the STOMP TCP listener stops at once.
   */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'draining') return;
    this.state = 'draining';
    this.log.info('draining', { connections: this.connections, shutdownTimeout: this.options.shutdownTimeout });
    this.door.closeIdle();
    const stompStopped = this.stomp.stopListening();
    this.websocket.drain();
    this.streams.drain();
    this.polls.drain();
    this.stomp.drain();
    this.sockjs.drain();
    const deadline = Date.now() + this.options.shutdownTimeout * 1000;
    while ((this.websocket.size > 0 || this.stomp.size > 0 || this.streams.size > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    this.log.info('drained', { left: this.websocket.size + this.stomp.size + this.streams.size });
    this.websocket.terminateAll();
    this.stomp.terminateAll();
    this.sockjs.terminateAll();
    await stompStopped;
    const stopped = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    this.door.closeAll();
    await stopped;
    await this.metricsEndpoint.close();
    this.scheduler.stop();
    this.demo?.stop();
    this.admin.stop();
    this.timers.stop();
    await this.stomp.queues.close();
    await this.views.bye();
    await this.engine.close();
    this.log.info('engine down', { engine: this.engine.name });
    await this.store.close();
    this.state = 'closed';
  }

  /** Whether the main port serves HTTPS and WSS (`tls`). */
  get secure(): boolean {
    return this.options.tls !== undefined;
  }

  /**
   * Serves new TLS connections (HTTPS and WSS, and STOMP over TLS when on) with this certificate;
   * open connections keep theirs. Throws, changing nothing, when the node serves plain HTTP or the
   * pair is unusable (bad PEM, a key that does not fit the certificate); the message never holds the key.
   */
  setCertificate(tls: TlsOptions): void {
    if (!this.options.tls) throw new Error('this node serves plain HTTP: it has no certificate to replace');
    createSecureContext({ cert: tls.cert, key: tls.key });
    (this.http as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
    if (this.stomp.secure) this.stomp.setCertificate(tls);
  }

  verify(token: string): Promise<Credentials> {
    return this.verifier.verify(token);
  }

  /** A JSON session's `connect` or `refresh` token: an admin console live token (this node's), else a JWT. */
  async verifyCommand(token: string): Promise<Credentials> {
    return (this.admin.enabled ? this.admin.live.tokens.verify(token) : undefined) ?? this.verifier.verify(token);
  }

  /**
   * The credentials of a request that is itself the connect (SSE, HTTP streaming, a long poll,
   * stateless `/emulation`, `/ws?connect=1`): its token, or else (or always, as configured) the
   * connect proxy's answer for client id `client`. Throws as `Proxies.authenticate` does.
   */
  async connectCredentials(req: RequestHead, url: URL, transport: string, client: string): Promise<Credentials | undefined> {
    const credentials = await requestCredentials(req, url, (t) => this.verify(t));
    // the connect request (the client's address among it) only when the proxy is asked: reading the address makes the socket keep it
    if (!this.proxies.wantsConnect(credentials)) return credentials;
    return this.authenticate(credentials, this.connectRequest(req, transport, 'json'), client, undefined);
  }

  /** See `Proxies.authenticate`. */
  authenticate(credentials: Credentials | undefined, request: ConnectRequest, client: string, data: unknown): Promise<Credentials | undefined> {
    return this.proxies.authenticate(credentials, request, client, data);
  }

  /** What the connect proxy will be told about `req`; only the allowlisted headers are kept. */
  connectRequest(req: RequestHead, transport: string, protocol: ConnectRequest['protocol']): ConnectRequest {
    return connectRequest(req, this.proxies.connectHeaders, transport, protocol, this.trust.clientAddress(req) ?? '');
  }

  /**
   * A session for a new connection; undefined when the node is full. `request`: for a connection
   * whose `connect` command is still to come, what the connect proxy is told then. `id`: the
   * client id already given to the connect proxy.
   */
  newSession(transport: Transport, credentials: Credentials | undefined, request?: ConnectRequest, id?: string): Session | undefined {
    if (this.connections >= this.options.limits.maxConnections) return undefined;
    const session = new Session(this, transport, credentials, request, id);
    this.sessions.set(session.id, session);
    this.log.debug('connection opened', { transport: transport.name, client: session.id });
    return session;
  }

  /** Makes a one-way stream session reachable through `/emulation`; returns its secret (for its `connected` only). */
  issueSecret(session: Session): string {
    return this.secrets.issue(session.id);
  }

  /** The `/sse` or `/stream` session `client` on this node, if `secret` is its secret (else undefined, as for no session). */
  ownedSession(client: string, secret: string | undefined): Session | undefined {
    const ok = this.secrets.check(client, secret);
    const session = this.sessions.get(client);
    const name = session?.transport.name;
    return ok && (name === 'sse' || name === 'stream') ? session : undefined;
  }

  /** Runs `/emulation` commands on the node that holds the session, through the engine; that node checks the secret. */
  forward(client: string, secret: string, commands: unknown[]): Promise<ServerMessage[] | undefined> {
    if (!this.engine.shared) return Promise.resolve(undefined);
    const request = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
      const done = (replies: ServerMessage[] | undefined): void => {
        clearTimeout(timer);
        this.forwards.delete(request);
        resolve(replies);
      };
      this.forwards.set(request, done);
      this.engine.publishControl({ type: 'command', node: this.id, request, client, secret, commands }).catch(() => done(undefined));
    });
  }

  private runForwarded(node: string, request: string, client: string, secret: string, commands: unknown[]): void {
    const session = this.ownedSession(client, secret);
    if (!session || node === this.id) return;
    runCommands(session, commands, false)
      .then((replies) => this.engine.publishControl({ type: 'command-reply', node, request, replies }))
      .catch((err: unknown) => this.log.warn('forwarded command failed', { err: String(err) }));
  }

  mapError(err: unknown): { code: number; message: string } {
    return this.publisher.mapError(err);
  }

  sessionConnected(session: Session): void {
    const name = session.transport.name;
    if (isSessionTransport(name)) this.metrics.handshakes[name]++;
    if (session.user === '') return;
    let set = this.byUser.get(session.user);
    if (!set) {
      set = new Set();
      this.byUser.set(session.user, set);
    }
    set.add(session);
  }

  sessionClosed(session: Session): void {
    this.sessions.delete(session.id);
    this.log.debug('connection closed', { transport: session.transport.name, client: session.id, user: session.user });
    const set = this.byUser.get(session.user);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) this.byUser.delete(session.user);
  }

  // ---- EngineHandler ----

  onPublication(pub: Publication, dataJson?: string): void {
    this.hub.publication(pub, dataJson);
  }

  onJoin(channel: string, info: ClientInfo): void {
    if (this.policy.announcesJoinLeave(channel)) this.hub.join(channel, info);
  }

  /** Also for clients whose presence expired (their node died): the engine announces them. */
  onLeave(channel: string, info: ClientInfo): void {
    if (this.policy.announcesJoinLeave(channel)) this.hub.leave(channel, info);
  }

  onGapFill(): void {
    this.metrics.gapFills++;
  }

  onControl(message: ControlMessage): void {
    if (message.type === 'command') return this.runForwarded(message.node, message.request, message.client, message.secret, message.commands);
    if (message.type === 'sockjs') return this.sockjs.onControl(message);
    if (message.type === 'view') return this.views.onControl(message);
    if (message.type === 'admin') return this.admin.live.onControl(message);
    if (message.type === 'command-reply') {
      if (message.node !== this.id) return;
      this.forwards.get(message.request)?.(message.replies);
      return;
    }
    this.stomp.control(message);
    const sessions = this.byUser.get(message.user);
    if (!sessions) return;
    for (const s of [...sessions]) {
      if (message.type === 'disconnect') s.disconnect(message.code, message.reason);
      else if (message.type === 'subscribe') void s.serverSubscribe(message.channel, message.since);
      else s.serverUnsubscribe(message.channel, message.code, message.reason);
    }
  }

  /** The shared timer's heartbeat: ping WebSocket and STOMP connections, keep HTTP streams alive. */
  onTimer(now: number): void {
    this.websocket.heartbeat();
    this.streams.heartbeat();
    for (const session of this.sessions.values()) session.refreshPresence();
    this.stomp.refreshPresence();
    this.stomp.ping();
    this.views.hello();
    this.refusals.flush();
    this.disconnects.flush();
    this.proxies.flush();
    if (this.state === 'running') this.timers.schedule(this, now + this.options.pingInterval * 1000);
  }

  // ---- HTTP ----

  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.draining) res.setHeader('Connection', 'close');
    const url = requestUrl(req.url);
    if (!url) {
      this.refusals.request('bad_request', req, ErrorCode.BadRequest, 'malformed request target');
      return sendError(res, ErrorCode.BadRequest, 'malformed request target: the path must start with one / and have no empty segment');
    }
    const path = url.pathname;
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/metrics' && this.metricsEndpoint.onMainPort) return this.metricsEndpoint.handle(req, res);
    if (path === '/readyz') {
      if (this.draining) return sendError(res, ErrorCode.ShuttingDown, 'the node is shutting down');
      if (!this.engine.isReady()) return sendError(res, ErrorCode.EngineUnavailable, `the ${this.engine.name} engine is not ready`);
      return sendJson(res, 200, { status: 'ready', engine: this.engine.name, connections: this.sessions.size });
    }
    if (path.startsWith('/api/')) {
      handleApi(this, req, res, url).catch((err: unknown) => {
        this.log.error('api failure', { err: String(err) });
        sendError(res, ErrorCode.Internal, 'internal error');
      });
      return;
    }
    if (HTTP_TRANSPORTS.has(path)) return this.handleTransport(req, res, url);
    if (path === '/ws') return sendError(res, ErrorCode.BadRequest, '/ws expects a WebSocket upgrade', 426);
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
      this.admin.handle(req, res, url).catch((err: unknown) => {
        this.log.error('admin failure', { err: String(err) });
        sendError(res, ErrorCode.Internal, 'internal error');
      });
      return;
    }
    if (path.startsWith(CLIENT_PREFIX)) return this.clientBundles.handle(req, res, path);
    if (this.demo?.owns(path)) return this.demo.handle(req, res, path);
    const sockjs = this.sockjs.route(path);
    if (sockjs) return this.sockjs.handleRequest(req, res, url, sockjs);
    sendError(res, ErrorCode.NotFound, `no endpoint ${req.method ?? ''} ${path}`);
  }

  private handleTransport(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method === 'OPTIONS') return answerPreflight(req, res, this.options.allowedOrigins, this.refusals, this.trust.requestScheme(req));
    if (RESPONSE_TRANSPORTS.has(url.pathname)) return this.handleBare(req, new NodeResponse(res), url);
    this.transportDone(url, res, handleEmulation(this, req, res, url));
  }

  /**
   * `/sse`, `/stream` and `/poll`: from node:http (a connection it already owns), or from the
   * front door with the response written on the bare socket.
   */
  handleBare(req: RequestHead, res: HttpResponse, url: URL): void {
    const path = url.pathname;
    const handled = path === '/sse' ? this.streams.handle(req, res, url, 'sse')
      : path === '/stream' ? this.streams.handle(req, res, url, 'ndjson')
        : this.polls.handle(req, res, url);
    this.transportDone(url, res, handled);
  }

  private transportDone(url: URL, res: HttpResponse | ServerResponse, handled: Promise<void>): void {
    handled.catch((err: unknown) => {
      this.log.error('transport failure', { path: url.pathname, err: err instanceof Error ? err.stack ?? err.message : String(err) });
      sendError(res, ErrorCode.Internal, 'internal error');
    });
  }

  handleUpgrade(req: RequestHead, socket: Duplex, head: Buffer): void {
    socket.on('error', destroyOnError);
    const url = requestUrl(req.url);
    const sockjs = url && this.sockjs.route(url.pathname);
    if (url && sockjs) {
      this.sockjs.handleUpgrade(req, socket, head, url, sockjs).catch((err: unknown) => {
        this.log.error('upgrade failure', { err: String(err) });
        socket.destroy();
      });
      return;
    }
    if (url?.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.websocket.handleUpgrade(req, socket, head, url).catch((err: unknown) => {
      this.log.error('upgrade failure', { err: String(err) });
      socket.destroy();
    });
  }
}

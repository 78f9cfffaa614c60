import { CloseCode, ErrorCode, UnsubscribeCode, errorInfo, shouldReconnect } from '@tidings/protocol';
import type { CommandType, ConnectResult, HistoryResult, PresenceResult, Publication, PublishResult, ResultOf } from '@tidings/protocol';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, TidingsError, isUnauthorized, toError } from './errors.js';
import { TransportPicker } from './picker.js';
import { Inbox, type InboxHost } from './inbox.js';
import { ServerChannels, type ServerSubscribedEvent, type ServerUnsubscribedEvent } from './server-subs.js';
import { Session, type CommandBody, type Push, type SessionClose } from './session.js';
import {
  Subscription, type HistoryOptions, type SubscribeOptions, type SubscriptionHandlers, type SubscriptionHost,
} from './subscription.js';
import type { EventSourceConstructor } from './transports/sse.js';
import { ABNORMAL_CLOSURE, type TransportFactory } from './transports/transport.js';
import { websocketTransport, websocketUrl, type WebSocketConstructor } from './transports/websocket.js';

export type ClientState = 'disconnected' | 'connecting' | 'connected';

/** `stream`, `sse` and `poll` come with `@tidings/client/fallback`. */
export type TransportName = 'websocket' | 'stream' | 'sse' | 'poll';

export interface ClientOptions {
  /** A fixed token. Without `getToken` an expired token cannot be renewed. */
  token?: string;
  /**
   * Called before every connection attempt and when the server asks for a
   * refresh. Throw an `UnauthorizedError` (or any error with `code` 101) when
   * the user may not connect: the client then stops.
   */
  getToken?: () => Promise<string>;
  /** Shown to the server as the client's name. */
  name?: string;
  /** The WebSocket constructor, where there is no global one (Node 20: `import WebSocket from 'ws'`). */
  WebSocket?: WebSocketConstructor;
  /**
   * Transports to try, in order; one that fails to open is skipped for the next. Default
   * `['websocket']`; `['websocket', 'stream', 'poll']` for the `Client` of `@tidings/client/fallback`.
   */
  transports?: ReadonlyArray<TransportName | TransportFactory>;
  /** A single transport (same as `transports: [transport]`). */
  transport?: TransportFactory;
  /** Milliseconds a transport may take to connect before the next one is tried; default 5 000. */
  openTimeout?: number;
  /** Milliseconds a transport that worked is tried first on reconnects; default 300 000. */
  rememberTransport?: number;
  /** The EventSource constructor for the `sse` transport, where there is no global one (Node: the `eventsource` package). */
  EventSource?: EventSourceConstructor;
  /** Seconds a long poll waits for publications; default 25. */
  pollWait?: number;
  /** Milliseconds; default 500. */
  minReconnectDelay?: number;
  /** Milliseconds; default 20 000. */
  maxReconnectDelay?: number;
  /** Default 2. */
  reconnectFactor?: number;
  /** Milliseconds to wait for a reply, or for the connection on the last transport; default 10 000. */
  timeout?: number;
  /** Milliseconds between pings that detect a dead connection; default 25 000, 0 disables. */
  pingInterval?: number;
}

export interface ConnectedEvent extends ConnectResult {
  transport: string;
}

export interface ClientEvents {
  /** The client is trying to (re)connect; `code` and `reason` tell why (0 for `connect()`). */
  connecting: { code: number; reason: string };
  connected: ConnectedEvent;
  /** The client stopped: `disconnect()` was called or the server's close code forbids reconnecting. */
  disconnected: { code: number; reason: string };
  error: TidingsError;
  /** A server-side subscription (token `subs` claim, `POST /api/subscribe`) started or resumed. */
  subscribed: ServerSubscribedEvent;
  /** A server-side subscription ended. */
  unsubscribed: ServerUnsubscribedEvent;
  /** A publication of a server-side subscription, in order, without the duplicates of a recovery. */
  publication: Publication;
}

type Waiter = (error?: TidingsError) => void;

/** Close codes of a connection that never opened: the transport is worth skipping. */
const OPEN_FAILURES = new Set<number>([ABNORMAL_CLOSURE, 1002, CloseCode.ConnectTimeout]);

/** An `unsubscribed` code that asks for a resubscribe from the last position (2500–2999). */
function isResubscribe(code: number): boolean {
  return code >= UnsubscribeCode.Resubscribe && code < 3000;
}

export class Client extends Emitter<ClientEvents> implements SubscriptionHost {
  private current: ClientState = 'disconnected';
  private session: Session | undefined;
  /** Bumped by every attempt and by `disconnect()`: a callback from an older attempt is ignored. */
  private generation = 0;
  /** Failed attempts since the last successful connect. */
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly subs = new Map<string, Subscription>();
  private readonly serverChannels = new ServerChannels();
  private inboxInstance: Inbox | undefined;
  private connectedUser: string | undefined;
  private readonly waiting = new Set<Waiter>();
  private readonly picker: TransportPicker;
  private readonly backoff: BackoffOptions;
  private readonly timeout: number;

  constructor(protected readonly url: string, protected readonly options: ClientOptions = {}) {
    super();
    const list = options.transports ?? (options.transport ? [options.transport] : this.defaultTransports());
    this.picker = new TransportPicker(list.map((t) => (typeof t === 'string' ? this.transportFor(t) : t)), options.rememberTransport ?? 300_000);
    this.backoff = {
      min: options.minReconnectDelay ?? 500,
      max: options.maxReconnectDelay ?? 20_000,
      factor: options.reconnectFactor ?? 2,
    };
    this.timeout = options.timeout ?? 10_000;
  }

  get state(): ClientState {
    return this.current;
  }

  protected defaultTransports(): TransportName[] {
    return ['websocket'];
  }

  protected transportFor(name: TransportName): TransportFactory {
    if (name === 'websocket') return websocketTransport(websocketUrl(this.url), this.options.WebSocket);
    throw new Error(`the ${name} transport comes with the Client of '@tidings/client/fallback'`);
  }

  connect(): void {
    if (this.current !== 'disconnected') return;
    this.current = 'connecting';
    this.emit('connecting', { code: 0, reason: 'connect called' });
    void this.open();
  }

  disconnect(): void {
    this.stop(1000, 'disconnect called');
  }

  /** Subscribes now if connected, else on connect. Throws if the channel already has a live subscription. */
  subscribe(channel: string, handlers: SubscriptionHandlers = {}, options: SubscribeOptions = {}): Subscription {
    if (this.subs.has(channel)) throw new Error(`already subscribed to ${channel}`);
    const sub = new Subscription(channel, this, handlers, options);
    this.subs.set(channel, sub);
    // the server hands a server-side subscription over to the client's own subscribe
    this.serverChannels.forget(channel);
    if (this.current === 'connected' && this.session) this.sendSubscribe(sub, this.session);
    return sub;
  }

  getSubscription(channel: string): Subscription | undefined {
    return this.subs.get(channel);
  }

  /** Channels of the server-side subscriptions this client holds (and resumes after reconnects). */
  get serverSubscriptions(): string[] {
    return this.serverChannels.channels;
  }

  /** @internal Called by `Subscription.unsubscribe()`. */
  remove(sub: Subscription): void {
    if (this.subs.get(sub.channel) !== sub) return;
    this.subs.delete(sub.channel);
    if (sub.state === 'subscribed' && this.session) this.session.request({ type: 'unsubscribe', channel: sub.channel }, () => {});
  }

  /** The connected user's notifications, with a live unread count (created on first use). */
  get inbox(): Inbox {
    if (!this.inboxInstance) {
      const host: InboxHost = {
        call: <T extends CommandType>(command: CommandBody & { type: T }) => this.call<T>(command),
        subscribe: (channel, handlers) => this.subscribe(channel, handlers),
      };
      this.inboxInstance = new Inbox(host);
      if (this.connectedUser !== undefined) this.inboxInstance.follow(this.connectedUser);
    }
    return this.inboxInstance;
  }

  /**
   * Publishes through the server. With `idempotencyKey`, the same key and data within 5 minutes
   * publish once (see TidingsError.idempotencyKey for retrying an unknown outcome, code 119).
   */
  publish(channel: string, data: unknown, options: { idempotencyKey?: string } = {}): Promise<PublishResult> {
    return this.call({ type: 'publish', channel, data, ...options });
  }

  history(channel: string, options: HistoryOptions = {}): Promise<HistoryResult> {
    return this.call({ type: 'history', channel, ...options });
  }

  presence(channel: string): Promise<PresenceResult> {
    return this.call({ type: 'presence', channel });
  }

  /**
   * Calls `method` on the app backend through the server's RPC proxy (`--rpc-proxy`) and resolves
   * with the backend's `data` (undefined when it gave none). Rejects with a TidingsError: the
   * backend's application code (4000–4999), 124–127 when the backend failed or was slow, 108 when
   * the server has no RPC proxy.
   */
  async rpc(method: string, data?: unknown): Promise<unknown> {
    const result = await this.call(data === undefined ? { type: 'rpc', method } : { type: 'rpc', method, data });
    return result.data;
  }

  /** Sends a command once connected (waiting up to `timeout` while connecting). */
  private call<T extends CommandType>(command: CommandBody & { type: T }): Promise<ResultOf[T]> {
    return new Promise((resolve, reject) => {
      const run = (session: Session): void => session.request<T>(command, (error, result) => {
        if (error) reject(error);
        else if (result === undefined) reject(new TidingsError(ClientErrorCode.Transport, `the reply to ${command.type} has no result`));
        else resolve(result);
      });
      if (this.current === 'connected' && this.session) return run(this.session);
      if (this.current === 'disconnected') return reject(new TidingsError(ErrorCode.NotConnected, 'client is disconnected'));
      const timer = setTimeout(() => waiter(new TidingsError(ClientErrorCode.Timeout, `not connected within ${this.timeout} ms`)), this.timeout);
      const waiter: Waiter = (error) => {
        clearTimeout(timer);
        this.waiting.delete(waiter);
        if (error) reject(error);
        else if (this.session) run(this.session);
      };
      this.waiting.add(waiter);
    });
  }

  /** One connection attempt: the first of a round, or (`fallback`) over the next transport. */
  private async open(fallback = false): Promise<void> {
    const generation = ++this.generation;
    const transport = fallback ? this.picker.current : this.picker.beginRound();
    const connectTimeout = this.picker.hasNext ? this.options.openTimeout ?? 5_000 : this.timeout;
    let token: string | undefined;
    try {
      token = this.options.getToken ? await this.options.getToken() : this.options.token;
    } catch (err) {
      if (generation !== this.generation) return;
      this.tokenFailed(err);
      if (this.current !== 'disconnected') this.scheduleReconnect();
      return;
    }
    if (generation !== this.generation) return;
    const session: Session = new Session(
      transport,
      {
        token, name: this.options.name, subs: this.serverChannels.positions(),
        timeout: this.timeout, connectTimeout, pingInterval: this.options.pingInterval ?? 25_000,
      },
      {
        onConnected: (result) => { if (this.session === session) this.onConnected(session, result); },
        onPush: (message) => { if (this.session === session) this.onPush(session, message); },
        onClosed: (close) => { if (this.session === session) this.onClosed(session, close); },
      },
    );
    this.session = session;
    try {
      session.start();
    } catch (err) {
      this.session = undefined;
      const error = toError(err, ClientErrorCode.Transport);
      if (!this.picker.next()) return this.stop(CloseCode.BadRequest, 'transport could not start', error);
      this.emit('error', error);
      void this.open(true);
    }
  }

  private onConnected(session: Session, result: ConnectResult): void {
    this.attempt = 0;
    this.current = 'connected';
    this.picker.succeeded();
    for (const sub of this.subs.values()) this.sendSubscribe(sub, session);
    for (const waiter of [...this.waiting]) waiter();
    this.connectedUser = result.user;
    this.inboxInstance?.follow(result.user);
    this.emit('connected', { ...result, transport: session.transportName });
  }

  private onPush(session: Session, message: Push): void {
    if (message.type === 'refresh_required') {
      void this.refresh(session, 0);
      return;
    }
    if (message.type === 'connected') return;
    if ((message.type === 'subscribed' || message.type === 'unsubscribed') && message.server) return this.onServerPush(message);
    const sub = this.subs.get(message.channel);
    if (!sub) {
      if (message.type === 'publication') {
        const { type: _, ...pub } = message;
        if (this.serverChannels.accept(pub)) this.emit('publication', pub);
      }
      return;
    }
    if (message.type === 'unsubscribed' && isResubscribe(message.code)) {
      sub.handleSubscribing(message.reason);
      this.sendSubscribe(sub, session);
      return;
    }
    if (message.type === 'unsubscribed') this.subs.delete(message.channel);
    sub.handlePush(message);
  }

  private onServerPush(message: Extract<Push, { type: 'subscribed' | 'unsubscribed' }>): void {
    const { channel } = message;
    if (message.type === 'subscribed') {
      if (!this.subs.has(channel)) this.emit('subscribed', this.serverChannels.subscribed(message));
      return;
    }
    this.serverChannels.forget(channel);
    this.emit('unsubscribed', { channel, server: true, code: message.code, reason: message.reason });
  }

  private onClosed(session: Session, { code, reason, reconnect }: SessionClose): void {
    this.session = undefined;
    clearTimeout(this.refreshTimer);
    if (!session.hasConnected && OPEN_FAILURES.has(code) && this.picker.next()) {
      void this.open(true);
      return;
    }
    for (const sub of this.subs.values()) sub.handleSubscribing(reason);
    if (!reconnect || !shouldReconnect(code)) {
      const error = code === CloseCode.InvalidToken ? new TidingsError(ErrorCode.Unauthorized, `the server refused the token: ${reason}`) : undefined;
      this.stop(code, reason, error);
      return;
    }
    if (code === CloseCode.TokenExpired && !this.options.getToken) {
      this.stop(code, reason, new TidingsError(ErrorCode.TokenExpired, 'the token expired and there is no getToken() to renew it'));
      return;
    }
    if (this.current === 'connected') {
      this.current = 'connecting';
      this.emit('connecting', { code, reason });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    const generation = this.generation;
    this.reconnectTimer = setTimeout(() => {
      if (generation === this.generation) void this.open();
    }, backoffDelay(this.attempt++, this.backoff));
  }

  /** Goes to `disconnected` for good (until `connect()`): closes the session, fails waiting commands. */
  private stop(code: number, reason: string, error?: TidingsError): void {
    if (this.current === 'disconnected') return;
    this.generation++;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.refreshTimer);
    const session = this.session;
    this.session = undefined;
    session?.close(code, reason, false);
    for (const sub of this.subs.values()) sub.handleSubscribing(reason);
    const failure = new TidingsError(ErrorCode.NotConnected, `client disconnected: ${reason}`);
    for (const waiter of [...this.waiting]) waiter(failure);
    this.current = 'disconnected';
    this.attempt = 0;
    if (error) this.emit('error', error);
    this.emit('disconnected', { code, reason });
  }

  /** Reports a failed `getToken()`; a refusal stops the client. */
  private tokenFailed(err: unknown): void {
    if (isUnauthorized(err)) {
      this.stop(CloseCode.InvalidToken, 'getToken() refused', toError(err, ErrorCode.Unauthorized));
      return;
    }
    this.emit('error', toError(err, ClientErrorCode.TokenUnavailable));
  }

  private async refresh(session: Session, attempt: number): Promise<void> {
    if (!this.options.getToken) {
      this.emit('error', new TidingsError(ErrorCode.TokenExpired, 'the token expires soon and there is no getToken() to renew it'));
      return;
    }
    let token: string;
    try {
      token = await this.options.getToken();
    } catch (err) {
      if (session !== this.session) return;
      this.tokenFailed(err);
      if (session === this.session) this.refreshTimer = setTimeout(() => void this.refresh(session, attempt + 1), backoffDelay(attempt, this.backoff));
      return;
    }
    if (session !== this.session) return;
    session.request({ type: 'refresh', token }, (error) => {
      if (error && session === this.session) this.emit('error', error);
    });
  }

  private sendSubscribe(sub: Subscription, session: Session, attempt = 0): void {
    const since = sub.position;
    const channel = sub.channel;
    session.request(since ? { type: 'subscribe', channel, since } : { type: 'subscribe', channel }, (error, result) => {
      if (session !== this.session) return;
      if (this.subs.get(channel) !== sub) {
        if (!error) session.request({ type: 'unsubscribe', channel }, () => {});
        return;
      }
      if (result && !error) {
        sub.handleSubscribed(result, since !== undefined);
        return;
      }
      const failure = error ?? new TidingsError(ErrorCode.Internal, 'empty subscribe reply');
      sub.handleError(failure);
      if (failure.code === ClientErrorCode.Timeout || errorInfo(failure.code)?.temporary) {
        setTimeout(() => {
          if (session === this.session && this.subs.get(channel) === sub) this.sendSubscribe(sub, session, attempt + 1);
        }, backoffDelay(attempt, this.backoff));
        return;
      }
      this.subs.delete(channel);
      sub.setUnsubscribed(failure.code, failure.message);
    });
  }
}

import { randomUUID } from 'node:crypto';
import {
  CloseCode, ErrorCode, PROTOCOL_VERSION, UnsubscribeCode, isApplicationCode, shouldReconnect,
  type ClientInfo, type Command, type ConnectCommand, type ProtocolError, type Publication, type StreamPosition,
  cursorEntry, encodeCursor, encodePublication, type Cursor, type ResultOf, type ServerMessage,
} from '@tidings/protocol';
import { AuthError, type Credentials } from './auth/jwt.js';
import { LIVE_COMMANDS } from './auth/live-token.js';
import type { ChannelPolicy, Principal } from './channels.js';
import type { Engine } from './engine/engine.js';
import { TidingsError } from './errors.js';
import type { Hub, Subscriber } from './hub.js';
import type { Logger } from './log.js';
import type { Metrics } from './observability/metrics.js';
import { reasonOf, type Refusals } from './observability/refusals.js';
import type { Disconnects } from './observability/disconnects.js';
import type { ServerOptions } from './options.js';
import { inboxCommand } from './notifications/commands.js';
import type { InboxActions } from './notifications/actions.js';
import type { Inbox } from './notifications/inbox.js';
import type { Publisher } from './publisher.js';
import type { ServerSubscriptions } from './server-subs.js';
import { ProxyDisconnect, ProxyError } from './proxy/errors.js';
import type { Proxies, ProxyClient } from './proxy/proxies.js';
import type { ConnectRequest } from './proxy/request.js';
import { SmallMap } from './small-map.js';
import type { Timed, TimerWheel } from './timer.js';
import type { Transport } from './transports/transport.js';

/** What a session needs from its node. */
export interface SessionHost {
  readonly options: ServerOptions;
  readonly policy: ChannelPolicy;
  readonly engine: Engine;
  readonly hub: Hub;
  readonly timers: TimerWheel;
  readonly publisher: Publisher;
  readonly inbox: Inbox;
  readonly inboxActions: InboxActions;
  readonly log: Logger;
  readonly refusals: Refusals;
  readonly metrics: Metrics;
  readonly disconnects: Disconnects;
  readonly serverSubs: ServerSubscriptions;
  readonly proxies: Proxies;
  /** A `connect` or `refresh` command's token: a JWT, or an admin console live token (auth/live-token.ts). */
  verifyCommand(token: string): Promise<Credentials>;
  /** Called once connected, and once when closed (whether or not it had connected). */
  sessionConnected(session: Session): void;
  sessionClosed(session: Session): void;
}

interface Subscription {
  /** While `recovering`, live publications wait in `pending` until the subscribe reply is out. */
  recovering: boolean;
  pending: Array<{ pub: Publication; message: Buffer }>;
  offset: number;
  epoch: string;
  /** Tracked in the engine's presence (presence or join/leave namespaces). */
  presence: boolean;
  joinLeave: boolean;
  /** Made by the server (token `subs` claim, `POST /api/subscribe`), not by a client command. */
  server: boolean;
}

type State = 'connecting' | 'connected' | 'closed';

/** `pending` of every recovered subscription: shared, as nothing is added once `recovering` is false. */
const NOTHING_PENDING: Subscription['pending'] = [];
type Responder = (message: ServerMessage) => void;
/** A queued command, or a message that did not decode (answered in its turn, see `reject`). */
type Queued = { cmd: Command; respond: Responder | undefined } | { cmd: undefined; id: number | undefined; error: ProtocolError };

/**
 * The publications of a recovery, each encoded, or undefined when together they pass `maxBytes`
 * (half the connection's queue: `recovered: false` then, and the client reloads).
 */
function encodeReplay(publications: readonly Publication[], maxBytes: number): Buffer[] | undefined {
  const out: Buffer[] = [];
  let bytes = 0;
  for (const p of publications) {
    const b = Buffer.from(encodePublication(p));
    bytes += b.length;
    if (bytes > maxBytes) return undefined;
    out.push(b);
  }
  return out;
}

/**
 * One logical client: its user, subscriptions and transport. Transports decode commands and hand
 * them to `handle`; the session replies and pushes through the transport's `write`.
 */
export class Session implements Subscriber, Timed {
  readonly id: string;
  user = '';
  private state: State = 'connecting';
  private credentials: Credentials | undefined;
  private readonly subs = new SmallMap<Subscription>();
  /** The shared timer's handle: while connecting, of the connect deadline; then of the token's expiry. */
  private timerHandle = -1;
  private refreshRequested = false;
  /** While the refresh proxy is being asked for a new expiry. */
  private refreshing = false;
  /** Commands waiting for their turn; none allocated while idle. */
  private queue: Queued[] | undefined = undefined;
  private busy = false;
  /** While `open` subscribes: the positions it resumes from, part of the cursor until each channel has its own. */
  private resuming: Cursor | undefined = undefined;
  /** Where replies of the command being handled go: the transport, or an `/emulation` request. */
  private respond: Responder | undefined;

  constructor(
    private readonly host: SessionHost,
    readonly transport: Transport,
    /** Credentials from the handshake (header, query or cookie), already verified. */
    private readonly handshake?: Credentials,
    /** What the connect proxy is told at `connect`; absent when the handshake was the connect. */
    private request?: ConnectRequest,
    id?: string,
  ) {
    this.id = id ?? randomUUID();
    this.timerHandle = host.timers.schedule(this, Date.now() + host.options.connectTimeout * 1000);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get info(): ClientInfo {
    return { client: this.id, user: this.user };
  }

  /** Subscriptions held. */
  get subscriptions(): number {
    return this.subs.size;
  }

  get channels(): string[] {
    return [...this.subs.keys()];
  }

  /** Queues a decoded command; commands run one at a time, in arrival order. */
  receive(cmd: Command): void {
    (this.queue ??= []).push({ cmd, respond: undefined });
    if (!this.busy) void this.drain();
  }

  /** Runs a command sent through `/emulation`, in order with the others; resolves with its reply. */
  execute(cmd: Command): Promise<ServerMessage> {
    return new Promise((resolve) => {
      (this.queue ??= []).push({ cmd, respond: resolve });
      if (!this.busy) void this.drain();
    });
  }

  /**
   * Queues a message that did not decode, in order with the commands: in its turn it gets an error
   * reply when it had an id, else the session closes as a protocol violation (3501) once every
   * command before it has been answered.
   */
  reject(id: number | undefined, error: ProtocolError): void {
    (this.queue ??= []).push({ cmd: undefined, id, error });
    if (!this.busy) void this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    for (let next = this.queue?.shift(); next; next = this.queue?.shift()) {
      if (next.cmd === undefined) {
        if (next.id === undefined) this.disconnect(CloseCode.BadRequest, next.error.message);
        else this.send({ type: 'error', id: next.id, error: next.error });
        continue;
      }
      this.respond = next.respond;
      await this.handle(next.cmd);
      this.answer({ type: 'error', id: next.cmd.id, error: { code: ErrorCode.NotConnected, message: 'the session is closed' } }, true);
    }
    this.respond = undefined;
    this.busy = false;
    this.queue = undefined;
  }

  private async handle(cmd: Command): Promise<void> {
    if (this.state === 'closed') return;
    try {
      if (cmd.type === 'connect') {
        this.reply(cmd.id, await this.connect(cmd));
        // a one-request `/emulation` session ends with its commands: nothing to subscribe
        if (this.transport.name !== 'emulation') await this.subscribeServerSide(new Map(Object.entries(cmd.subs ?? {})), []);
        return;
      }
      if (this.state !== 'connected') throw new TidingsError(ErrorCode.NotConnected, 'send `connect` first');
      if (this.credentials?.admin && !LIVE_COMMANDS.has(cmd.type)) throw new TidingsError(ErrorCode.PermissionDenied, `an admin live token may not ${cmd.type}`);
      switch (cmd.type) {
        case 'subscribe': return await this.subscribe(cmd.channel, cmd.since, cmd.id, false);
        case 'unsubscribe': return this.reply(cmd.id, this.unsubscribe(cmd.channel));
        case 'publish': {
          const ns = this.host.policy.resolve(cmd.channel);
          let data = cmd.data;
          if (ns.publishProxy) {
            this.host.policy.checkSubscribe(ns, cmd.channel, this.principal());
            data = await this.host.proxies.publish(this.proxyClient(), cmd.channel, data);
          } else {
            this.host.policy.checkPublish(ns, cmd.channel, this.principal());
          }
          const pub = await this.host.publisher.publish(cmd.channel, data, { info: this.info, idempotencyKey: cmd.idempotencyKey, source: 'client' });
          return this.reply(cmd.id, { offset: pub.offset, epoch: pub.epoch });
        }
        case 'history': {
          const ns = this.host.policy.resolve(cmd.channel);
          this.host.policy.checkSubscribe(ns, cmd.channel, this.principal());
          const h = await this.host.publisher.history(cmd.channel, cmd.since?.offset, cmd.limit);
          return this.reply(cmd.id, h);
        }
        case 'presence': {
          const ns = this.host.policy.resolve(cmd.channel);
          this.host.policy.checkSubscribe(ns, cmd.channel, this.principal());
          return this.reply(cmd.id, { clients: await this.host.publisher.presence(cmd.channel) });
        }
        case 'refresh': return this.reply(cmd.id, await this.refresh(cmd.token));
        case 'ping': return this.reply(cmd.id, {});
        case 'rpc': return this.reply(cmd.id, await this.host.proxies.rpc(this.proxyClient(), cmd.method, cmd.data));
        case 'inbox.list': case 'inbox.count': case 'inbox.delete': case 'inbox.mark': case 'inbox.archive': case 'inbox.snooze':
        case 'inbox.preferences': case 'inbox.action':
          return this.reply(cmd.id, await inboxCommand(this.host, this.owner(), cmd, this.id));
      }
    } catch (err) {
      const { code, message } = this.fail(cmd.id, err);
      const reason = reasonOf(code);
      if (reason === 'auth' || reason === 'limit') this.host.refusals.refused(reason, { transport: this.transport.name, code, message });
      if (err instanceof ProxyDisconnect) this.disconnect(err.code, err.reason);
      else if (cmd.type === 'connect' && this.state === 'connecting') this.refuseConnect(err, code, message);
    }
  }

  /** Closes a connection whose `connect` failed: a refused token, a refusal (or failure) of the connect proxy. */
  private refuseConnect(err: unknown, code: number, message: string): void {
    if (err instanceof AuthError) this.disconnect(err.code === ErrorCode.TokenExpired ? CloseCode.TokenExpired : CloseCode.InvalidToken, err.message);
    else if (isApplicationCode(code)) this.disconnect(code, message);
    else if (err instanceof ProxyError) this.disconnect(CloseCode.ForceReconnect, message);
  }

  private async connect(cmd: ConnectCommand): Promise<ResultOf['connect']> {
    if (this.state !== 'connecting') throw new TidingsError(ErrorCode.AlreadyConnected, 'already connected');
    let creds = cmd.token !== undefined ? await this.host.verifyCommand(cmd.token) : this.handshake;
    if (this.request) creds = await this.host.proxies.authenticate(creds, this.request, this.id, cmd.data);
    if (this.state !== 'connecting') throw new TidingsError(ErrorCode.AlreadyConnected, 'already connected');
    return this.establish(creds);
  }

  private establish(creds: Credentials | undefined): ResultOf['connect'] {
    this.request = undefined;
    this.credentials = creds;
    this.user = creds?.user ?? '';
    this.state = 'connected';
    this.host.sessionConnected(this);
    this.reschedule();
    const result: ResultOf['connect'] = { client: this.id, user: this.user, version: PROTOCOL_VERSION };
    if (creds?.expires !== undefined) result.expires = creds.expires;
    return result;
  }

  private async refresh(token: string): Promise<ResultOf['refresh']> {
    const creds = await this.host.verifyCommand(token);
    if (creds.user !== this.user || creds.admin !== this.credentials?.admin) throw new TidingsError(ErrorCode.PermissionDenied, 'the new token is for another user');
    this.credentials = creds;
    this.refreshRequested = false;
    this.reschedule();
    return creds.expires === undefined ? {} : { expires: creds.expires };
  }

  /**
   * Subscribes and recovers. `id` is the command's, absent for subscriptions the server makes
   * (`Session.open`). A `subscribe` command on a bidirectional transport gets the replay inside the
   * reply; otherwise a `subscribed` push is followed by the replayed publications, so every event
   * moves the cursor. A `server` subscription skips the permission check (the token or the server
   * API made it) and is pushed with `server: true`; a client's own `subscribe` to the channel
   * takes it over.
   */
  private async subscribe(channel: string, since: StreamPosition | undefined, id: number | undefined, server: boolean): Promise<void> {
    const { policy, options } = this.host;
    const ns = policy.resolve(channel, server && this.credentials?.admin);
    if (!server) policy.checkSubscribe(ns, channel, this.principal());
    const held = this.subs.get(channel);
    if (held?.server && !server && !held.recovering) this.dropSubscription(channel, held);
    else if (held) throw new TidingsError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    if (this.subs.size >= options.limits.maxSubscriptions) {
      throw new TidingsError(ErrorCode.LimitExceeded, `at most ${options.limits.maxSubscriptions} subscriptions per connection`);
    }
    if (ns.subscribeProxy) {
      await this.host.proxies.subscribe(this.proxyClient(), channel);
      if (this.subs.has(channel) || this.state === 'closed') throw new TidingsError(ErrorCode.AlreadySubscribed, `already subscribed to ${channel}`);
    }
    // join/leave channels are tracked in presence too, so a client whose node dies still leaves
    const sub: Subscription = { recovering: true, pending: [], offset: 0, epoch: '', presence: ns.presence || ns.joinLeave, joinLeave: ns.joinLeave, server };
    this.subs.set(channel, sub);
    try {
      await this.host.hub.add(channel, this);
      const h = await this.host.engine.history(channel, since ? { since: since.offset, limit: ns.historySize } : { limit: 0 });
      if (this.subs.get(channel) !== sub) return;
      const { position } = h;
      let recovered = since !== undefined && since.epoch === position.epoch && since.offset <= position.offset &&
        h.publications.length === position.offset - since.offset;
      const replay = recovered ? encodeReplay(h.publications, options.limits.maxQueueBytes / 2) : undefined;
      // a replay the connection's queue could not hold would cut it as slow on every reconnect
      if (replay === undefined) recovered = false;
      if (since !== undefined) this.host.metrics.recoveries[recovered ? 'true' : 'false']++;
      sub.epoch = position.epoch;
      if (this.transport.bidirectional && id !== undefined) {
        sub.offset = position.offset;
        if (id !== undefined) this.reply(id, { position, recovered, publications: recovered ? h.publications : [] });
      } else {
        if (id !== undefined) this.reply(id, { position, recovered, publications: [] });
        sub.offset = recovered && since !== undefined ? since.offset : position.offset;
        sub.recovering = false;
        this.send(server ? { type: 'subscribed', channel, position, recovered, server } : { type: 'subscribed', channel, position, recovered });
        if (replay) for (let i = 0; i < replay.length; i++) this.write(sub, h.publications[i]!, replay[i]!);
      }
      sub.recovering = false;
      for (const p of sub.pending) this.deliverPublication(p.pub, p.message);
      sub.pending = NOTHING_PENDING;
      if (sub.presence) await this.host.engine.addPresence(channel, this.id, this.info, options.pingInterval * 3);
      if (sub.joinLeave) await this.host.engine.publishJoin(channel, this.info);
    } catch (err) {
      if (this.subs.get(channel) === sub) this.dropSubscription(channel, sub);
      throw err;
    }
  }

  private unsubscribe(channel: string): ResultOf['unsubscribe'] {
    const sub = this.subs.get(channel);
    if (!sub) throw new TidingsError(ErrorCode.NotSubscribed, `not subscribed to ${channel}`);
    this.dropSubscription(channel, sub);
    return {};
  }

  /** Ends a subscription from the server side and tells the client. */
  serverUnsubscribe(channel: string, code: number, reason: string): void {
    const sub = this.subs.get(channel);
    if (!sub) return;
    this.dropSubscription(channel, sub);
    this.send(sub.server ? { type: 'unsubscribed', channel, code, reason, server: true } : { type: 'unsubscribed', channel, code, reason });
  }

  /**
   * Adds a server-side subscription (`POST /api/subscribe`, or at connect), resuming from `since`.
   * A channel the connection already has is left as it is; a failure (limit, unknown namespace,
   * engine) reaches the client as `unsubscribed` (2000, `server: true`) with the reason.
   */
  async serverSubscribe(channel: string, since: StreamPosition | undefined): Promise<void> {
    if (this.state !== 'connected' || this.subs.has(channel)) return;
    try {
      await this.subscribe(channel, since, undefined, true);
    } catch (err) {
      // a subscribe of the client's own to the channel started meanwhile: it has the channel
      if (err instanceof TidingsError && err.code === ErrorCode.AlreadySubscribed) return;
      const { message } = this.host.publisher.mapError(err);
      this.send({ type: 'unsubscribed', channel, code: UnsubscribeCode.Server, reason: message, server: true });
    }
  }

  /**
   * At connect: subscribes the server-side channels (`ServerSubscriptions.forConnection`), each
   * from its position in `resume` (the `connect` command's `subs`, or a one-way stream's cursor).
   */
  private async subscribeServerSide(resume: Cursor, skip: readonly string[]): Promise<void> {
    let channels: string[];
    try {
      channels = await this.host.serverSubs.forConnection(this.credentials, skip);
    } catch (err) {
      this.host.log.warn('server-side subscriptions unavailable', { client: this.id, err: String(err) });
      channels = (this.credentials?.subs ?? []).filter((c) => !skip.includes(c));
    }
    for (const channel of channels) await this.serverSubscribe(channel, resume.get(channel));
  }

  private dropSubscription(channel: string, sub: Subscription): void {
    this.subs.delete(channel);
    this.host.hub.remove(channel, this);
    const { engine, log } = this.host;
    if (sub.presence) engine.removePresence(channel, this.id).catch((err: unknown) => log.warn('presence remove failed', { err: String(err) }));
    if (sub.joinLeave && !sub.recovering) engine.publishLeave(channel, this.info).catch((err: unknown) => log.warn('leave failed', { err: String(err) }));
  }

  deliverPublication(pub: Publication, message: Buffer): void {
    const sub = this.subs.get(pub.channel);
    if (!sub) return;
    if (sub.recovering) {
      sub.pending.push({ pub, message });
      return;
    }
    if (pub.epoch === sub.epoch) {
      if (pub.offset <= sub.offset) return;
      if (pub.offset === sub.offset + 1) return this.write(sub, pub, message);
    }
    // the channel's stream jumped (engine lost history or messages): the client recovers by resubscribing
    if (sub.server) {
      this.dropSubscription(pub.channel, sub);
      void this.serverSubscribe(pub.channel, { offset: sub.offset, epoch: sub.epoch });
      return;
    }
    this.serverUnsubscribe(pub.channel, UnsubscribeCode.Resubscribe, 'the channel\'s stream was interrupted: resubscribe to recover');
  }

  private write(sub: Subscription, pub: Publication, message: Buffer): void {
    sub.offset = pub.offset;
    sub.epoch = pub.epoch;
    if (!this.transport.write(message)) this.disconnect(CloseCode.Slow, 'slow consumer: outbound queue over its limit');
  }

  /** Re-adds this session's presence, so an engine with expiry (Redis) keeps it while the session lives. */
  refreshPresence(): void {
    const { engine, options, log } = this.host;
    for (const [channel, sub] of this.subs) {
      if (!sub.presence || sub.recovering) continue;
      engine.addPresence(channel, this.id, this.info, options.pingInterval * 3).catch((err: unknown) => log.debug('presence refresh failed', { err: String(err) }));
    }
  }

  /** Every live subscription's position, as a resume cursor (the SSE event id). */
  cursor(): string {
    if (this.subs.size === 1 && this.resuming === undefined) {
      // the usual case, without the general path's Map and array: SSE asks for this on every event
      for (const [channel, sub] of this.subs) return sub.recovering ? '' : cursorEntry(channel, sub.offset, sub.epoch);
    }
    const cursor: Cursor = new Map();
    for (const [channel, sub] of this.subs) if (!sub.recovering) cursor.set(channel, { offset: sub.offset, epoch: sub.epoch });
    if (this.resuming) for (const [channel, at] of this.resuming) if (!cursor.has(channel)) cursor.set(channel, at);
    return encodeCursor(cursor);
  }

  /**
   * Starts a session whose request was the connect (SSE, HTTP streaming, or WebSocket with channels
   * in the URL). Pushes `connected` (with `secret`, the one-way session's proof of ownership for
   * `/emulation`, when given), then subscribes to `channels`, resuming each from `cursor` where it
   * has a position. Until a channel's subscription has its own position, the event ids
   * (`cursor()`) carry the one it resumes from, so a drop while the others subscribe loses no
   * channel's position.
   */
  async open(channels: readonly string[], cursor: Cursor, secret?: string): Promise<void> {
    const result = this.establish(this.handshake);
    if (!this.transport.bidirectional) result.ping = this.host.options.pingInterval;
    // every position is kept until its channel subscribes: the server-side ones are known only later
    const resuming: Cursor = new Map(cursor);
    if (resuming.size > 0) this.resuming = resuming;
    this.send(secret === undefined ? { type: 'connected', ...result } : { type: 'connected', ...result, secret });
    try {
      for (const channel of channels) {
        try {
          await this.subscribe(channel, cursor.get(channel), undefined, false);
        } catch (err) {
          if (err instanceof ProxyDisconnect) return this.disconnect(err.code, err.reason);
          resuming.delete(channel);
          const e = err instanceof TidingsError ? err : undefined;
          // the app backend's refusal is final: resubscribing would be refused again
          const code = e !== undefined && isApplicationCode(e.code) ? UnsubscribeCode.Server : UnsubscribeCode.Resubscribe;
          this.send({ type: 'unsubscribed', channel, code, reason: e?.message ?? this.host.publisher.mapError(err).message });
        }
      }
      await this.subscribeServerSide(cursor, channels);
    } finally {
      this.resuming = undefined;
    }
  }

  deliverEvent(channel: string, message: Buffer): void {
    const sub = this.subs.get(channel);
    if (!sub || sub.recovering) return;
    if (!this.transport.write(message)) this.disconnect(CloseCode.Slow, 'slow consumer: outbound queue over its limit');
  }

  /**
   * Tells the client why, then closes. Safe to call more than once. A slow consumer's unsent
   * messages are dropped first, so the `disconnect` (and close frame) follow what it was sent.
   */
  disconnect(code: number, reason: string): void {
    if (this.state === 'closed') return;
    if (code === CloseCode.Slow) this.transport.discard();
    this.host.disconnects.closing({ transport: this.transport.name, client: this.id, user: this.user, code, reason });
    this.send({ type: 'disconnect', code, reason, reconnect: shouldReconnect(code) });
    this.host.metrics.disconnect(code, this.transport.name);
    this.transport.close(code, reason);
    this.closed();
  }

  /** The transport is gone: drop subscriptions, presence and timers. Idempotent. */
  closed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.host.timers.cancel(this, this.timerHandle);
    for (const [channel, sub] of this.subs) this.dropSubscription(channel, sub);
    this.host.sessionClosed(this);
  }

  onTimer(now: number): void {
    this.timerHandle = -1;
    // while connecting, the only timer is the connect deadline (the wheel never calls early)
    if (this.state === 'connecting') return this.disconnect(CloseCode.ConnectTimeout, 'no connect command in time');
    const expires = this.credentials?.expires;
    if (this.state === 'connected' && expires !== undefined) {
      if (this.host.proxies.refreshes(this.credentials)) {
        if (now >= expires * 1000) return void this.refreshThroughProxy();
        return this.reschedule();
      }
      if (now >= expires * 1000) return this.disconnect(CloseCode.TokenExpired, 'token expired');
      if (!this.refreshRequested && now >= (expires - this.host.options.tokenRefreshLead) * 1000) {
        this.refreshRequested = true;
        this.send({ type: 'refresh_required', expiresIn: Math.max(0, Math.round(expires - now / 1000)) });
      }
    }
    this.reschedule();
  }

  /**
   * The session's proxied credentials expired: the refresh proxy gives a new expiry (or none), or
   * the session closes (3005; the backend's code for `{disconnect}` or `{error}`).
   */
  private async refreshThroughProxy(): Promise<void> {
    const creds = this.credentials;
    if (this.refreshing || !creds) return;
    this.refreshing = true;
    try {
      const next = await this.host.proxies.refresh(this.proxyClient(), creds);
      if (this.state !== 'connected' || this.credentials !== creds) return;
      this.credentials = next;
      this.refreshing = false;
      this.reschedule();
    } catch (err) {
      const code = err instanceof TidingsError && isApplicationCode(err.code) ? err.code : CloseCode.TokenExpired;
      this.disconnect(code, err instanceof ProxyError ? `session expired and could not be refreshed: ${err.message}` : err instanceof Error ? err.message : 'session expired');
    } finally {
      this.refreshing = false;
    }
  }

  /** Once connected: the timer for the token's expiry, or none. (While connecting, the connect deadline's stands.) */
  private reschedule(): void {
    if (this.state === 'connecting') return;
    let due = 0;
    if (this.state === 'connected' && this.refreshing) due = 0;
    else if (this.state === 'connected' && this.credentials?.expires !== undefined) {
      const exp = this.credentials.expires * 1000;
      const byProxy = this.host.proxies.refreshes(this.credentials);
      due = this.refreshRequested || byProxy ? exp : Math.min(exp, exp - this.host.options.tokenRefreshLead * 1000);
    }
    if (this.timerHandle !== -1) this.host.timers.cancel(this, this.timerHandle);
    this.timerHandle = due > 0 ? this.host.timers.schedule(this, due) : -1;
  }

  /** The inbox's owner: the connection's user; anonymous connections have no inbox. */
  private owner(): string {
    if (this.user === '') throw new TidingsError(ErrorCode.Unauthorized, 'the inbox needs an authenticated connection');
    return this.user;
  }

  private proxyClient(): ProxyClient {
    return { client: this.id, user: this.user, transport: this.transport.name, protocol: this.transport.name === 'sockjs' ? 'sockjs' : 'json' };
  }

  private principal(): Principal {
    return { user: this.user, channels: this.credentials?.channels, admin: this.credentials?.admin };
  }

  private reply<T extends keyof ResultOf>(id: number, result: ResultOf[T]): void {
    this.answer({ type: 'reply', id, result });
  }

  private fail(id: number, err: unknown): ProtocolError {
    const error = this.host.publisher.mapError(err);
    this.answer({ type: 'error', id, error });
    return error;
  }

  /** Sends a command's answer where it is awaited; `ifUnanswered` only when none was sent yet. */
  private answer(message: ServerMessage, ifUnanswered = false): void {
    const respond = this.respond;
    this.respond = undefined;
    if (respond) respond(message);
    else if (!ifUnanswered) this.send(message);
  }

  send(message: ServerMessage): void {
    if (this.state === 'closed') return;
    this.transport.write(Buffer.from(JSON.stringify(message)));
  }
}

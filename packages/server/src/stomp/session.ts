import { CloseCode, ErrorCode, MAX_RPC_METHOD, type ClientInfo, type StreamPosition } from '@tidings/protocol';
import { header, type StompFrame, type StompVersion } from '@tidings/stomp';
import type { Principal } from '../channels.js';
import { ProxyDisconnect } from '../proxy/errors.js';
import type { ProxyClient } from '../proxy/proxies.js';
import { TidingsError } from '../errors.js';
import { bodyToData, checkQueueBody, utf8Text } from './body.js';
import { parseDestination } from './destinations.js';
import { StompError, required } from './errors.js';
import { breaksSequence, readGap } from './gaps.js';
import { NOT_RECOVERED_LINE, REDELIVERED_LINE, headerLine, subscriptionPrefix, type Deliverable, type EncodedMessage } from './message.js';
import { refreshTopicPresence } from './presence.js';
import type { QueueMessage } from './queue-contract.js';
import type { StompHost } from './host.js';
import {
  MAX_UNACKED, NO_PENDING, SubscriptionTable, addPending, unackedFor,
  type AckMode, type QueueSubscription, type Subscription, type SubscriptionBase, type SubscriptionOwner, type TopicSubscription,
} from './subscriptions.js';
import { SERVER_SUBSCRIPTIONS_DESTINATION, ServerSubscriptionSink } from './server-subs.js';
import { topicMessage } from './topics.js';
import { Transactions, type TransactedFrame } from './transactions.js';
import { userHeaders } from './user-headers.js';
import type { StompWire } from './wire.js';

/** What a session needs from its connection. */
export interface SessionIO {
  readonly version: StompVersion;
  readonly wire: StompWire;
  readonly info: ClientInfo;
  readonly principal: Principal;
  /** The token's server-side subscriptions (`Credentials.subs`). */
  readonly subs: readonly string[] | undefined;
  readonly proxyClient: ProxyClient;
  /** Sends ERROR and closes. */
  fail(err: StompError): void;
  /** Sends RECEIPT when the frame asked for one. */
  receipt(frame: StompFrame, extra?: ReadonlyArray<readonly [string, string]>): void;
}

type Extra = Array<readonly [string, string]>;

const ACK_MODES: readonly AckMode[] = ['auto', 'client', 'client-individual'];
/** SEND destinations under this prefix are RPCs to the app backend: `/app/<method>` (docs/stomp.md). */
export const APP_PREFIX = '/app/';

/**
 * The broker side of one connected STOMP client: subscriptions (topics with recovery, queues),
 * SEND, ACK/NACK and transactions. Fan-out and queues call `deliverTopic` / `deliverQueued`.
 */
export class StompSession implements SubscriptionOwner {
  private readonly subs = new SubscriptionTable();
  /** Created by the first transaction. */
  private transactions: Transactions | undefined = undefined;
  /** Server-side subscriptions, once the client SUBSCRIBEd to SERVER_SUBSCRIPTIONS_DESTINATION. */
  private sink: ServerSubscriptionSink | undefined;

  constructor(private readonly host: StompHost, private readonly io: SessionIO) {}

  private get tx(): Transactions {
    return (this.transactions ??= new Transactions(this.host.options.limits.maxQueueBytes));
  }

  get congested(): boolean {
    return this.io.wire.backlog > this.host.options.limits.maxQueueBytes / 2;
  }

  /** Handles a frame of a connected client; throws StompError. */
  handle(frame: StompFrame): Promise<void> | void {
    switch (frame.command) {
      case 'SEND':
      case 'ACK':
      case 'NACK': {
        if (!isTransactable(frame)) break;
        const tx = header(frame, 'transaction');
        if (tx === undefined) return this.perform(frame, true);
        this.tx.add(tx, frame);
        return this.io.receipt(frame);
      }
      case 'SUBSCRIBE':
        return this.subscribe(frame);
      case 'UNSUBSCRIBE':
        this.unsubscribe(frame);
        return this.io.receipt(frame);
      case 'BEGIN':
        this.tx.begin(required(frame, 'transaction'));
        return this.io.receipt(frame);
      case 'COMMIT':
        return this.commit(frame);
      case 'ABORT':
        this.tx.abort(required(frame, 'transaction'));
        return this.io.receipt(frame);
      default:
        break;
    }
    throw new StompError(`unexpected ${frame.command} frame`, ErrorCode.BadRequest);
  }

  /** Ends every subscription (unacked queue messages go back to their queues) and transaction. */
  close(): void {
    this.sink?.close();
    for (const sub of [...this.subs.byId.values()]) this.drop(sub);
    this.transactions?.clear();
  }

  /** True when a subscription holds `channel`. */
  holds(channel: string): boolean {
    for (const sub of this.subs.byId.values()) if (sub.kind === 'topic' && sub.channel === channel) return true;
    return false;
  }

  /** Adds a server-side subscription (a no-op until the client SUBSCRIBEd to `/user/subscriptions`). */
  async serverSubscribe(channel: string): Promise<void> {
    await this.sink?.add(channel);
  }

  /** Drops a server-side subscription; true when there was one. */
  serverUnsubscribe(channel: string): boolean {
    return this.sink?.remove(channel) ?? false;
  }

  private async commit(frame: StompFrame): Promise<void> {
    for (const f of this.tx.commit(required(frame, 'transaction'))) await this.perform(f, false);
    this.io.receipt(frame);
  }

  private async perform(frame: TransactedFrame, withReceipt: boolean): Promise<void> {
    let extra: Extra = [];
    if (frame.command === 'SEND') extra = await this.send(frame);
    else if (frame.command === 'ACK') await this.ack(frame);
    else await this.nack(frame);
    if (withReceipt) this.io.receipt(frame, extra);
  }

  private async send(frame: StompFrame): Promise<Extra> {
    const destination = required(frame, 'destination');
    if (destination.startsWith(APP_PREFIX)) return this.rpc(frame, destination.slice(APP_PREFIX.length));
    const dest = parseDestination(destination, this.io.info.user, true);
    const name = dest.kind === 'channel' ? dest.channel : dest.queue;
    const { policy } = this.host;
    const ns = policy.resolve(name);
    const proxied = ns.publishProxy && dest.kind === 'channel';
    if (proxied) policy.checkSubscribe(ns, name, this.io.principal);
    else policy.checkPublish(ns, name, this.io.principal);
    const contentType = header(frame, 'content-type');
    if (dest.kind === 'channel') {
      const idempotencyKey = header(frame, 'x-idempotency-key');
      if (idempotencyKey !== undefined && (idempotencyKey === '' || idempotencyKey.length > 255)) {
        throw new StompError('x-idempotency-key must have 1 to 255 characters', ErrorCode.BadRequest);
      }
      let data = bodyToData(frame.body, contentType, this.host.options.limits.maxDepth);
      if (proxied) data = await this.host.proxies.publish(this.io.proxyClient, dest.channel, data);
      const user = userHeaders(frame);
      const headers = user.length > 0 ? Object.fromEntries(user) : undefined;
      const pub = await this.host.publisher.publish(dest.channel, data, { info: this.io.info, idempotencyKey, headers, source: 'stomp' });
      return [['x-offset', String(pub.offset)], ['x-epoch', pub.epoch]];
    }
    checkQueueBody(frame.body, contentType, this.host.options.limits.maxDepth);
    const body = { bytes: frame.body, contentType, binary: utf8Text(frame.body) === undefined };
    const at = await this.host.queues.send(dest.queue, body, userHeaders(frame));
    return [['x-offset', String(at.offset)], ['x-epoch', at.epoch]];
  }

  /**
   * SEND to `/app/<method>`: the body (as `data`, read like a publication's) goes to the RPC proxy.
   * The answer rides on the RECEIPT (send a `receipt` header to get it): `x-rpc-data` (the JSON of
   * the backend's `data`, absent when none), or `x-rpc-error-code` and `x-rpc-error-message` (an
   * application code, or 124–127 when the backend failed, or 108 without an RPC proxy); the
   * connection stays open. A `{disconnect}` answer closes it with the backend's code.
   */
  private async rpc(frame: StompFrame, method: string): Promise<Extra> {
    if (method === '' || method.length > MAX_RPC_METHOD) {
      throw new StompError(`the method after ${APP_PREFIX} must have 1 to ${MAX_RPC_METHOD} characters`, ErrorCode.BadRequest);
    }
    const data = bodyToData(frame.body, header(frame, 'content-type'), this.host.options.limits.maxDepth);
    try {
      const result = await this.host.proxies.rpc(this.io.proxyClient, method, frame.body.length === 0 ? undefined : data);
      return result.data === undefined ? [] : [['x-rpc-data', JSON.stringify(result.data)]];
    } catch (err) {
      if (err instanceof ProxyDisconnect || !(err instanceof TidingsError)) throw err;
      return [['x-rpc-error-code', String(err.code)], ['x-rpc-error-message', err.message.replace(/[\r\n]+/g, ' ')]];
    }
  }

  private async ack(frame: StompFrame): Promise<void> {
    const settled = this.subs.settle(this.io.version, frame);
    if (settled.kind === 'queue') await this.host.queues.ack(settled.sub, settled.messages);
  }

  private async nack(frame: StompFrame): Promise<void> {
    const settled = this.subs.settle(this.io.version, frame);
    if (settled.kind === 'queue') await this.host.queues.nack(settled.sub, settled.messages);
    else for (const m of settled.messages) this.emit(settled.sub, m, true);
  }

  private async subscribe(frame: StompFrame): Promise<void> {
    const { version } = this.io;
    const destination = required(frame, 'destination');
    const id = version === '1.0' ? (header(frame, 'id') ?? destination) : required(frame, 'id');
    if (this.subs.byId.has(id) || this.sink?.id === id) throw new StompError(`subscription id ${JSON.stringify(id.slice(0, 80))} is already in use`, ErrorCode.AlreadySubscribed);
    const { policy, options } = this.host;
    if (destination === SERVER_SUBSCRIPTIONS_DESTINATION) return this.openSink(id, frame);
    if (this.subs.size + (this.sink?.size ?? 0) >= options.limits.maxSubscriptions) {
      throw new StompError('too many subscriptions', ErrorCode.LimitExceeded, undefined, `at most ${options.limits.maxSubscriptions} subscriptions per connection`);
    }
    const ack = ackMode(header(frame, 'ack'));
    const dest = parseDestination(destination, this.io.info.user, false);
    const name = dest.kind === 'channel' ? dest.channel : dest.queue;
    const ns = policy.resolve(name);
    policy.checkSubscribe(ns, name, this.io.principal);
    if (ns.subscribeProxy) {
      await this.host.proxies.subscribe(this.io.proxyClient, name);
      if (this.subs.byId.has(id)) throw new StompError(`subscription id ${JSON.stringify(id.slice(0, 80))} is already in use`, ErrorCode.AlreadySubscribed);
    }
    const prefix = subscriptionPrefix(id, version);
    if (dest.kind === 'queue') {
      const sub: QueueSubscription = {
        kind: 'queue', id, destination, ack, prefix, owner: this, unacked: unackedFor(ack), queue: dest.queue, prefetch: prefetchOf(frame),
      };
      this.subs.byId.set(id, sub);
      this.host.queues.subscribe(sub);
      return this.io.receipt(frame);
    }
    const since = sinceOf(frame);
    const shared = this.host.topics.shared(dest.channel, destination);
    // A literal, not a spread: spread-built objects get slow properties, and fan-out reads these for every delivery.
    const sub: TopicSubscription = {
      kind: 'topic', id, destination: shared.destination, ack, prefix, owner: this, unacked: unackedFor(ack),
      channel: shared.channel, live: false, pending: NO_PENDING, offset: 0, epoch: '', unrecovered: false, presence: ns.presence || ns.joinLeave, joinLeave: ns.joinLeave,
    };
    this.subs.byId.set(id, sub);
    try {
      await this.host.topics.add(sub);
      const h = await this.host.engine.history(sub.channel, since ? { since: since.offset, limit: ns.historySize } : { limit: 0 });
      if (this.subs.byId.get(id) !== sub) return;
      const top = h.position.offset;
      let recovered = since !== undefined && since.epoch === h.position.epoch && since.offset <= top &&
        h.publications.length === top - since.offset;
      const replay = recovered ? h.publications.map(topicMessage) : [];
      // a replay the connection's queue could not hold would cut it as slow on every reconnect
      let bytes = 0;
      for (const m of replay) bytes += m.tail(this.io.version, sub.destination).length;
      if (bytes > options.limits.maxQueueBytes / 2) recovered = false;
      if (since !== undefined) this.host.metrics.recoveries[recovered ? 'true' : 'false']++;
      if (recovered) for (const m of replay) this.emit(sub, m, false);
      if (this.subs.byId.get(id) !== sub) return;
      sub.offset = top;
      sub.epoch = h.position.epoch;
      sub.unrecovered = since !== undefined && !recovered;
      this.goLive(sub);
      this.io.receipt(frame, [['x-recovered', String(recovered)], ['x-offset', String(top)], ['x-epoch', h.position.epoch]]);
      const { engine } = this.host;
      if (sub.presence) await engine.addPresence(sub.channel, this.io.info.client, this.io.info, options.pingInterval * 3);
      if (sub.joinLeave) await engine.publishJoin(sub.channel, this.io.info);
    } catch (err) {
      if (this.subs.byId.get(id) === sub) this.drop(sub);
      throw err;
    }
  }

  private async openSink(id: string, frame: StompFrame): Promise<void> {
    if (this.sink) throw new StompError(`${SERVER_SUBSCRIPTIONS_DESTINATION} is already subscribed`, ErrorCode.AlreadySubscribed);
    if (ackMode(header(frame, 'ack')) !== 'auto') throw new StompError(`${SERVER_SUBSCRIPTIONS_DESTINATION} is ack:auto only`, ErrorCode.BadRequest);
    this.sink = new ServerSubscriptionSink(id, this.host, this.io, () => this.subs.size);
    await this.sink.open(frame);
  }

  private unsubscribe(frame: StompFrame): void {
    const id = this.io.version === '1.0' ? (header(frame, 'id') ?? required(frame, 'destination')) : required(frame, 'id');
    if (this.sink?.id === id) {
      this.sink.close();
      this.sink = undefined;
      return;
    }
    const sub = this.subs.byId.get(id);
    if (!sub) throw new StompError(`no subscription ${JSON.stringify(id.slice(0, 80))}`, ErrorCode.NotSubscribed);
    this.drop(sub);
  }

  private drop(sub: Subscription): void {
    this.subs.byId.delete(sub.id);
    if (sub.kind === 'queue') {
      this.host.queues.unsubscribe(sub, this.subs.release(sub));
      return;
    }
    this.subs.release(sub);
    this.host.topics.remove(sub);
    const { engine, log } = this.host;
    const warn = (err: unknown): void => log.warn('stomp presence update failed', { err: String(err) });
    if (sub.presence) engine.removePresence(sub.channel, this.io.info.client).catch(warn);
    if (sub.joinLeave && sub.live) engine.publishLeave(sub.channel, this.io.info).catch(warn);
  }

  /** Re-adds presence of live topic subscriptions, so an engine with expiry (Redis) keeps it. */
  refreshPresence(): void {
    this.sink?.refreshPresence();
    refreshTopicPresence(this.host, this.io.info, this.subs.byId.values());
  }

  deliverTopic(sub: TopicSubscription, message: EncodedMessage): void {
    if (!sub.live) {
      addPending(sub, message);
      return;
    }
    if (message.epoch === sub.epoch && message.offset <= sub.offset) return;
    if (breaksSequence(sub, message)) return void this.recoverGap(sub, message);
    this.deliverNext(sub, message);
  }

  private deliverNext(sub: TopicSubscription, message: EncodedMessage): void {
    sub.offset = message.offset;
    const unrecovered = sub.unrecovered;
    sub.unrecovered = false;
    this.emit(sub, message, false, unrecovered);
  }

  /** Delivers what waited while the subscription was not live, in order; a new break may stop it again. */
  private goLive(sub: TopicSubscription): void {
    const pending = sub.pending;
    sub.pending = NO_PENDING;
    sub.live = true;
    for (const m of pending) this.deliverTopic(sub, m);
  }

  /**
   * `first` does not follow the last publication `sub` delivered (the engine lost messages, or
   * the channel's history and epoch). Live publications wait while the gap is read from history
   * and replayed; when it cannot be, `first` goes out with `x-recovered:false` and the sequence
   * goes on from it (docs/stomp.md#gaps). Never a silent skip.
   */
  private async recoverGap(sub: TopicSubscription, first: EncodedMessage): Promise<void> {
    sub.live = false;
    sub.pending = [first];
    const { engine, policy, options, metrics } = this.host;
    const replay = first.epoch === sub.epoch
      ? await readGap(engine, sub, policy.resolve(sub.channel).historySize, options.limits.maxQueueBytes / 2, this.io.version)
      : undefined;
    if (this.subs.byId.get(sub.id) !== sub) return;
    metrics.recoveries[replay ? 'true' : 'false']++;
    if (replay) {
      for (const m of replay) this.deliverNext(sub, m);
    } else {
      sub.epoch = first.epoch;
      sub.offset = first.offset - 1;
      sub.unrecovered = true;
    }
    this.goLive(sub);
  }

  deliverQueued(sub: QueueSubscription, message: QueueMessage): void {
    const redelivered = message.delivered;
    message.delivered = true;
    this.emit(sub, message, redelivered);
  }

  /** Writes one MESSAGE: the subscription's prefix, the delivery's own lines, the shared tail. */
  private emit<M extends Deliverable>(sub: SubscriptionBase<M> & Subscription, message: M, redelivered: boolean, unrecovered = false): void {
    const { wire, version } = this.io;
    wire.written.messages++;
    wire.write(sub.prefix, false);
    if (sub.ack !== 'auto') {
      const key = this.subs.register(sub, message.messageId, version);
      sub.unacked.set(key, message);
      if (version === '1.2') wire.write(headerLine('ack', key, version), false);
    }
    if (redelivered) wire.write(REDELIVERED_LINE, false);
    if (unrecovered) wire.write(NOT_RECOVERED_LINE, false);
    if (!wire.write(message.tail(version, sub.destination), message.binary)) {
      this.io.fail(new StompError('slow consumer: outbound queue over its limit', ErrorCode.LimitExceeded, CloseCode.Slow));
    } else if (sub.kind === 'topic' && sub.unacked.size > MAX_UNACKED) {
      this.io.fail(new StompError('too many unacknowledged messages', ErrorCode.LimitExceeded, CloseCode.Slow,
        `a subscription may hold at most ${MAX_UNACKED} messages unacknowledged`));
    }
  }
}

function isTransactable(frame: StompFrame): frame is TransactedFrame {
  return frame.command === 'SEND' || frame.command === 'ACK' || frame.command === 'NACK';
}

/** The ack mode of a SUBSCRIBE's `ack` header, as one of the constant strings (a subscription keeps no copy of the header's). */
function ackMode(value: string | undefined): AckMode {
  if (value === undefined) return 'auto';
  for (const mode of ACK_MODES) if (mode === value) return mode;
  throw new StompError(`unknown ack mode ${JSON.stringify(value.slice(0, 40))}`, ErrorCode.BadRequest, undefined, 'ack is auto, client or client-individual');
}

function prefetchOf(frame: StompFrame): number {
  const v = header(frame, 'prefetch-count');
  if (v === undefined || v === '0') return MAX_UNACKED;
  if (!/^[0-9]{1,9}$/.test(v)) throw new StompError('prefetch-count must be an integer ≥ 0');
  return Math.min(Number(v), MAX_UNACKED);
}

function sinceOf(frame: StompFrame): StreamPosition | undefined {
  const offset = header(frame, 'x-since-offset');
  const epoch = header(frame, 'x-epoch');
  if (offset === undefined && epoch === undefined) return undefined;
  if (offset === undefined || epoch === undefined) throw new StompError('x-since-offset and x-epoch go together');
  if (!/^[0-9]{1,15}$/.test(offset)) throw new StompError('x-since-offset must be an integer ≥ 0');
  return { offset: Number(offset), epoch };
}

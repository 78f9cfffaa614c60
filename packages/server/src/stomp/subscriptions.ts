import { header, type StompFrame, type StompVersion } from '@tidings/stomp';
import { ErrorCode } from '@tidings/protocol';
import { StompError, required } from './errors.js';
import type { Deliverable, EncodedMessage } from './message.js';
import type { QueueMessage } from './queue-contract.js';
import { SmallMap } from '../small-map.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

/** Unacknowledged deliveries one subscription may hold; more ends the connection (topics) or waits (queues). */
export const MAX_UNACKED = 1000;

/** The connection side of a subscription: what fan-out and queues call. No closures, just methods. */
export interface SubscriptionOwner {
  deliverTopic(sub: TopicSubscription, message: EncodedMessage): void;
  /** Sends a queued message (with `redelivered:true` when it was delivered before) and tracks it until acknowledged. */
  deliverQueued(sub: QueueSubscription, message: QueueMessage): void;
  /** True while the connection's outbound queue is half full: queues wait before sending it more. */
  readonly congested: boolean;
}

export interface SubscriptionBase<M extends Deliverable> {
  readonly id: string;
  /** The destination as the client wrote it; MESSAGE frames carry it back. */
  readonly destination: string;
  readonly ack: AckMode;
  /** `MESSAGE` and `subscription` lines, encoded once. */
  readonly prefix: Buffer;
  readonly owner: SubscriptionOwner;
  /** Deliveries awaiting ACK or NACK, oldest first, by ack key (`ack` id in 1.2, else message-id). */
  readonly unacked: Map<string, M>;
}

export interface TopicSubscription extends SubscriptionBase<EncodedMessage> {
  readonly kind: 'topic';
  readonly channel: string;
  /** False while recovering: live publications wait in `pending` until the replay is out. */
  live: boolean;
  /** NO_PENDING (shared, never added to) while nothing waits: see `addPending`. */
  pending: EncodedMessage[];
  /** The last offset delivered (or replayed past) in `epoch`; older publications are skipped. */
  offset: number;
  epoch: string;
  /** The next MESSAGE carries `x-recovered:false`: publications before it may be missing. */
  unrecovered: boolean;
  presence: boolean;
  joinLeave: boolean;
}

export interface QueueSubscription extends SubscriptionBase<QueueMessage> {
  readonly kind: 'queue';
  /** The queue's name (after `/queue/`). */
  readonly queue: string;
  /** Unacked messages the queue may hand this consumer at once. */
  readonly prefetch: number;
}

export type Subscription = TopicSubscription | QueueSubscription;

/** What an ACK or NACK settled: the subscription and its messages, oldest first. */
export type Settled =
  | { kind: 'topic'; sub: TopicSubscription; messages: EncodedMessage[] }
  | { kind: 'queue'; sub: QueueSubscription; messages: QueueMessage[] };

/**
 * The `unacked` of every `ack:auto` subscription: always empty (deliveries in auto mode are never
 * tracked), shared so that an idle subscription holds no Map of its own.
 */
const NONE_UNACKED = new Map<string, never>();

/** A new subscription's `unacked`: the shared empty map in `auto` mode (never added to), else its own. */
export function unackedFor<M extends Deliverable>(ack: AckMode): Map<string, M> {
  return ack === 'auto' ? NONE_UNACKED : new Map<string, M>();
}

/** The `pending` of a subscription that has nothing waiting; frozen (a push throws): use `addPending`. */
export const NO_PENDING = Object.freeze([]) as unknown as EncodedMessage[];

/** Keeps `message` until `sub` is live. */
export function addPending(sub: TopicSubscription, message: EncodedMessage): void {
  if (sub.pending === NO_PENDING) sub.pending = [];
  sub.pending.push(message);
}

/** One connection's subscriptions and the index from ack ids to them. */
export class SubscriptionTable {
  readonly byId = new SmallMap<Subscription>();
  /** Created by the first delivery that awaits an ACK in STOMP 1.2. */
  private byAckId: Map<string, Subscription> | undefined = undefined;
  private ackSeq = 0;

  get size(): number {
    return this.byId.size;
  }

  /** The key a delivery awaiting ACK is kept under: a fresh `ack` id in 1.2 (returned to send), else its message-id. */
  register(sub: Subscription, messageId: string, version: StompVersion): string {
    if (version !== '1.2') return messageId;
    const ackId = String(++this.ackSeq);
    (this.byAckId ??= new Map()).set(ackId, sub);
    return ackId;
  }

  /** Removes and returns everything `sub` had unacked, oldest first. */
  release<M extends Deliverable>(sub: SubscriptionBase<M>): M[] {
    const messages = [...sub.unacked.values()];
    if (sub.unacked.size === 0) return [];
    const byAckId = this.byAckId;
    if (byAckId !== undefined) for (const key of sub.unacked.keys()) byAckId.delete(key);
    sub.unacked.clear();
    return messages;
  }

  /**
   * Settles an ACK or NACK: by `id` (1.2), by `subscription` + `message-id` (1.1), or by `message-id`
   * and optionally `subscription` (1.0). In `client` mode every older unacked delivery of the
   * subscription is settled with it. Throws StompError when nothing matches.
   */
  settle(version: StompVersion, frame: StompFrame): Settled {
    const found = this.find(version, frame);
    if (!found) {
      throw new StompError(`${frame.command} for an unknown message`, ErrorCode.NotFound, undefined,
        'the id names no message this connection holds unacknowledged (already settled, auto-acknowledged, or never sent)');
    }
    const { sub, key } = found;
    return sub.kind === 'topic' ? { kind: 'topic', sub, messages: this.take(sub, key) } : { kind: 'queue', sub, messages: this.take(sub, key) };
  }

  private take<M extends Deliverable>(sub: SubscriptionBase<M>, key: string): M[] {
    const messages: M[] = [];
    if (sub.ack === 'client') {
      for (const [k, m] of sub.unacked) {
        sub.unacked.delete(k);
        this.byAckId?.delete(k);
        messages.push(m);
        if (k === key) break;
      }
    } else {
      messages.push(sub.unacked.get(key)!);
      sub.unacked.delete(key);
      this.byAckId?.delete(key);
    }
    return messages;
  }

  private find(version: StompVersion, frame: StompFrame): { sub: Subscription; key: string } | undefined {
    if (version === '1.2') {
      const id = required(frame, 'id');
      const sub = this.byAckId?.get(id);
      return sub?.unacked.has(id) ? { sub, key: id } : undefined;
    }
    const messageId = required(frame, 'message-id');
    const subscription = version === '1.1' ? required(frame, 'subscription') : header(frame, 'subscription');
    if (subscription !== undefined) {
      const sub = this.byId.get(subscription);
      return sub?.unacked.has(messageId) ? { sub, key: messageId } : undefined;
    }
    for (const sub of this.byId.values()) if (sub.unacked.has(messageId)) return { sub, key: messageId };
    return undefined;
  }
}

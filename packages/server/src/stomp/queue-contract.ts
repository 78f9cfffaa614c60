import type { OutgoingBody } from './body.js';
import { EncodedMessage } from './message.js';

/** User headers a queued message carries (name, value), in order. */
export type QueueHeaders = ReadonlyArray<readonly [string, string]>;

/** A message sent to a `/queue/…`: delivered to one consumer, redelivered until acknowledged. */
export class QueueMessage extends EncodedMessage {
  constructor(
    /** The queue's name (after `/queue/`). */
    readonly queue: string,
    /** The queue's sequence number of the message: 1, 2, 3… per queue epoch. */
    seq: number,
    /** Changes when the queue's numbering restarts (node restart; Redis lost its data). */
    override readonly epoch: string,
    body: OutgoingBody,
    headers: QueueHeaders,
    /** Where the implementation keeps it (a Redis stream entry id); '' for memory. */
    readonly ref = '',
    /** Delivered before: the next delivery carries `redelivered:true`. */
    public delivered = false,
  ) {
    super(`q-${epoch}-${seq}`, body, [...headers, ['x-offset', String(seq)], ['x-epoch', epoch]], seq, epoch);
    this.size = body.bytes.length;
  }

  /** Body bytes. */
  readonly size: number;
}

/**
 * A queue consumer as queues see it: a STOMP queue subscription (`QueueSubscription` in
 * subscriptions.ts) through this narrow shape.
 */
export interface QueueConsumer {
  /** The queue's name (after `/queue/`). */
  readonly queue: string;
  readonly ack: 'auto' | 'client' | 'client-individual';
  /** Unacked messages the queue may hand this consumer at once (1–1000). */
  readonly prefetch: number;
  readonly unacked: { readonly size: number };
  readonly owner: {
    /** True while the connection's outbound queue is half full: the queue waits. */
    readonly congested: boolean;
    /** Writes the MESSAGE (with `redelivered:true` when `message.delivered`); tracks it until settled unless `ack` is `auto`. */
    deliverQueued(sub: QueueConsumer, message: QueueMessage): void;
  };
}

/** Where a SEND to a queue landed: the message's sequence number and the queue's epoch (RECEIPT `x-offset`, `x-epoch`). */
export interface QueuePosition {
  offset: number;
  epoch: string;
}

/**
 * STOMP point-to-point queues (`/queue/<name>`), as the broker uses them. Two implementations:
 * `MemoryQueues` (queues.ts: one node's memory, the memory engine's) and `ClusterQueues`
 * (cluster-queues.ts, over a `SharedQueueLog` such as Redis Streams: one queue for all nodes).
 * Both pass the conformance cases in queue-conformance.ts.
 *
 * Guarantees, for both:
 * - every message sent is handed to one consumer at a time (competing consumers; across nodes for
 *   ClusterQueues), and is done once acknowledged (`client`, `client-individual`) or, with
 *   `ack: auto`, once written to the consumer's connection;
 * - a consumer holds at most `prefetch` unacknowledged messages; it is skipped while congested;
 * - messages reach one consumer in the order they were sent, redeliveries aside;
 * - what is NACKed, or held by a consumer that unsubscribes or disconnects, is delivered again, to
 *   another consumer where there is one, marked delivered (`redelivered:true`);
 * - a queue holds at most `maxLength` messages (waiting + unacknowledged); a SEND beyond is refused
 *   with StompError 121 (`queue_full`) and nothing is queued.
 * ClusterQueues adds: what a consumer on a node that died held unacknowledged is delivered again
 * after `redeliverAfter` ms; delivery is then at least once (a node that was only cut off longer
 * than that may still see its late ACK, after the message went to another consumer).
 */
export interface StompQueues {
  /**
   * Queues `body` with `headers` on `queue`. Rejects with StompError 121 when the queue is full,
   * EngineUnavailableError when the backend is down (nothing queued), OutcomeUnknownError when it
   * did not confirm (it may be queued).
   */
  send(queue: string, body: OutgoingBody, headers: QueueHeaders): Promise<QueuePosition>;
  /** Starts handing `consumer` messages of its queue. */
  subscribe(consumer: QueueConsumer): void;
  /** Stops; `unacked` (what it held, oldest first) is delivered again to other consumers. Never throws. */
  unsubscribe(consumer: QueueConsumer, unacked: QueueMessage[]): void;
  /** The consumer acknowledged `messages`: gone for good. Rejects like `send` when the backend could not take it. */
  ack(consumer: QueueConsumer, messages: QueueMessage[]): Promise<void>;
  /** The consumer refused `messages` (NACK): delivered again, to another consumer where there is one. */
  nack(consumer: QueueConsumer, messages: QueueMessage[]): Promise<void>;
  /** Stops reading and timers; what local consumers held is left to redelivery. */
  close(): Promise<void>;
}

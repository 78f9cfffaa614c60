import { ErrorCode } from '@tidings/protocol';
import { newEpoch } from '../engine/memory.js';
import type { Timed, TimerWheel } from '../timer.js';
import type { OutgoingBody } from './body.js';
import { StompError } from './errors.js';
import { EncodedMessage } from './message.js';

/**
 * What a queue needs of a consumer: a STOMP queue subscription (`QueueSubscription` in
 * subscriptions.ts), seen through this narrow shape so the two files do not import each other.
 */
export interface QueueConsumer {
  readonly ack: 'auto' | 'client' | 'client-individual';
  /** Unacked messages the queue may hand this consumer at once. */
  readonly prefetch: number;
  readonly unacked: { readonly size: number };
  readonly owner: {
    /** True while the connection's outbound queue is half full: the queue waits. */
    readonly congested: boolean;
    deliverQueued(sub: QueueConsumer, message: QueueMessage): void;
  };
}

/** Messages one queue holds, waiting or unacknowledged. */
export const MAX_QUEUE_LENGTH = 10_000;
/** Body bytes all queues of a node hold together. */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** How soon a queue retries consumers that were congested. */
const RETRY_MS = 250;

/** A message sent to a `/queue/…`: delivered to one consumer, redelivered until acknowledged. */
export class QueueMessage extends EncodedMessage {
  /** Set once delivered: a later delivery carries `redelivered:true`. */
  delivered = false;

  constructor(queue: Queue, seq: number, body: OutgoingBody, headers: ReadonlyArray<readonly [string, string]>, readonly size: number) {
    super(`q-${queue.epoch}-${seq}`, body, [...headers, ['x-offset', String(seq)], ['x-epoch', queue.epoch]], seq, queue.epoch);
  }
}

/**
 * One node-local point-to-point queue: FIFO, competing consumers served round-robin, each
 * message handed to exactly one consumer at a time. A consumer holds at most `prefetch`
 * unacknowledged messages; NACKed messages and those a departing consumer held go back to the
 * front, in order.
 */
export class Queue {
  readonly epoch = newEpoch();
  private ready: QueueMessage[] = [];
  private readonly consumers: QueueConsumer[] = [];
  private next = 0;
  private seq = 0;
  private held = 0;
  private dispatching = false;

  constructor(readonly name: string, private readonly registry: QueueRegistry) {}

  get idle(): boolean {
    return this.consumers.length === 0 && this.ready.length === 0 && this.held === 0;
  }

  /** Messages waiting for a consumer. */
  get waiting(): number {
    return this.ready.length;
  }

  send(body: OutgoingBody, headers: ReadonlyArray<readonly [string, string]>): QueueMessage {
    if (this.ready.length + this.held >= MAX_QUEUE_LENGTH) {
      throw new StompError(`queue ${this.name} is full`, ErrorCode.LimitExceeded, undefined, `a queue holds at most ${MAX_QUEUE_LENGTH} messages`);
    }
    const size = body.bytes.length;
    this.registry.reserve(size);
    const msg = new QueueMessage(this, ++this.seq, body, headers, size);
    this.ready.push(msg);
    this.dispatch();
    return msg;
  }

  addConsumer(sub: QueueConsumer): void {
    this.consumers.push(sub);
    this.dispatch();
  }

  /** Removes a consumer; what it held unacknowledged goes back to the front of the queue. */
  removeConsumer(sub: QueueConsumer, unacked: QueueMessage[]): void {
    const i = this.consumers.indexOf(sub);
    if (i >= 0) {
      this.consumers.splice(i, 1);
      if (this.next > i) this.next--;
    }
    this.requeue(unacked);
  }

  /** Acknowledged: gone for good. */
  acked(messages: QueueMessage[]): void {
    for (const m of messages) this.registry.release(m.size);
    this.held -= messages.length;
    this.dispatch();
  }

  /** Not acknowledged (NACK, unsubscribe, disconnect): back to the front, in order. */
  requeue(messages: QueueMessage[]): void {
    this.held -= messages.length;
    if (messages.length > 0) this.ready = [...messages, ...this.ready];
    this.dispatch();
  }

  /** Hands waiting messages to consumers with room, round-robin. */
  dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      let congested = false;
      while (this.ready.length > 0 && this.consumers.length > 0) {
        const sub = this.pick();
        if (sub === 'congested') {
          congested = true;
          break;
        }
        if (!sub) break;
        const msg = this.ready.shift()!;
        if (sub.ack !== 'auto') this.held++;
        sub.owner.deliverQueued(sub, msg);
        if (sub.ack === 'auto') this.registry.release(msg.size);
      }
      if (congested) this.registry.retryLater(this);
      else if (this.idle) this.registry.forget(this);
    } finally {
      this.dispatching = false;
    }
  }

  private pick(): QueueConsumer | 'congested' | undefined {
    let congested = false;
    const n = this.consumers.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const sub = this.consumers[i]!;
      if (sub.unacked.size >= sub.prefetch) continue;
      if (sub.owner.congested) {
        congested = true;
        continue;
      }
      this.next = (i + 1) % n;
      return sub;
    }
    return congested ? 'congested' : undefined;
  }
}

/** The node's queues by name. In-process only: queues are not shared between nodes (yet). */
export class QueueRegistry implements Timed {
  private readonly queues = new Map<string, Queue>();
  private readonly retry = new Set<Queue>();
  private retryScheduled = false;
  private bytes = 0;

  constructor(private readonly timers: TimerWheel) {}

  get(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, this);
      this.queues.set(name, q);
    }
    return q;
  }

  list(): Array<{ queue: string; waiting: number }> {
    return [...this.queues.values()].map((q) => ({ queue: q.name, waiting: q.waiting }));
  }

  reserve(size: number): void {
    if (this.bytes + size > MAX_QUEUED_BYTES) {
      throw new StompError('queues are full', ErrorCode.LimitExceeded, undefined, `queues on one node hold at most ${MAX_QUEUED_BYTES} bytes`);
    }
    this.bytes += size;
  }

  release(size: number): void {
    this.bytes -= size;
  }

  forget(queue: Queue): void {
    if (queue.idle && this.queues.get(queue.name) === queue) this.queues.delete(queue.name);
  }

  retryLater(queue: Queue): void {
    this.retry.add(queue);
    if (this.retryScheduled) return;
    this.retryScheduled = true;
    this.timers.schedule(this, Date.now() + RETRY_MS);
  }

  onTimer(): void {
    this.retryScheduled = false;
    const queues = [...this.retry];
    this.retry.clear();
    for (const q of queues) q.dispatch();
  }
}

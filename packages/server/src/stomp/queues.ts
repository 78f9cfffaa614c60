import { ErrorCode } from '@tidings/protocol';
import { newEpoch } from '../engine/memory.js';
import type { Timed, TimerWheel } from '../timer.js';
import type { OutgoingBody } from './body.js';
import { ConsumerRing } from './consumer-ring.js';
import { StompError } from './errors.js';
import { QueueMessage, type QueueConsumer, type QueueHeaders, type QueuePosition, type StompQueues } from './queue-contract.js';

/** Messages one queue holds by default, waiting or unacknowledged (`--stomp-queue-max-length`). */
export const MAX_QUEUE_LENGTH = 10_000;
/** Body bytes all queues of a node hold together (memory engine). */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** How soon a queue retries consumers that were congested. */
export const RETRY_MS = 250;

/** The error a SEND to a full queue gets (121 `queue_full`). */
export function queueFull(queue: string, maxLength: number): StompError {
  return new StompError(`queue ${queue} is full`, ErrorCode.QueueFull, undefined, `a queue holds at most ${maxLength} messages (--stomp-queue-max-length)`);
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
  private readonly consumers = new ConsumerRing();
  private seq = 0;
  private held = 0;
  private dispatching = false;

  constructor(readonly name: string, private readonly registry: QueueRegistry) {}

  get idle(): boolean {
    return this.consumers.size === 0 && this.ready.length === 0 && this.held === 0;
  }

  /** Messages waiting for a consumer. */
  get waiting(): number {
    return this.ready.length;
  }

  send(body: OutgoingBody, headers: QueueHeaders): QueueMessage {
    if (this.ready.length + this.held >= this.registry.maxLength) throw queueFull(this.name, this.registry.maxLength);
    this.registry.reserve(body.bytes.length);
    const msg = new QueueMessage(this.name, ++this.seq, this.epoch, body, headers);
    this.ready.push(msg);
    this.dispatch();
    return msg;
  }

  addConsumer(sub: QueueConsumer): void {
    this.consumers.add(sub);
    this.dispatch();
  }

  /** Removes a consumer; what it held unacknowledged goes back to the front of the queue. */
  removeConsumer(sub: QueueConsumer, unacked: QueueMessage[]): void {
    this.consumers.remove(sub);
    this.requeue(unacked);
  }

  /** Acknowledged: gone for good. */
  acked(messages: QueueMessage[]): void {
    for (const m of messages) this.registry.release(m.size);
    this.held -= messages.length;
    this.dispatch();
  }

  /** Not acknowledged (NACK, unsubscribe, disconnect): back to the front, in order, for a consumer other than `from` where one has room. */
  requeue(messages: QueueMessage[], from?: QueueConsumer): void {
    this.held -= messages.length;
    if (messages.length > 0) this.ready = [...messages, ...this.ready];
    this.dispatch(from);
  }

  /** Hands waiting messages to consumers with room, round-robin (other than `avoid` where possible). */
  dispatch(avoid?: QueueConsumer): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      let congested = false;
      while (this.ready.length > 0 && this.consumers.size > 0) {
        const sub = this.consumers.pick(avoid);
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
}

/** The node's queues by name. In-process only: queues are not shared between nodes. */
export class QueueRegistry implements Timed {
  private readonly queues = new Map<string, Queue>();
  private readonly retry = new Set<Queue>();
  private retryScheduled = false;
  private bytes = 0;

  constructor(private readonly timers: TimerWheel, readonly maxLength = MAX_QUEUE_LENGTH) {}

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
      throw new StompError('queues are full', ErrorCode.QueueFull, undefined, `queues on one node hold at most ${MAX_QUEUED_BYTES} bytes`);
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

/** The memory engine's queues: node-local (`QueueRegistry`), through the StompQueues contract. */
export class MemoryQueues implements StompQueues {
  readonly registry: QueueRegistry;

  constructor(timers: TimerWheel, maxLength = MAX_QUEUE_LENGTH) {
    this.registry = new QueueRegistry(timers, maxLength);
  }

  async send(queue: string, body: OutgoingBody, headers: QueueHeaders): Promise<QueuePosition> {
    const q = this.registry.get(queue);
    const msg = q.send(body, headers);
    return { offset: msg.offset, epoch: q.epoch };
  }

  subscribe(consumer: QueueConsumer): void {
    this.registry.get(consumer.queue).addConsumer(consumer);
  }

  unsubscribe(consumer: QueueConsumer, unacked: QueueMessage[]): void {
    this.registry.get(consumer.queue).removeConsumer(consumer, unacked);
  }

  ack(consumer: QueueConsumer, messages: QueueMessage[]): Promise<void> {
    this.registry.get(consumer.queue).acked(messages);
    return Promise.resolve();
  }

  nack(consumer: QueueConsumer, messages: QueueMessage[]): Promise<void> {
    this.registry.get(consumer.queue).requeue(messages, consumer);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

import type { Logger } from '../log.js';
import type { StompQueueOptions } from '../options.js';
import { utf8Text, type OutgoingBody } from './body.js';
import { ConsumerRing } from './consumer-ring.js';
import { QueueMessage, type QueueConsumer, type QueueHeaders, type QueuePosition, type StompQueues } from './queue-contract.js';
import type { LoggedMessage, SharedQueueLog } from './queue-log.js';
import { RETRY_MS, queueFull } from './queues.js';

/** Most messages one read takes per queue. */
export const MAX_READ = 64;
/** Longest pause between reads after a failed one (ms); the first is 100 ms, doubling. */
const MAX_BACKOFF_MS = 2000;

/** One queue as this node sees it. */
interface LocalQueue {
  readonly name: string;
  readonly consumers: ConsumerRing;
  /** Read for this node, not yet handed to a consumer, oldest first. */
  buffer: QueueMessage[];
  /** Handed to a consumer and not settled, by ref. */
  readonly held: Map<string, QueueMessage>;
  /** Where the next look for a dead node's messages goes on. */
  claimCursor: string;
}

/**
 * STOMP queues shared by every node through a SharedQueueLog (Redis Streams). The node reads
 * with one reader for all queues that have local consumers with room, a bounded number of
 * messages at a time, and hands them out round-robin like the memory queues. Every
 * `redeliverAfter / 3` ms it vouches for what it holds (`touch`) and takes over what other nodes
 * held longer than `redeliverAfter` without vouching (their node died), delivering it again.
 * See StompQueues for the guarantees.
 */
export class ClusterQueues implements StompQueues {
  private readonly queues = new Map<string, LocalQueue>();
  /** Queues of the read in flight. */
  private reading: ReadonlySet<string> | undefined;
  /** Resolves the reader's wait while nothing is worth reading. */
  private idle: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private readonly tick: NodeJS.Timeout;
  private retry: NodeJS.Timeout | undefined;
  private maintaining = false;
  private readonly background = new Set<Promise<void>>();
  private down = false;
  private closed = false;

  constructor(private readonly log: SharedQueueLog, private readonly options: StompQueueOptions, private readonly logger: Logger) {
    this.loop = this.readLoop();
    this.tick = setInterval(() => void this.maintain(), Math.max(30, Math.floor(options.redeliverAfter / 3)));
    this.tick.unref();
  }

  async send(queue: string, body: OutgoingBody, headers: QueueHeaders): Promise<QueuePosition> {
    const at = await this.log.append(queue, { bytes: body.bytes, contentType: body.contentType }, headers, this.options.maxLength);
    if (at === 'full') throw queueFull(queue, this.options.maxLength);
    return at;
  }

  subscribe(consumer: QueueConsumer): void {
    let q = this.queues.get(consumer.queue);
    if (!q) {
      q = { name: consumer.queue, consumers: new ConsumerRing(), buffer: [], held: new Map(), claimCursor: '' };
      this.queues.set(q.name, q);
    }
    q.consumers.add(consumer);
    this.dispatch(q);
  }

  unsubscribe(consumer: QueueConsumer, unacked: QueueMessage[]): void {
    const q = this.queues.get(consumer.queue);
    if (!q) return;
    q.consumers.remove(consumer);
    const refs = this.settle(q, unacked);
    if (q.consumers.size === 0) {
      for (const m of q.buffer) refs.push(m.ref);
      q.buffer = [];
      if (q.held.size === 0) this.queues.delete(q.name);
    }
    if (refs.length > 0) {
      this.later(this.log.release(q.name, refs), 'release',
        `${refs.length} unacknowledged message(s) of queue ${q.name} go to other consumers after ${this.options.redeliverAfter} ms instead`);
    }
  }

  async ack(consumer: QueueConsumer, messages: QueueMessage[]): Promise<void> {
    const q = this.queues.get(consumer.queue);
    const refs = messages.map((m) => m.ref);
    if (q) {
      this.settle(q, messages);
      this.dispatch(q);
    }
    await this.log.ack(consumer.queue, refs);
  }

  /** Another local consumer with room takes them at once; else they go back to the log for any node. */
  async nack(consumer: QueueConsumer, messages: QueueMessage[]): Promise<void> {
    const q = this.queues.get(consumer.queue);
    if (!q) return;
    const refs = this.settle(q, messages);
    if (q.consumers.hasOther(consumer)) {
      for (const m of messages) m.delivered = true;
      q.buffer = [...messages, ...q.buffer];
      this.dispatch(q, consumer);
      return;
    }
    await this.log.release(q.name, refs);
    this.dispatch(q);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tick);
    clearTimeout(this.retry);
    this.idle?.();
    this.log.wake();
    await Promise.all([...this.background]);
    await this.log.close();
    await this.loop;
  }

  /** Queues with local consumers that have room and nothing buffered: what the reader reads. */
  private wanted(): LocalQueue[] {
    const out: LocalQueue[] = [];
    for (const q of this.queues.values()) if (this.wants(q)) out.push(q);
    return out;
  }

  private wants(q: LocalQueue): boolean {
    return q.buffer.length === 0 && q.consumers.size > 0 && q.consumers.room() > 0;
  }

  private async readLoop(): Promise<void> {
    let backoff = 0;
    while (!this.closed) {
      const wanted = this.wanted();
      if (wanted.length === 0) {
        await new Promise<void>((resolve) => { this.idle = resolve; });
        this.idle = undefined;
        continue;
      }
      let count = MAX_READ;
      for (const q of wanted) count = Math.min(count, q.consumers.room());
      this.reading = new Set(wanted.map((q) => q.name));
      try {
        const batches = await this.log.read([...this.reading], count);
        this.up();
        backoff = 0;
        for (const b of batches) this.take(b.queue, b.messages);
      } catch (err) {
        if (this.closed) break;
        this.failed('read', err);
        backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? 100 : backoff * 2);
        await new Promise((r) => setTimeout(r, backoff).unref());
      } finally {
        this.reading = undefined;
      }
    }
  }

  /** Messages read (or taken over) for this node: handed out, or given back when no consumer is left. */
  private take(queue: string, messages: LoggedMessage[]): void {
    if (messages.length === 0) return;
    const q = this.queues.get(queue);
    if (!q || q.consumers.size === 0) {
      this.later(this.log.release(queue, messages.map((m) => m.ref)), 'release', `queue ${queue}: they go to other consumers after ${this.options.redeliverAfter} ms`);
      return;
    }
    for (const m of messages) q.buffer.push(toMessage(queue, m));
    this.dispatch(q);
  }

  /** Hands buffered messages to local consumers with room, round-robin; then lets the reader know. */
  private dispatch(q: LocalQueue, avoid?: QueueConsumer): void {
    const autoAcked: string[] = [];
    while (q.buffer.length > 0) {
      const sub = q.consumers.pick(avoid);
      if (sub === 'congested') {
        this.retryLater();
        break;
      }
      if (!sub) break;
      const msg = q.buffer.shift()!;
      if (sub.ack === 'auto') autoAcked.push(msg.ref);
      else q.held.set(msg.ref, msg);
      sub.owner.deliverQueued(sub, msg);
    }
    if (autoAcked.length > 0) this.later(this.log.ack(q.name, autoAcked), 'ack', `queue ${q.name}: ${autoAcked.length} auto-acknowledged message(s) may be delivered again`);
    this.wake(q);
  }

  private wake(q: LocalQueue): void {
    if (!this.wants(q)) {
      if (q.consumers.congested()) this.retryLater();
      return;
    }
    if (this.idle) this.idle();
    else if (this.reading !== undefined && !this.reading.has(q.name)) this.log.wake();
  }

  /** Forgets settled messages; their refs. */
  private settle(q: LocalQueue, messages: QueueMessage[]): string[] {
    const refs: string[] = [];
    for (const m of messages) {
      q.held.delete(m.ref);
      refs.push(m.ref);
    }
    return refs;
  }

  /** Vouches for what this node holds; takes over what dead nodes held. One run at a time. */
  private async maintain(): Promise<void> {
    if (this.maintaining || this.closed) return;
    this.maintaining = true;
    try {
      for (const q of [...this.queues.values()]) {
        const refs = [...q.held.keys(), ...q.buffer.map((m) => m.ref)];
        if (refs.length > 0) {
          // settled meanwhile is not lost
          const lost = (await this.log.touch(q.name, refs)).filter((r) => q.held.has(r) || q.buffer.some((m) => m.ref === r));
          if (lost.length > 0) this.logger.warn('stomp queue messages no longer held by this node (taken over by another node, or lost with Redis\'s data)', { queue: q.name, count: lost.length });
        }
        const room = q.consumers.room();
        if (q.buffer.length === 0 && room > 0) {
          const stale = await this.log.claimStale(q.name, this.options.redeliverAfter, Math.min(room, MAX_READ), q.claimCursor);
          q.claimCursor = stale.cursor;
          this.take(q.name, stale.messages);
        }
      }
      this.up();
    } catch (err) {
      this.failed('redelivery check', err);
    } finally {
      this.maintaining = false;
    }
  }

  private retryLater(): void {
    if (this.retry !== undefined || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      for (const q of [...this.queues.values()]) this.dispatch(q);
    }, RETRY_MS);
    this.retry.unref();
  }

  /** Runs `op` in the background; a failure is logged with `consequence`. */
  private later(op: Promise<void>, what: string, consequence: string): void {
    const p = op.catch((err: unknown) => {
      this.failed(what, err);
      this.logger.warn('stomp queue operation failed', { op: what, consequence });
    }).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  private failed(what: string, err: unknown): void {
    if (this.closed || this.down) return;
    this.down = true;
    this.logger.warn('stomp queues: backend unavailable', { op: what, err: err instanceof Error ? err.message : String(err) });
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info('stomp queues: backend available again');
  }
}

function toMessage(queue: string, m: LoggedMessage): QueueMessage {
  const body: OutgoingBody = { bytes: m.bytes, contentType: m.contentType, binary: utf8Text(m.bytes) === undefined };
  return new QueueMessage(queue, m.seq, m.epoch, body, m.headers, m.ref, m.delivered);
}

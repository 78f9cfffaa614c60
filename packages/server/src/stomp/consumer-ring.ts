import type { QueueConsumer } from './queue-contract.js';

/** The consumers of one queue on this node, served round-robin. */
export class ConsumerRing {
  private readonly consumers: QueueConsumer[] = [];
  private next = 0;

  get size(): number {
    return this.consumers.length;
  }

  add(consumer: QueueConsumer): void {
    this.consumers.push(consumer);
  }

  remove(consumer: QueueConsumer): void {
    const i = this.consumers.indexOf(consumer);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.next > i) this.next--;
    if (this.next >= this.consumers.length) this.next = 0;
  }

  /** Room for more messages now: unacknowledged ones missing to fill every consumer's prefetch (uncongested consumers only). */
  room(): number {
    let n = 0;
    for (const c of this.consumers) if (!c.owner.congested) n += Math.max(0, c.prefetch - c.unacked.size);
    return n;
  }

  /** True when a consumer other than `consumer` has room (congested or not). */
  hasOther(consumer: QueueConsumer): boolean {
    for (const c of this.consumers) if (c !== consumer && c.unacked.size < c.prefetch) return true;
    return false;
  }

  /** True when a consumer with room is congested: the queue should look again soon. */
  congested(): boolean {
    for (const c of this.consumers) if (c.owner.congested && c.unacked.size < c.prefetch) return true;
    return false;
  }

  /**
   * The next consumer with room after the last one picked, other than `avoid` if another has
   * room (a NACKed message goes to someone else where it can); 'congested' when only congested
   * consumers have room (the queue should retry soon); undefined when none has room.
   */
  pick(avoid?: QueueConsumer): QueueConsumer | 'congested' | undefined {
    if (avoid !== undefined) {
      const other = this.scan(avoid);
      if (other !== undefined && other !== 'congested') return other;
    }
    return this.scan(undefined);
  }

  private scan(skip: QueueConsumer | undefined): QueueConsumer | 'congested' | undefined {
    let congested = false;
    const n = this.consumers.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const sub = this.consumers[i]!;
      if (sub === skip || sub.unacked.size >= sub.prefetch) continue;
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

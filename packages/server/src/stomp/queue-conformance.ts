/**
 * The STOMP queue conformance cases: every StompQueues implementation runs them in its tests,
 *   queueConformance('memory', async (options) => ({ queues: new MemoryQueues(timers, options.maxLength), cleanup: async () => {} }))
 * A shared implementation also gives `peer`: a second node's queues on the same backend, which the
 * cases use for competing consumers across nodes and for a node that dies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ErrorCode } from '@tidings/protocol';
import type { StompQueueOptions } from '../options.js';
import { StompError } from './errors.js';
import type { QueueConsumer, QueueMessage, StompQueues } from './queue-contract.js';

export interface QueueFixture {
  queues: StompQueues;
  /** Another node's queues on the same backend (shared implementations only); `close()` stands for the node dying. */
  peer?: StompQueues;
  cleanup(): Promise<void>;
}

/** What a test consumer got: body text, whether marked redelivered, and the message. */
interface Got { text: string; redelivered: boolean; message: QueueMessage }

class TestConsumer implements QueueConsumer {
  readonly got: Got[] = [];
  readonly unacked = new Map<string, QueueMessage>();
  congested = false;
  readonly owner = this;

  constructor(readonly queue: string, readonly ack: QueueConsumer['ack'] = 'client-individual', readonly prefetch = 1000) {}

  deliverQueued(_sub: QueueConsumer, message: QueueMessage): void {
    this.got.push({ text: new TextDecoder().decode(bodyOf(message)), redelivered: message.delivered, message });
    message.delivered = true;
    if (this.ack !== 'auto') this.unacked.set(message.messageId, message);
  }

  /** Takes the oldest `n` unacked messages (all when absent) off the books, as an ACK or NACK would. */
  settle(n = this.unacked.size): QueueMessage[] {
    const out: QueueMessage[] = [];
    for (const [k, m] of this.unacked) {
      if (out.length >= n) break;
      this.unacked.delete(k);
      out.push(m);
    }
    return out;
  }

  texts(): string[] {
    return this.got.map((g) => g.text);
  }
}

function bodyOf(m: QueueMessage): Uint8Array {
  const tail = m.tail('1.2', '/queue/x');
  const start = tail.indexOf('\n\n') + 2;
  return tail.subarray(start, tail.length - 1);
}

const text = (s: string) => ({ bytes: new TextEncoder().encode(s), contentType: 'text/plain', binary: false });

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const CONFORMANCE_QUEUE_OPTIONS: StompQueueOptions = { maxLength: 50, redeliverAfter: 600 };

/** Registers the cases under `describe(name)`; `make` builds fresh queues with `options` for each. */
export function queueConformance(name: string, make: (options: StompQueueOptions) => Promise<QueueFixture>): void {
  describe(`StompQueues conformance: ${name}`, () => {
    let f: QueueFixture;
    let q: string;
    const options = CONFORMANCE_QUEUE_OPTIONS;
    beforeEach(async () => {
      f = await make(options);
      q = `conf-${randomUUID().slice(0, 8)}`;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    const send = async (queues: StompQueues, n: number, prefix = 'm'): Promise<void> => {
      for (let i = 0; i < n; i++) await queues.send(q, text(`${prefix}${i}`), []);
    };

    it('numbers messages 1, 2, 3… in one epoch', async () => {
      const a = await f.queues.send(q, text('a'), []);
      const b = await f.queues.send(q, text('b'), []);
      assert.equal(b.offset, a.offset + 1);
      assert.equal(a.epoch, b.epoch);
    });

    it('gives each message to exactly one of competing consumers, in order for each', async () => {
      const a = new TestConsumer(q);
      const b = new TestConsumer(q);
      f.queues.subscribe(a);
      (f.peer ?? f.queues).subscribe(b);
      await sleep(50);
      await send(f.queues, 40);
      await until(() => a.got.length + b.got.length === 40, '40 deliveries');
      await f.queues.ack(a, a.settle());
      await (f.peer ?? f.queues).ack(b, b.settle());
      await sleep(100);
      const all = [...a.texts(), ...b.texts()].sort();
      assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => `m${i}`).sort());
      for (const c of [a, b]) {
        const seqs = c.got.map((g) => g.message.offset);
        assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order for one consumer');
        assert.ok(c.got.every((g) => !g.redelivered));
      }
      if (f.peer) assert.ok(a.got.length > 0 && b.got.length > 0, `both nodes consumed: ${a.got.length} / ${b.got.length}`);
    });

    it('keeps messages until a consumer comes, with body bytes, content type and headers', async () => {
      const bytes = Uint8Array.from([0, 255, 10, 0, 13, 58]);
      await f.queues.send(q, { bytes, contentType: 'application/x-thing', binary: true }, [['correlation-id', 'c:42']]);
      const c = new TestConsumer(q, 'auto');
      f.queues.subscribe(c);
      await until(() => c.got.length === 1, 'the message');
      const m = c.got[0]!.message;
      assert.deepEqual([...bodyOf(m)], [...bytes]);
      assert.equal(m.binary, true);
      const head = m.tail('1.2', '/queue/x').toString('latin1').split('\n\n')[0]!;
      assert.match(head, /content-type:application\/x-thing/);
      assert.match(head, /correlation-id:c\\c42/);
      assert.match(head, new RegExp(`x-epoch:${m.epoch}`));
    });

    it('holds a consumer to its prefetch until it acknowledges', async () => {
      const c = new TestConsumer(q, 'client', 2);
      f.queues.subscribe(c);
      await send(f.queues, 5);
      await until(() => c.got.length === 2, 'two');
      await sleep(150);
      assert.equal(c.got.length, 2);
      await f.queues.ack(c, c.settle());
      await until(() => c.got.length === 4, 'four');
      await f.queues.ack(c, c.settle());
      await until(() => c.got.length === 5, 'five');
      assert.deepEqual(c.texts(), ['m0', 'm1', 'm2', 'm3', 'm4']);
    });

    it('delivers a NACKed message again, marked, to another consumer when there is one', async () => {
      const a = new TestConsumer(q, 'client-individual', 1);
      f.queues.subscribe(a);
      await send(f.queues, 1);
      await until(() => a.got.length === 1, 'first delivery');
      const b = new TestConsumer(q, 'client-individual', 1);
      (f.peer ?? f.queues).subscribe(b);
      await sleep(50);
      await f.queues.nack(a, a.settle());
      await until(() => b.got.length === 1 || a.got.length === 2, 'redelivery');
      const again = b.got[0] ?? a.got[1]!;
      assert.equal(again.text, 'm0');
      assert.equal(again.redelivered, true);
      assert.equal(b.got.length, 1, 'the other consumer had room: it gets it');
    });

    it('gives what a departing consumer held to the others, marked; ack:auto deliveries are done', async () => {
      const auto = new TestConsumer(q, 'auto');
      f.queues.subscribe(auto);
      await send(f.queues, 2, 'auto');
      await until(() => auto.got.length === 2, 'auto deliveries');
      f.queues.unsubscribe(auto, []);
      const a = new TestConsumer(q, 'client');
      f.queues.subscribe(a);
      await send(f.queues, 3);
      await until(() => a.got.length === 3, 'three');
      await f.queues.ack(a, a.settle(1));
      f.queues.unsubscribe(a, a.settle());
      const b = new TestConsumer(q, 'client');
      (f.peer ?? f.queues).subscribe(b);
      await until(() => b.got.length === 2, 'the two held');
      await sleep(100);
      assert.deepEqual(b.texts().sort(), ['m1', 'm2']);
      assert.ok(b.got.every((g) => g.redelivered));
    });

    it('refuses a SEND to a full queue with 121 queue_full, and takes one again after an ACK', async () => {
      await send(f.queues, options.maxLength);
      await assert.rejects(f.queues.send(q, text('one too many'), []),
        (e: unknown) => e instanceof StompError && e.code === ErrorCode.QueueFull && /is full/.test(e.message));
      const c = new TestConsumer(q, 'client-individual', 1);
      f.queues.subscribe(c);
      await until(() => c.got.length === 1, 'one');
      await assert.rejects(f.queues.send(q, text('still full'), []), StompError, 'unacknowledged messages count');
      await f.queues.ack(c, c.settle());
      await f.queues.send(q, text('fits again'), []);
    });

    it('waits for a congested consumer and delivers once it drains', async () => {
      const c = new TestConsumer(q, 'auto');
      c.congested = true;
      f.queues.subscribe(c);
      await send(f.queues, 1);
      await sleep(150);
      assert.equal(c.got.length, 0);
      c.congested = false;
      await until(() => c.got.length === 1, 'after the retry');
    });

    it('delivers again what a dead node\'s consumer held unacknowledged, after redeliverAfter', async (t) => {
      if (!f.peer) {
        t.skip('node-local queues: a node\'s queues die with it');
        return;
      }
      const dying = new TestConsumer(q, 'client-individual', 3);
      f.peer.subscribe(dying);
      await sleep(50);
      await send(f.queues, 5);
      await until(() => dying.got.length === 3, 'three held by the dying node');
      await f.peer.close();
      const closedAt = Date.now();
      const survivor = new TestConsumer(q);
      f.queues.subscribe(survivor);
      await until(() => survivor.got.length === 2, 'the two nobody held');
      await until(() => survivor.got.length === 5, 'the three taken over', options.redeliverAfter * 5);
      // the dead node vouched for them at most redeliverAfter / 3 before it died
      assert.ok(Date.now() - closedAt >= options.redeliverAfter / 2, `not before the timeout (${Date.now() - closedAt} ms)`);
      const over = survivor.got.filter((g) => g.redelivered).map((g) => g.text).sort();
      assert.deepEqual(over, dying.texts().sort());
    });
  });
}

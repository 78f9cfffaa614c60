/**
 * The engine conformance suite: every Engine implementation runs it in its own tests,
 *   engineConformance('memory', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }))
 * Each test gets a fresh engine and unique channel names.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ClientInfo, Publication } from '@tidings/protocol';
import { EngineUnavailableError, IdempotencyConflictError, OutcomeUnknownError } from './engine.js';
import type { ControlMessage, Engine, EngineHandler } from './engine.js';

export interface EngineFixture {
  engine: Engine;
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /**
   * For an engine whose outcome can be unknown: stops the backend answering (keeping its
   * connections open, e.g. SIGSTOP) until `resume`. Without it the unknown-outcome test is skipped.
   */
  stall?: { pause(): void; resume(): void };
}

class Recorder implements EngineHandler {
  pubs: Publication[] = [];
  joins: Array<[string, ClientInfo]> = [];
  leaves: Array<[string, ClientInfo]> = [];
  controls: ControlMessage[] = [];
  private waiters: Array<() => void> = [];
  onPublication(pub: Publication): void { this.pubs.push(pub); this.wake(); }
  onJoin(channel: string, info: ClientInfo): void { this.joins.push([channel, info]); this.wake(); }
  onLeave(channel: string, info: ClientInfo): void { this.leaves.push([channel, info]); this.wake(); }
  onControl(message: ControlMessage): void { this.controls.push(message); this.wake(); }
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
  /** Waits until `cond` holds, or fails after `ms`. */
  async until(cond: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail('timed out waiting for engine delivery');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }
}

const opts = { historySize: 10, historyTtl: 60 };

export function engineConformance(name: string, create: () => Promise<EngineFixture>, options: ConformanceOptions = {}): void {
  describe(`engine conformance: ${name}`, () => {
    let fx: EngineFixture;
    let rec: Recorder;
    let ch: string;

    beforeEach(async () => {
      fx = await create();
      rec = new Recorder();
      await fx.engine.start(rec);
      ch = `conf:${randomUUID()}`;
    });
    afterEach(async () => {
      await fx.engine.close();
      await fx.cleanup();
    });

    it('assigns offsets 1, 2, 3… within one epoch', async () => {
      const a = await fx.engine.publish(ch, { n: 1 }, opts);
      const b = await fx.engine.publish(ch, { n: 2 }, opts);
      const c = await fx.engine.publish(ch, { n: 3 }, opts);
      assert.deepEqual([a.offset, b.offset, c.offset], [1, 2, 3]);
      assert.equal(a.epoch, b.epoch);
      assert.equal(b.epoch, c.epoch);
      assert.deepEqual(c.data, { n: 3 });
      assert.equal(c.channel, ch);
    });

    it('claims: the first owner wins, refreshes its claim, releases only its own; expired claims are free', async (t) => {
      const claims = fx.engine.claims;
      if (!claims) return t.skip('no claims');
      const key = `claim-${randomUUID()}`;
      assert.equal(await claims.holder(key), undefined);
      assert.equal(await claims.claim(key, 'a', 60), 'a');
      assert.equal(await claims.claim(key, 'b', 60), 'a');
      assert.equal(await claims.claim(key, 'a', 60), 'a');
      assert.equal(await claims.holder(key), 'a');
      await claims.release(key, 'b');
      assert.equal(await claims.holder(key), 'a');
      await claims.release(key, 'a');
      assert.equal(await claims.holder(key), undefined);
      assert.equal(await claims.claim(key, 'b', 1), 'b');
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(await claims.holder(key), undefined);
      assert.equal(await claims.claim(key, 'c', 60), 'c');
    });

    it('keeps channels independent', async () => {
      await fx.engine.publish(ch, 1, opts);
      const other = await fx.engine.publish(`${ch}-other`, 1, opts);
      assert.equal(other.offset, 1);
    });

    it('gives an untouched channel offset 0 and a stable epoch that publications then use', async () => {
      const h1 = await fx.engine.history(ch, { limit: 0 });
      assert.equal(h1.position.offset, 0);
      const pub = await fx.engine.publish(ch, 'x', opts);
      assert.equal(pub.epoch, h1.position.epoch);
    });

    it('returns exactly the publications after `since`, oldest first', async () => {
      for (let i = 1; i <= 6; i++) await fx.engine.publish(ch, i, opts);
      const h = await fx.engine.history(ch, { since: 3 });
      assert.deepEqual(h.publications.map((p) => p.data), [4, 5, 6]);
      assert.deepEqual(h.publications.map((p) => p.offset), [4, 5, 6]);
      assert.equal(h.position.offset, 6);
      const none = await fx.engine.history(ch, { since: 6 });
      assert.deepEqual(none.publications, []);
      const limited = await fx.engine.history(ch, { since: 1, limit: 2 });
      assert.deepEqual(limited.publications.map((p) => p.offset), [2, 3]);
    });

    it('without `since`, returns the latest `limit`', async () => {
      for (let i = 1; i <= 5; i++) await fx.engine.publish(ch, i, opts);
      const h = await fx.engine.history(ch, { limit: 2 });
      assert.deepEqual(h.publications.map((p) => p.offset), [4, 5]);
      const all = await fx.engine.history(ch, {});
      assert.deepEqual(all.publications.map((p) => p.offset), [1, 2, 3, 4, 5]);
    });

    it('bounds history by historySize, so a long gap is visibly short', async () => {
      for (let i = 1; i <= 8; i++) await fx.engine.publish(ch, i, { historySize: 3, historyTtl: 60 });
      const h = await fx.engine.history(ch, { since: 2 });
      assert.deepEqual(h.publications.map((p) => p.offset), [6, 7, 8]);
      assert.equal(h.position.offset, 8);
    });

    it('expires history after historyTtl but keeps the offset', async () => {
      await fx.engine.publish(ch, 1, { historySize: 10, historyTtl: 1 });
      await new Promise((r) => setTimeout(r, 1300));
      const h = await fx.engine.history(ch, { since: 0 });
      assert.equal(h.publications.length, 0);
      const next = await fx.engine.publish(ch, 2, opts);
      if (next.epoch === h.position.epoch) assert.equal(next.offset, 2);
    });

    it('keeps no history with historySize 0 yet advances the offset', async () => {
      await fx.engine.publish(ch, 1, { historySize: 0, historyTtl: 60 });
      const p = await fx.engine.publish(ch, 2, { historySize: 0, historyTtl: 60 });
      assert.equal(p.offset, 2);
      const h = await fx.engine.history(ch, { since: 0 });
      assert.equal(h.publications.length, 0);
    });

    it('publishes once per idempotency key and refuses the key with other data', async () => {
      const a = await fx.engine.publish(ch, { v: 1 }, { ...opts, idempotencyKey: 'k1' });
      const b = await fx.engine.publish(ch, { v: 1 }, { ...opts, idempotencyKey: 'k1' });
      assert.equal(b.offset, a.offset);
      assert.equal(b.epoch, a.epoch);
      const h = await fx.engine.history(ch, {});
      assert.equal(h.publications.length, 1);
      await assert.rejects(fx.engine.publish(ch, { v: 2 }, { ...opts, idempotencyKey: 'k1' }), IdempotencyConflictError);
    });

    it('publishes the same data twice without a key twice', async () => {
      const a = await fx.engine.publish(ch, 'same', opts);
      const b = await fx.engine.publish(ch, 'same', opts);
      assert.deepEqual([a.offset, b.offset], [1, 2]);
    });

    const stall = options.stall;
    it('reports a publish it could not confirm as OutcomeUnknownError with a key, refuses more at once, and a retry with the key publishes once', { skip: stall ? false : 'the engine cannot stall' }, async () => {
      if (!stall) return;
      await fx.engine.subscribe(ch);
      let unknown: unknown;
      let refused: unknown;
      stall.pause();
      try {
        unknown = await fx.engine.publish(ch, 'x', opts).catch((e: unknown) => e);
        refused = await fx.engine.publish(ch, 'y', opts).catch((e: unknown) => e);
      } finally {
        stall.resume();
      }
      assert.ok(unknown instanceof OutcomeUnknownError, String(unknown));
      assert.equal(typeof unknown.idempotencyKey, 'string');
      assert.ok(refused instanceof EngineUnavailableError, String(refused));
      let retry: unknown;
      for (let i = 0; i < 100; i++) {
        retry = await fx.engine.publish(ch, 'x', { ...opts, idempotencyKey: unknown.idempotencyKey! }).catch((e: unknown) => e);
        if (!(retry instanceof EngineUnavailableError)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((retry as Publication).offset, 1, String(retry));
      const h = await fx.engine.history(ch, {});
      assert.deepEqual(h.publications.map((p) => [p.offset, p.data]), [[1, 'x']]);
      await rec.until(() => rec.pubs.length >= 1);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(rec.pubs.map((p) => p.offset), [1]);
    });

    it('delivers only subscribed channels, in offset order, until unsubscribed', async () => {
      await fx.engine.publish(ch, 'before', opts);
      await fx.engine.subscribe(ch);
      for (let i = 1; i <= 20; i++) await fx.engine.publish(ch, i, opts);
      await fx.engine.publish(`${ch}-unsubscribed`, 'x', opts);
      await rec.until(() => rec.pubs.length >= 20);
      assert.deepEqual(rec.pubs.map((p) => p.offset), Array.from({ length: 20 }, (_, i) => i + 2));
      assert.ok(rec.pubs.every((p) => p.channel === ch));
      await fx.engine.unsubscribe(ch);
      await fx.engine.publish(ch, 'after', opts);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(rec.pubs.length, 20);
    });

    it('keeps a publication\'s info and headers, delivered and in history', async () => {
      await fx.engine.subscribe(ch);
      const info = { client: 'c1', user: 'u1' };
      const entries: Array<[string, string]> = [['x-foo', 'bar'], ['priority', '5'], ['__proto__', 'p'], ['quote"\\', 'a\nb']];
      const pub = await fx.engine.publish(ch, { n: 1 }, { ...opts, info, headers: Object.fromEntries(entries) });
      await fx.engine.publish(ch, 2, opts);
      await rec.until(() => rec.pubs.length >= 2);
      const [h] = (await fx.engine.history(ch, { since: 0 })).publications;
      for (const got of [pub, rec.pubs[0]!, h!]) {
        assert.deepEqual(got.info, info);
        assert.deepEqual(Object.entries(got.headers ?? {}), entries);
      }
      assert.equal(rec.pubs[1]!.headers, undefined);
    });

    it('delivers join and leave to subscribed nodes', async () => {
      await fx.engine.subscribe(ch);
      const info = { client: 'c1', user: 'u1' };
      await fx.engine.publishJoin(ch, info);
      await fx.engine.publishLeave(ch, info);
      await rec.until(() => rec.joins.length === 1 && rec.leaves.length === 1);
      assert.deepEqual(rec.joins[0], [ch, info]);
      assert.deepEqual(rec.leaves[0], [ch, info]);
    });

    it('delivers control messages to every node', async () => {
      const msg: ControlMessage = { type: 'disconnect', user: 'u9', code: 3502, reason: 'test' };
      await fx.engine.publishControl(msg);
      await rec.until(() => rec.controls.length === 1);
      assert.deepEqual(rec.controls[0], msg);
    });

    it('tracks presence by client id', async () => {
      await fx.engine.addPresence(ch, 'c1', { client: 'c1', user: 'u1' }, 60);
      await fx.engine.addPresence(ch, 'c2', { client: 'c2', user: 'u2' }, 60);
      assert.deepEqual(await fx.engine.presence(ch), { c1: { client: 'c1', user: 'u1' }, c2: { client: 'c2', user: 'u2' } });
      await fx.engine.removePresence(ch, 'c1');
      assert.deepEqual(Object.keys(await fx.engine.presence(ch)), ['c2']);
      await fx.engine.removePresence(ch, 'c2');
      assert.deepEqual(await fx.engine.presence(ch), {});
    });

    it('says whether addPresence added a client, and leaves out entries past their TTL', async () => {
      const info = { client: 'c3', user: 'u3' };
      assert.equal(await fx.engine.addPresence(ch, 'c3', info, 60), true);
      assert.equal(await fx.engine.addPresence(ch, 'c3', info, 0.2), false, 'a refresh');
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(await fx.engine.presence(ch), {});
    });

    it('reports ready once started', () => {
      assert.equal(fx.engine.isReady(), true);
    });
  });
}

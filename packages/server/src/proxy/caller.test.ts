import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../log.js';
import { ProxyCaller } from './caller.js';
import { ProxyError } from './errors.js';

const silent = createLogger('silent');
const endpoint = { url: 'http://backend.invalid/rpc', timeout: 2000 };

/** A fetch whose answers the test releases one by one. */
function heldFetch(): { fetcher: typeof fetch; started: () => number; release: () => void } {
  const held: Array<() => void> = [];
  let started = 0;
  const fetcher = (async () => {
    started++;
    await new Promise<void>((resolve) => held.push(resolve));
    return new Response(JSON.stringify({ result: { data: 'ok' } }), { status: 200 });
  }) as typeof fetch;
  return { fetcher, started: () => started, release: () => held.shift()?.() };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ProxyCaller', () => {
  it('keeps at most `concurrency` calls in flight, queues `queue` more and fails the next at once with 127', async () => {
    const f = heldFetch();
    const caller = new ProxyCaller({ concurrency: 2, queue: 1, maxResponseBytes: 1024, secret: undefined }, silent, undefined, f.fetcher);
    const calls = [0, 1, 2].map(() => caller.call('rpc', endpoint, {}));
    await tick();
    assert.equal(f.started(), 2);
    assert.deepEqual(caller.load, { inFlight: 2, waiting: 1 });
    await assert.rejects(caller.call('rpc', endpoint, {}), (e: unknown) => e instanceof ProxyError && e.code === 127);
    f.release();
    await calls[0];
    await tick();
    assert.equal(f.started(), 3, 'the queued call starts when a slot frees');
    f.release();
    f.release();
    assert.deepEqual(await Promise.all(calls), [{ data: 'ok' }, { data: 'ok' }, { data: 'ok' }]);
    assert.deepEqual(caller.load, { inFlight: 0, waiting: 0 });
  });

  it('a queued call that waits past its timeout fails with 125 and leaves the queue', async () => {
    const f = heldFetch();
    const caller = new ProxyCaller({ concurrency: 1, queue: 5, maxResponseBytes: 1024, secret: undefined }, silent, undefined, f.fetcher);
    const first = caller.call('rpc', endpoint, {});
    const alive = setInterval(() => undefined, 1000); // AbortSignal.timeout's timer does not hold the event loop
    await assert.rejects(caller.call('rpc', { ...endpoint, timeout: 50 }, {}), (e: unknown) => e instanceof ProxyError && e.code === 125);
    clearInterval(alive);
    assert.deepEqual(caller.load, { inFlight: 1, waiting: 0 });
    f.release();
    await first;
  });

  it('sends the secret header, and refuses HTTP errors (124), non-JSON and oversized answers (126)', async () => {
    let seen: Headers | undefined;
    const answers = [new Response('x', { status: 500 }), new Response('not json', { status: 200 }), new Response(JSON.stringify({ result: { data: 'x'.repeat(2000) } }), { status: 200 })];
    const fetcher = (async (_url: string, init: RequestInit) => {
      seen = new Headers(init.headers);
      return answers.shift()!;
    }) as typeof fetch;
    const caller = new ProxyCaller({ concurrency: 1, queue: 0, maxResponseBytes: 1024, secret: 's3cret' }, silent, undefined, fetcher);
    await assert.rejects(caller.call('rpc', endpoint, {}), (e: unknown) => e instanceof ProxyError && e.code === 124);
    assert.equal(seen?.get('x-tidings-proxy-secret'), 's3cret');
    await assert.rejects(caller.call('rpc', endpoint, {}), (e: unknown) => e instanceof ProxyError && e.code === 126);
    await assert.rejects(caller.call('rpc', endpoint, {}), (e: unknown) => e instanceof ProxyError && e.code === 126 && /over 1024 bytes/.test(e.message));
  });

  it('a backend that cannot be reached is 124', async () => {
    const caller = new ProxyCaller({ concurrency: 1, queue: 0, maxResponseBytes: 1024, secret: undefined }, silent, undefined);
    await assert.rejects(caller.call('rpc', { url: 'http://127.0.0.1:1/rpc', timeout: 2000 }, {}), (e: unknown) => e instanceof ProxyError && e.code === 124);
  });
});

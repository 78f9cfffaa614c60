/**
 * Many clients lose the same server at once: full jitter spreads their
 * reconnect attempts over the backoff window instead of a thundering herd.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Client, SubscribedEvent } from '@tidings/client';
import { startTidings } from '../helpers/tidings.js';
import { nodeClient, recordingWebSocket, waitFor } from './helpers.js';

const COUNT = 50;
const MIN = 250;
const FACTOR = 4;
const WINDOW_END = MIN * FACTOR;

const clients: Client[] = [];
after(() => { for (const c of clients) c.disconnect(); });

test(`${COUNT} clients reconnecting after a server kill spread their attempts over the backoff window`, async (ctx) => {
  const t = await startTidings();
  try {
    const lostAt: number[] = [];
    const attempts: number[][] = [];
    const resubscribed: SubscribedEvent[] = [];
    let subscribedFirst = 0;
    const problems: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const tries: number[] = [];
      attempts.push(tries);
      const client = nodeClient(t.wsUrl, {
        WebSocket: recordingWebSocket(tries),
        minReconnectDelay: MIN,
        maxReconnectDelay: 5_000,
        reconnectFactor: FACTOR,
      });
      clients.push(client);
      client.on('connecting', (e) => { if (e.code !== 0) lostAt[i] = Date.now(); });
      client.subscribe('herd', {
        subscribed: (e) => { if (e.recovering) resubscribed.push(e); else subscribedFirst++; },
        error: (e) => problems.push(`client ${i} subscription: ${e.code} ${e.message}`),
        unsubscribed: (e) => problems.push(`client ${i} unsubscribed: ${e.code} ${e.reason}`),
      });
      client.on('error', (e) => problems.push(`client ${i}: ${e.code} ${e.message}`));
      client.connect();
    }
    await waitFor('all subscribed', () => subscribedFirst === COUNT);
    await t.publish('herd', 'before');

    await t.kill();
    await waitFor('every client noticed', () => lostAt.filter((x) => x !== undefined).length === COUNT);
    await waitFor('every client tried again', () => attempts.every((tries) => tries.length >= 2), 5_000);
    const delays = attempts.map((tries, i) => (tries[1] ?? 0) - (lostAt[i] ?? 0));

    // a retry never comes early; late only by how long a busy machine delays this process's timers
    const outside = delays.filter((d) => d < MIN - 2 || d > WINDOW_END + 400);
    assert.deepEqual(outside, [], `every first retry within [${MIN}, ${WINDOW_END}] ms`);
    const spread = Math.max(...delays) - Math.min(...delays);
    assert.ok(spread >= 0.6 * (WINDOW_END - MIN), `retries spread over ${spread} ms of a ${WINDOW_END - MIN} ms window`);
    const quarter = (WINDOW_END - MIN) / 4;
    const perQuarter = [0, 1, 2, 3].map((q) => delays.filter((d) => Math.min(3, Math.floor((d - MIN) / quarter)) === q).length);
    ctx.diagnostic(`first retries ${Math.round(Math.min(...delays))}–${Math.round(Math.max(...delays))} ms after the loss; per quarter of the window: ${perQuarter.join(', ')}`);
    assert.ok(perQuarter.every((n) => n >= 3), `retries per quarter of the window: ${perQuarter.join(', ')}`);

    await t.start();
    await waitFor('all reconnected to the restarted server', () => clients.every((c) => c.state === 'connected'), 20_000);
    await waitFor('all resubscribed', () => resubscribed.length === COUNT).catch((err: Error) => {
      throw new Error(`${err.message}: ${resubscribed.length} of ${COUNT}; ${problems.join('; ')}`);
    });
    assert.ok(resubscribed.every((e) => e.recovering && !e.recovered), 'the restarted server lost the history: recovered:false');
  } finally {
    await t.stop();
  }
});

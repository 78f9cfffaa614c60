/**
 * The client SDK against the real server: network drops (history still holds,
 * everything is recovered) and a server killed and restarted mid-stream (the
 * memory engine lost its history: `recovered: false`, then a complete new stream).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client, Publication, SubscribedEvent } from '@tidings/client';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { DropProxy, nodeClient, offsetsOf, publishLoop, range, sleep, waitFor } from './helpers.js';

describe('client recovery', () => {
  let t: TidingsProcess;
  let proxy: DropProxy;
  const clients: Client[] = [];

  before(async () => {
    t = await startTidings();
    proxy = await DropProxy.start(t.port);
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await proxy.close();
    await t.stop();
  });

  function watch(client: Client, channel: string): { pubs: Publication[]; subscribed: SubscribedEvent[] } {
    clients.push(client);
    const pubs: Publication[] = [];
    const subscribed: SubscribedEvent[] = [];
    client.subscribe(channel, { publication: (p) => pubs.push(p), subscribed: (e) => subscribed.push(e) });
    client.connect();
    return { pubs, subscribed };
  }

  test('a network drop: reconnects within the backoff bounds and recovers what was published meanwhile', async () => {
    const min = 300;
    const firstWindow = 600;
    const client = nodeClient(proxy.wsUrl, { minReconnectDelay: min, maxReconnectDelay: 5_000, reconnectFactor: 2 });
    const { pubs, subscribed } = watch(client, 'drop');
    await waitFor('subscribed', () => subscribed.length === 1);
    for (let n = 1; n <= 5; n++) await t.publish('drop', { n });
    await waitFor('5 live publications', () => pubs.length === 5);

    const attemptsBefore = proxy.accepted.length;
    const droppedAt = Date.now();
    proxy.block();
    for (let n = 6; n <= 25; n++) await t.publish('drop', { n });
    proxy.allow();
    await waitFor('25 publications', () => pubs.length >= 25);
    await sleep(100);

    const firstAttempt = proxy.accepted[attemptsBefore];
    assert.ok(firstAttempt !== undefined);
    const waited = firstAttempt - droppedAt;
    assert.ok(waited >= min - 5 && waited <= firstWindow + 250, `first reconnect attempt after ${waited} ms, expected within [${min}, ${firstWindow}]`);
    assert.deepEqual(offsetsOf(pubs), range(1, 25));
    assert.deepEqual(pubs.map((p) => (p.data as { n: number }).n), range(1, 25));
    assert.equal(subscribed.length, 2);
    assert.deepEqual([subscribed[1]?.recovering, subscribed[1]?.recovered], [true, true]);
    assert.equal(client.state, 'connected');
  });

  test('continuous publishing across repeated network drops arrives complete, in order, exactly once', async () => {
    const client = nodeClient(proxy.wsUrl, { minReconnectDelay: 50, maxReconnectDelay: 400 });
    const { pubs, subscribed } = watch(client, 'stream');
    await waitFor('subscribed', () => subscribed.length === 1);
    const loop = publishLoop(t, 'stream', 3);
    for (let i = 0; i < 3; i++) {
      await sleep(250);
      proxy.drop();
    }
    await sleep(250);
    const acked = await loop.stop();
    const last = acked.at(-1)?.offset ?? 0;
    await waitFor(`offset ${last}`, () => (pubs.at(-1)?.offset ?? 0) >= last);

    assert.equal(acked.length, last, 'every publish succeeded');
    assert.deepEqual(offsetsOf(pubs), range(1, last));
    assert.equal(subscribed.length, 4);
    assert.ok(subscribed.slice(1).every((e) => e.recovering && e.recovered), JSON.stringify(subscribed));
  });

  test('the server killed and restarted mid-stream: recovered:false, then the new stream complete and exactly once', async () => {
    const client = nodeClient(t.wsUrl, { minReconnectDelay: 100, maxReconnectDelay: 1_000 });
    const { pubs, subscribed } = watch(client, 'restart');
    const reloaded: Publication[] = [];
    const sub = client.getSubscription('restart');
    sub?.on('subscribed', (e) => {
      if (e.recovering && !e.recovered) void sub.history().then((h) => reloaded.push(...h.publications));
    });
    await waitFor('subscribed', () => subscribed.length === 1);

    const before = publishLoop(t, 'restart', 3);
    await sleep(300);
    const ackedBefore = await before.stop();
    const oldEpoch = ackedBefore[0]?.epoch;
    await waitFor('all publications before the kill', () => pubs.length === ackedBefore.length);

    await t.kill();
    const during = publishLoop(t, 'restart', 20);
    await t.start();
    await waitFor('resubscribed to the restarted server', () => subscribed.length === 2);
    await sleep(300);
    const ackedAfter = await during.stop();
    const newEpoch = ackedAfter[0]?.epoch;
    assert.ok(oldEpoch && newEpoch && oldEpoch !== newEpoch, 'the restarted server has a new epoch');
    const lastNew = ackedAfter.at(-1)?.offset ?? 0;
    await waitFor(`offset ${lastNew} of the new epoch`, () => pubs.at(-1)?.epoch === newEpoch && (pubs.at(-1)?.offset ?? 0) >= lastNew);
    await waitFor('history reloaded', () => reloaded.length > 0 || subscribed[1]?.position.offset === 0);

    assert.deepEqual(offsetsOf(pubs, oldEpoch), range(1, ackedBefore.length), 'the old stream, each once, in order');
    assert.equal(subscribed.length, 2);
    const resubscribed = subscribed[1];
    assert.ok(resubscribed);
    assert.deepEqual([resubscribed.recovering, resubscribed.recovered, resubscribed.position.epoch], [true, false, newEpoch]);
    const from = resubscribed.position.offset;
    assert.deepEqual(offsetsOf(pubs, newEpoch), range(from + 1, lastNew), 'after the resubscribe, every new publication once, in order');
    const merged = new Map([...reloaded, ...pubs.filter((p) => p.epoch === newEpoch)].map((p) => [p.offset, p]));
    assert.deepEqual([...merged.keys()].sort((a, b) => a - b), range(1, lastNew), 'history reload plus live covers the new stream');
  });
});

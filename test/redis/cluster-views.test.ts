/**
 * Cluster-wide views on two nodes sharing one real redis-server: `GET /api/channels` sums every
 * node's subscribers (with a per-node breakdown on request) and names a node that does not answer;
 * a long-poll client with a `lease` counts in presence, joins once, and leaves when it stops polling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const availability = redisAvailability();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Count { channel: string; subscribers: number }
interface View { channels: Count[]; answered: string[]; missing: string[]; complete: boolean; nodes?: Array<{ node: string; channels: Count[]; truncated: boolean }> }

const countOf = (list: Count[], channel: string): number | undefined => list.find((c) => c.channel === channel)?.subscribers;

describe('cluster-wide views', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];

  before(async () => {
    redis = await RedisProcess.start();
    const config = configFile({ namespaces: { room: { presence: true, joinLeave: true } } });
    // --ping-interval 1: a node not heard for 3 s is no longer expected; a poller's lease is wait + 2 s
    nodes = await Promise.all([0, 1].map(() => startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url, '--config', config, '--ping-interval', '1'] })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  const view = async (node: TidingsProcess, query = ''): Promise<View> => {
    const res = await node.api('GET', `/api/channels${query}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as View;
  };

  it('GET /api/channels sums the subscribers of every node, and ?nodes=1 breaks them down per node', async () => {
    const a = await WsClient.connect(nodes[0]!.wsUrl);
    const b1 = await WsClient.connect(nodes[1]!.wsUrl);
    const b2 = await WsClient.connect(nodes[1]!.wsUrl);
    for (const c of [a, b1, b2]) await c.command('subscribe', { channel: 'views-news' });
    await a.command('subscribe', { channel: 'views-only-a' });

    for (const node of nodes) {
      const v = await view(node);
      assert.deepEqual(v.missing, []);
      assert.equal(v.answered.length, 2, JSON.stringify(v));
      assert.equal(v.complete, true);
      assert.equal(countOf(v.channels, 'views-news'), 3);
      assert.equal(countOf(v.channels, 'views-only-a'), 1);
      assert.equal(v.nodes, undefined, 'no breakdown unless asked');
    }
    const v = await view(nodes[1]!, '?nodes=1');
    const perNode = v.nodes!.map((n) => [countOf(n.channels, 'views-news'), countOf(n.channels, 'views-only-a')]).sort();
    assert.deepEqual(perNode, [[1, 1], [2, undefined]]);
    assert.deepEqual(v.nodes!.map((n) => n.node).sort(), [...v.answered].sort());
    assert.equal((await nodes[0]!.api('GET', '/api/channels?nodes=yes')).status, 400);
    for (const c of [a, b1, b2]) c.close();
  });

  it('names a node that does not answer within the bounded wait, and answers with the others', async () => {
    const full = await view(nodes[0]!, '?nodes=1');
    const other = full.answered.find((id) => id !== full.answered[0])!;
    const pid = nodes[1]!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const v = await view(nodes[0]!);
      const took = Date.now() - started;
      assert.deepEqual(v.missing, [other]);
      assert.deepEqual(v.answered, [full.answered[0]]);
      assert.equal(v.complete, false);
      assert.ok(took >= 900 && took < 5000, `waited ${took} ms`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('a long-poll client with a lease is present, joins once, and leaves after it stops polling', async () => {
    const watcher = await WsClient.connect(nodes[1]!.wsUrl);
    await watcher.command('subscribe', { channel: 'room:polled' });
    const lease = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';
    let cursor = '';
    for (let i = 0; i < 4; i++) {
      const node = nodes[i % 2]!;
      const query = cursor === '' ? 'channel=room:polled' : `cursor=${encodeURIComponent(cursor)}`;
      const res = await fetch(`${node.url}/poll?${query}&wait=1&lease=${lease}`);
      assert.equal(res.status, 200);
      cursor = ((await res.json()) as { cursor: string }).cursor;
    }
    const present = (await nodes[0]!.api('GET', '/api/presence?channel=room:polled')).body as { clients: Record<string, { client: string; user: string }> };
    const pollers = Object.keys(present.clients).filter((id) => id.startsWith('poll-'));
    assert.equal(pollers.length, 1, JSON.stringify(present));
    const poller = pollers[0]!;
    assert.ok(!poller.includes(lease), 'the public id does not show the lease');
    await watcher.until(() => watcher.pushes('join').some((j) => j.info.client === poller), 5000, 'the poller\'s join');

    // stopped polling: the lease (wait 1 s + 2 ping intervals) runs out, and the sweep announces it
    await watcher.until(() => watcher.pushes('leave').some((l) => l.info.client === poller), 10_000, 'the poller\'s leave');
    await sleep(2000);
    assert.equal(watcher.pushes('join').filter((j) => j.info.client === poller).length, 1, 'one join for four polls');
    assert.equal(watcher.pushes('leave').filter((l) => l.info.client === poller).length, 1, 'one leave');
    const after = (await nodes[1]!.api('GET', '/api/presence?channel=room:polled')).body as { clients: Record<string, unknown> };
    assert.deepEqual(Object.keys(after.clients).filter((id) => id.startsWith('poll-')), []);
    assert.equal((await fetch(`${nodes[0]!.url}/poll?channel=room:polled&wait=0&lease=short`)).status, 400, 'a malformed lease is refused');
    watcher.close();
  });

  it('stops waiting for a node that shut down gracefully', async () => {
    const before = await view(nodes[0]!);
    assert.equal(before.answered.length, 2);
    await nodes[1]!.kill('SIGTERM');
    const v = await view(nodes[0]!);
    // still expected, it would be named in `missing` after the wait
    assert.deepEqual(v, { ...v, answered: [before.answered[0]], missing: [], complete: true });
  });
});

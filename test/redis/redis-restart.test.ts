/**
 * Redis restarted (no persistence) under load, with SDK clients on two nodes over every
 * transport: each client is told `subscribed {recovered:false}` for every channel whose history
 * went, and per channel what it delivers is contiguous except right after such a notice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { Client, type TransportName } from '@tidings/client/fallback';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

const availability = redisAvailability();
const CHANNELS = ['ticks-a', 'ticks-b', 'ticks-c'];

type Event =
  | { type: 'subscribed'; recovering: boolean; recovered: boolean; offset: number; epoch: string }
  | { type: 'publication'; offset: number; epoch: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number, notes: string[] = []): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${notes.join('\n')}`);
    await sleep(25);
  }
}

/** Where the delivered sequence breaks without a `recovered:false` right before it; empty when none does. */
function silentSkips(events: Event[]): string[] {
  const problems: string[] = [];
  let last: { offset: number; epoch: string } | undefined;
  for (const e of events) {
    if (e.type === 'subscribed') {
      if (!e.recovered) last = { offset: e.offset, epoch: e.epoch };
      continue;
    }
    if (!last || e.epoch !== last.epoch || e.offset !== last.offset + 1) {
      problems.push(`${JSON.stringify(last)} → ${e.offset}@${e.epoch}`);
    }
    last = { offset: e.offset, epoch: e.epoch };
  }
  return problems;
}

describe('Redis restarted under load', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];

  before(async () => {
    redis = await RedisProcess.start();
    nodes = await Promise.all([0, 1].map(() => startTidings({
      args: ['--engine', 'redis', '--redis-url', redis.url, '--history-size', '10000'],
    })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('a long poll held across the restart answers, and the next poll says recovered:false instead of jumping to the new epoch', async () => {
    const node = nodes[0]!;
    const before = await node.publish('held', 'old');
    const poll = async (query: string): Promise<{ messages: Array<{ type: string; recovered?: boolean; position?: { epoch: string } }>; cursor: string }> => {
      const res = await fetch(`${node.url}/poll?${query}`);
      assert.equal(res.status, 200);
      return (await res.json()) as { messages: Array<{ type: string }>; cursor: string };
    };
    const { cursor } = await poll('channel=held&wait=0');
    assert.equal(cursor, `held~${before.offset}~${before.epoch}`);
    const held = poll(`cursor=${cursor}&wait=30`);
    await sleep(200);
    await redis.restart();
    await until('ready again', async () => (await fetch(`${node.url}/readyz`)).status === 200, 15_000);
    const after = await node.publish('held', 'new');
    assert.notEqual(after.epoch, before.epoch);
    const answer = await held;
    assert.ok(answer.messages.every((m) => m.type !== 'publication'), JSON.stringify(answer));
    const next = await poll(`cursor=${answer.cursor}&wait=0`);
    assert.deepEqual(next.messages.map((m) => [m.type, m.recovered, m.position?.epoch]), [['subscribed', false, after.epoch]]);
  });

  it('every client is told recovered:false for every channel whose history went, and nothing is skipped silently', async () => {
    const notes: string[] = [];
    const setups: Array<[number, TransportName]> = [[0, 'websocket'], [0, 'stream'], [1, 'websocket'], [1, 'sse'], [1, 'poll']];
    const clients = setups.map(([node, transport]) => {
      const client = new Client(nodes[node]!.url, { WebSocket, EventSource, transports: [transport], minReconnectDelay: 50, maxReconnectDelay: 500 });
      const events = new Map<string, Event[]>(CHANNELS.map((c) => [c, []]));
      for (const channel of CHANNELS) {
        const log = events.get(channel)!;
        client.subscribe(channel, {
          subscribed: (e) => log.push({ type: 'subscribed', recovering: e.recovering, recovered: e.recovered, ...e.position }),
          publication: (p) => log.push({ type: 'publication', offset: p.offset, epoch: p.epoch }),
        });
      }
      const name = `${transport}@node${node}`;
      client.on('error', (e) => notes.push(`${name} error ${e.code} ${e.message}`));
      client.on('connecting', (e) => notes.push(`${name} connecting ${e.code} ${e.reason}`));
      for (const channel of CHANNELS) client.getSubscription(channel)?.on('error', (e) => notes.push(`${name} ${channel}: ${e.code} ${e.message}`));
      client.connect();
      return { name: `${transport}@node${node}`, client, events };
    });
    await until('every client subscribed to every channel', () => clients.every((c) => [...c.events.values()].every((l) => l.length > 0)), 10_000, notes);

    const acked = new Map<string, { offset: number; epoch: string }>();
    let running = true;
    const publishers = CHANNELS.map(async (channel, i) => {
      for (let n = 0; running; n++) {
        try {
          acked.set(channel, await nodes[(n + i) % 2]!.publish(channel, n));
        } catch {
          // refused while Redis is away: not acknowledged, so not expected by any client
        }
        await sleep(2);
      }
    });

    await sleep(500);
    const epochsBefore = new Map(CHANNELS.map((c) => [c, acked.get(c)?.epoch]));
    await redis.restart();
    await until('both nodes ready again', async () => (await Promise.all(nodes.map((n) => fetch(`${n.url}/readyz`)))).every((r) => r.status === 200), 15_000);
    await until('publishing in new epochs', () => CHANNELS.every((c) => acked.get(c)?.epoch !== epochsBefore.get(c)), 15_000);
    await sleep(1000);
    running = false;
    await Promise.all(publishers);

    const lastOf = (log: Event[]): Event | undefined => log.filter((e) => e.type === 'publication').at(-1);
    await until('every client has the last publication of every channel', () => clients.every((c) => CHANNELS.every((ch) => {
      const last = lastOf(c.events.get(ch)!);
      const want = acked.get(ch)!;
      return last?.epoch === want.epoch && last.offset === want.offset;
    })), 15_000, notes);

    for (const { name, events } of clients) {
      for (const channel of CHANNELS) {
        const log = events.get(channel)!;
        const notices = log.filter((e) => e.type === 'subscribed' && e.recovering && !e.recovered);
        assert.equal(notices.length, 1, `${name} ${channel}: told recovered:false once (${JSON.stringify(log.filter((e) => e.type === 'subscribed'))})`);
        assert.ok(notices.every((e) => e.type === 'subscribed' && e.epoch !== epochsBefore.get(channel)), `${name} ${channel}: the notices name the new epoch`);
        assert.deepEqual(silentSkips(log), [], `${name} ${channel}: contiguous except after recovered:false`);
      }
    }
    for (const { client } of clients) client.disconnect();
  });
});

/**
 * STOMP topic subscribers on the Redis engine never skip silently: across a Redis restart (no
 * persistence: history and epochs lost) a stock @stomp/stompjs subscriber sees a contiguous
 * sequence, or `x-recovered:false` on the MESSAGE right after what it may have missed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IFrame, IMessage } from '@stomp/stompjs';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { stompJs } from '../stomp/helpers.js';

const availability = redisAvailability();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Seen { offset: number; epoch: string; unrecovered: boolean }

const seen = (m: IMessage): Seen => ({ offset: Number(m.headers['x-offset']), epoch: m.headers['x-epoch']!, unrecovered: m.headers['x-recovered'] === 'false' });

/** Where the sequence from `start` (the SUBSCRIBE receipt's position) breaks without `x-recovered:false` on the MESSAGE that breaks it. */
function silentSkips(start: Seen, messages: Seen[]): string[] {
  const problems: string[] = [];
  let last = start;
  for (const m of messages) {
    const follows = m.epoch === last.epoch && m.offset === last.offset + 1;
    if (!follows && !m.unrecovered) problems.push(`${last.offset}@${last.epoch} → ${m.offset}@${m.epoch}`);
    last = m;
  }
  return problems;
}

describe('STOMP topic subscribers across a Redis restart', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];

  before(async () => {
    redis = await RedisProcess.start();
    nodes = await Promise.all([0, 1].map(() => startTidings({ args: ['--engine', 'redis', '--redis-url', redis.url, '--history-size', '10000'] })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('see a contiguous sequence or x-recovered:false on the MESSAGE after the break, never a silent gap', async () => {
    const { client } = await stompJs(nodes[0]!.wsUrl);
    const messages: Seen[] = [];
    const subscribed = new Promise<IFrame>((resolve) => client.watchForReceipt('sub', resolve));
    client.subscribe('/topic/ticks', (m) => messages.push(seen(m)), { receipt: 'sub' });
    const receipt = await subscribed;
    const start = { offset: Number(receipt.headers['x-offset']), epoch: receipt.headers['x-epoch']!, unrecovered: false };

    let acked: { offset: number; epoch: string } | undefined;
    let running = true;
    const publisher = (async () => {
      for (let n = 0; running; n++) {
        try {
          acked = await nodes[n % 2]!.publish('ticks', n);
        } catch { /* Redis away: refused, nothing published */ }
        await sleep(5);
      }
    })();
    await until('publications before the restart', () => messages.length >= 20, 10_000);
    const epochBefore = acked!.epoch;
    await redis.restart();
    await until('both nodes ready again', async () => (await Promise.all(nodes.map((n) => fetch(`${n.url}/readyz`)))).every((r) => r.status === 200), 15_000);
    await until('publishing in a new epoch', () => acked?.epoch !== epochBefore, 15_000);
    // fewer publications in the new epoch than in the old: their offsets stay below the old ones
    await sleep(100);
    running = false;
    await publisher;
    const last = acked!;
    await until(`the last publication (${last.offset}@${last.epoch})`, () => messages.at(-1)?.epoch === last.epoch && messages.at(-1)?.offset === last.offset, 10_000)
      .catch((err: Error) => assert.fail(`${err.message}; got ${JSON.stringify(messages.slice(-3))}`));

    assert.deepEqual(silentSkips(start, messages), []);
    const signals = messages.filter((m) => m.unrecovered);
    assert.equal(signals.length, 1, `one x-recovered:false (${JSON.stringify(signals)})`);
    assert.notEqual(signals[0]!.epoch, epochBefore, 'on the first MESSAGE of the new epoch');
    await client.deactivate();
  });

  it('a resubscription that cannot recover says so in its RECEIPT and on its first MESSAGE only', async () => {
    const old = await nodes[1]!.publish('resumed', 'before');
    const { client } = await stompJs(nodes[0]!.wsUrl);
    const messages: IMessage[] = [];
    const receipt = new Promise<IFrame>((resolve) => client.watchForReceipt('r', resolve));
    client.subscribe('/topic/resumed', (m) => messages.push(m), { receipt: 'r', 'x-since-offset': String(old.offset), 'x-epoch': 'gone-epoch' });
    assert.equal((await receipt).headers['x-recovered'], 'false');
    await nodes[1]!.publish('resumed', 'one');
    await nodes[1]!.publish('resumed', 'two');
    await until('two messages', () => messages.length === 2, 5000);
    assert.deepEqual(messages.map((m) => [m.body, m.headers['x-recovered']]), [['"one"', 'false'], ['"two"', undefined]]);
    await client.deactivate();
  });
});

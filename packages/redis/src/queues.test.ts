import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ClusterQueues, EngineUnavailableError, createLogger, type QueueConsumer } from '@tidings/server';
import { CONFORMANCE_QUEUE_OPTIONS, queueConformance } from '@tidings/server/queue-conformance';
import { RedisProcess, redisAvailability } from '../../../test/helpers/redis.js';
import { RedisQueueLog } from './queues.js';

const availability = redisAvailability();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const body = (text: string) => ({ bytes: new TextEncoder().encode(text), contentType: undefined, binary: false });

function clientOf(redis: RedisProcess): Redis {
  const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1, commandTimeout: 4000, retryStrategy: (n) => Math.min(n * 50, 500) });
  client.on('error', () => {});
  return client;
}

/** An auto-ack consumer that counts what it got. */
function consumer(queue: string): QueueConsumer & { got: number } {
  const c = {
    queue, ack: 'auto' as const, prefetch: 10, unacked: { size: 0 }, got: 0,
    owner: { congested: false, deliverQueued: () => { c.got++; } },
  };
  return c;
}

async function xreadgroupCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  return Number(/cmdstat_xreadgroup:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('RedisQueueLog', availability, () => {
  let redis: RedisProcess;
  before(async () => { redis = await RedisProcess.start(); });
  after(async () => { await redis.kill(); });

  queueConformance('redis streams', async (options) => {
    const clients: Redis[] = [];
    const node = () => {
      const client = clientOf(redis);
      clients.push(client);
      return new ClusterQueues(new RedisQueueLog({ client, blockMs: 1000 }), options, createLogger('silent'));
    };
    const queues = node();
    const peer = node();
    await Promise.all(clients.map((c) => c.ping()));
    return {
      queues,
      peer,
      cleanup: async () => {
        await Promise.all([queues.close(), peer.close()]);
        for (const c of clients) c.disconnect();
      },
    };
  });

  it('waits in blocking reads, one per block time, while a consumer has nothing to do', async () => {
    const client = clientOf(redis);
    const queues = new ClusterQueues(new RedisQueueLog({ client, blockMs: 500 }), CONFORMANCE_QUEUE_OPTIONS, createLogger('silent'));
    const c = consumer('idle');
    queues.subscribe(c);
    await sleep(300);
    const before = await xreadgroupCalls(client);
    await sleep(2000);
    const reads = (await xreadgroupCalls(client)) - before;
    assert.ok(reads >= 2 && reads <= 6, `about one read per 500 ms, got ${reads} in 2 s`);
    await queues.close();
    client.disconnect();
  });

  it('removes a gone node\'s consumer from the group once it holds nothing and was idle long enough', async () => {
    const admin = clientOf(redis);
    const clients = [clientOf(redis), clientOf(redis)];
    await Promise.all([admin, ...clients].map((c) => c.ping()));
    const options = { ...CONFORMANCE_QUEUE_OPTIONS, redeliverAfter: 300 };
    const [live, gone] = clients.map((client) => new ClusterQueues(new RedisQueueLog({ client, blockMs: 500, forgetConsumersAfter: 800 }), options, createLogger('silent'))) as [ClusterQueues, ClusterQueues];
    gone.subscribe(consumer('forget'));
    await gone.send('forget', body('x'), []);
    await sleep(300);
    await gone.close();
    const c = consumer('forget');
    live.subscribe(c);
    // a group knows a consumer once it was handed something
    await live.send('forget', body('y'), []);
    const names = async (): Promise<number> => ((await admin.call('XINFO', 'CONSUMERS', 'tidings:{queues}:s:forget', 'stomp')) as unknown[]).length;
    const deadline = Date.now() + 5000;
    while (await names() < 2 && Date.now() < deadline) await sleep(50);
    assert.equal(await names(), 2, 'both nodes were consumers');
    while (await names() > 1 && Date.now() < deadline) await sleep(100);
    assert.equal(await names(), 1, 'the gone one was removed, the live one kept');
    assert.equal(c.got, 1);
    await live.close();
    for (const c of [admin, ...clients]) c.disconnect();
  });

  it('refuses SENDs with 113 while Redis is down, without crashing, and works again when it is back', async () => {
    const own = await RedisProcess.start();
    const client = clientOf(own);
    await client.ping();
    const queues = new ClusterQueues(new RedisQueueLog({ client, blockMs: 500 }), CONFORMANCE_QUEUE_OPTIONS, createLogger('silent'));
    const c = consumer('down');
    queues.subscribe(c);
    await queues.send('down', body('before'), []);
    const deadline = Date.now() + 5000;
    while (c.got < 1 && Date.now() < deadline) await sleep(20);
    assert.equal(c.got, 1);
    await own.kill();
    await sleep(200);
    await assert.rejects(queues.send('down', body('while down'), []), EngineUnavailableError);
    await sleep(1500);
    await own.start();
    const back = Date.now() + 10_000;
    while (client.status !== 'ready' && Date.now() < back) await sleep(50);
    const at = await queues.send('down', body('after'), []);
    assert.equal(at.offset, 1, 'Redis lost its data: the queue starts again');
    while (c.got < 2 && Date.now() < back) await sleep(20);
    assert.equal(c.got, 2, 'the reader came back by itself and made the group again');
    await queues.close();
    client.disconnect();
    await own.kill();
  });
});

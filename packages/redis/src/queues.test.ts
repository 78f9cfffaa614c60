import { after, before, describe } from 'node:test';
import { Redis } from 'ioredis';
import { ClusterQueues, createLogger } from '@tidings/server';
import { queueConformance } from '@tidings/server/queue-conformance';
import { RedisProcess, redisAvailability } from '../../../test/helpers/redis.js';
import { RedisQueueLog } from './queues.js';

const availability = redisAvailability();

describe('RedisQueueLog', availability, () => {
  let redis: RedisProcess;
  before(async () => { redis = await RedisProcess.start(); });
  after(async () => { await redis.kill(); });

  queueConformance('redis streams', async (options) => {
    const clients: Redis[] = [];
    const node = () => {
      const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1, commandTimeout: 4000 });
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
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import { RedisEngine } from '@tidings/redis';
import { engineConformance } from '@tidings/server/conformance';
import { RedisClusterProcess, redisAvailability } from '../helpers/redis.js';
import { startTidings } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const availability = redisAvailability();

describe('RedisEngine on a Redis Cluster (sharded pub/sub)', availability, () => {
  let cluster: RedisClusterProcess;
  before(async () => { cluster = await RedisClusterProcess.start(3); });
  after(async () => { await cluster.kill(); });

  engineConformance('redis cluster', async () => {
    const client = new Cluster(cluster.seeds, { shardedSubscribers: true });
    const subscriber = new Cluster(cluster.seeds, { shardedSubscribers: true });
    const engine = new RedisEngine({ client, subscriber });
    return { engine, cleanup: async () => { client.disconnect(); subscriber.disconnect(); } };
  });

  it('serves two tidings nodes started with --redis-cluster: publications cross nodes through sharded pub/sub', async () => {
    const seeds = cluster.seeds.map((s) => `${s.host}:${s.port}`).join(',');
    const [a, b] = await Promise.all([0, 1].map(() => startTidings({ args: ['--engine', 'redis', '--redis-cluster', seeds] })));
    try {
      const clients = await Promise.all([a!, b!].map(async (n) => {
        const c = await WsClient.connect(n.wsUrl);
        for (const ch of ['news', 'sports', 'chat.x']) await c.command('subscribe', { channel: ch });
        return c;
      }));
      for (let i = 0; i < 6; i++) await [a!, b!][i % 2]!.publish(['news', 'sports', 'chat.x'][i % 3]!, i);
      for (const c of clients) {
        await c.until(() => c.pushes('publication').length === 6, 5000, 'six publications');
        assert.deepEqual(c.pushes('publication').map((p) => p.data).sort(), [0, 1, 2, 3, 4, 5]);
        c.close();
      }
    } finally {
      await Promise.all([a!.stop(), b!.stop()]);
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { engineConformance } from '@tidings/server/conformance';
import { RedisProcess, redisAvailability } from '../../../test/helpers/redis.js';
import { RedisEngine } from './engine.js';

const availability = redisAvailability();
const handler = { onPublication() {}, onJoin() {}, onLeave() {}, onControl() {} };

describe('RedisEngine', availability, () => {
  let redis: RedisProcess;
  before(async () => { redis = await RedisProcess.start(); });
  after(async () => { await redis.kill(); });

  for (const sharded of [false, true]) {
    engineConformance(`redis${sharded ? ' (sharded pub/sub)' : ''}`, async () => {
      const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: (n) => Math.min(n * 50, 500) });
      const engine = new RedisEngine({ client, sharded });
      return { engine, cleanup: async () => { client.disconnect(); } };
    }, { stall: { pause: () => redis.pause(), resume: () => redis.resume() } });
  }

  it('remembers a key it made for generatedKeyTtl seconds, and makes none with 0', async () => {
    const client = redis.client();
    const keyTtls = async (prefix: string): Promise<number[]> => {
      const keys = await client.keys(`${prefix}:*:i:*`);
      return Promise.all(keys.map((k) => client.ttl(k)));
    };
    for (const [prefix, generatedKeyTtl, expected] of [['gen-default', undefined, 60], ['gen-short', 7, 7], ['gen-none', 0, undefined]] as const) {
      const engine = new RedisEngine({ client, prefix, ...(generatedKeyTtl === undefined ? {} : { generatedKeyTtl }) });
      await engine.start(handler);
      await engine.publish('ch', 1, { historySize: 10, historyTtl: 60 });
      await engine.publish('ch', 1, { historySize: 10, historyTtl: 60 });
      const ttls = await keyTtls(prefix);
      if (expected === undefined) assert.deepEqual(ttls, [], prefix);
      else assert.ok(ttls.length === 2 && ttls.every((t) => t > expected - 3 && t <= expected), `${prefix}: ${ttls.join(',')}`);
      await engine.close();
    }
    client.disconnect();
  });
});

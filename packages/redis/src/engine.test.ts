import { after, before, describe } from 'node:test';
import { Redis } from 'ioredis';
import { engineConformance } from '@tidings/server/conformance';
import { RedisProcess, redisAvailability } from '../../../test/helpers/redis.js';
import { RedisEngine } from './engine.js';

const availability = redisAvailability();

describe('RedisEngine', availability, () => {
  let redis: RedisProcess;
  before(async () => { redis = await RedisProcess.start(); });
  after(async () => { await redis.kill(); });

  for (const sharded of [false, true]) {
    engineConformance(`redis${sharded ? ' (sharded pub/sub)' : ''}`, async () => {
      const client = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: (n) => Math.min(n * 50, 500) });
      const engine = new RedisEngine({ client, sharded });
      return { engine, cleanup: async () => { client.disconnect(); }, stall: { pause: () => redis.pause(), resume: () => redis.resume() } };
    });
  }
});

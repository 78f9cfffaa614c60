import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { freePort, startTidings } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';

const PASSWORD = 'REDIS-PASSWORD-6f1ed002ab55';

interface Line { level: string; msg: string; engine?: string }

function lines(output: string): Line[] {
  return output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

describe('the Redis engine in the log', redisAvailability(), () => {
  it('logs the engine up, down while Redis is away, and up again; never the Redis password', async () => {
    const redis = await RedisProcess.start();
    const url = `redis://:${PASSWORD}@127.0.0.1:${redis.port}`;
    const t = await startTidings({ args: ['--engine', 'redis', '--redis-url', url], env: { TIDINGS_LOG_LEVEL: 'info' } });
    try {
      const up = lines(t.output).find((l) => l.msg === 'engine up');
      assert.deepEqual([up?.level, up?.engine], ['info', 'redis']);
      await redis.kill();
      await until(() => lines(t.output).some((l) => l.msg.startsWith('engine down') && l.engine === 'redis'), 10_000, 'engine down');
      await redis.start();
      await until(() => lines(t.output).some((l) => l.msg.startsWith('engine up: redis reconnected') && l.level === 'info'), 10_000, 'engine up again');
      assert.equal(lines(t.output).filter((l) => l.msg.startsWith('engine down')).length, 1, 'one line while it is away');
    } finally {
      await t.stop();
      await redis.kill();
    }
    assert.ok(!t.output.includes(PASSWORD), 'the password is not logged');

    const away = `redis://:${PASSWORD}@127.0.0.1:${await freePort()}`;
    const failed = await startTidings({ args: ['--engine', 'redis', '--redis-url', away] }).then(() => '', (err: Error) => err.message);
    assert.match(failed, /exited with 1/);
    assert.match(failed, /redis:\/\/:\[redacted\]@127\.0\.0\.1/);
    assert.ok(!failed.includes(PASSWORD), 'nor printed when Redis cannot be reached at start');
  });
});

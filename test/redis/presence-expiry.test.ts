/**
 * A node dies without removing its clients' presence: when those entries expire, subscribers
 * with join/leave get one `leave` per dead client, on every node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const availability = redisAvailability();
const CHANNELS = ['room:x', 'jl:x', 'quiet:x'];

describe('presence of a dead node\'s clients expires with a leave', availability, () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];

  before(async () => {
    redis = await RedisProcess.start();
    const config = configFile({
      namespaces: {
        room: { presence: true, joinLeave: true },
        jl: { joinLeave: true },
        quiet: { presence: true },
      },
    });
    // --ping-interval 1: presence entries live 3 s unless refreshed
    nodes = await Promise.all([0, 1, 2].map(() => startTidings({
      args: ['--engine', 'redis', '--redis-url', redis.url, '--config', config, '--ping-interval', '1'],
    })));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('announces each dead client once, to watchers on every node, only where join/leave is on', async () => {
    const watchers = [await WsClient.connect(nodes[0]!.wsUrl), await WsClient.connect(nodes[2]!.wsUrl)];
    const survivor = await WsClient.connect(nodes[0]!.wsUrl);
    for (const w of [...watchers, survivor]) for (const channel of CHANNELS) await w.command('subscribe', { channel });
    const victim = await WsClient.open(nodes[1]!.wsUrl);
    const victimId = (await victim.command<{ client: string }>('connect')).client;
    for (const channel of CHANNELS) await victim.command('subscribe', { channel });

    for (const w of watchers) {
      await w.until(() => w.pushes('join').filter((j) => j.info.client === victimId).length >= 2, 5000, 'the victim\'s joins');
      assert.deepEqual(w.pushes('join').filter((j) => j.info.client === victimId).map((j) => j.channel).sort(), ['jl:x', 'room:x'], 'no join where join/leave is off');
    }

    await nodes[1]!.kill('SIGKILL');
    const leavesOf = (w: WsClient): string[] => w.pushes('leave').filter((l) => l.info.client === victimId).map((l) => l.channel).sort();
    for (const w of watchers) await w.until(() => leavesOf(w).length >= 2, 12_000, 'the dead client\'s leaves');
    // more sweeps pass (every ≈1.5 s): still exactly one leave per channel, none for the living
    await new Promise((r) => setTimeout(r, 4000));
    for (const w of watchers) {
      assert.deepEqual(leavesOf(w), ['jl:x', 'room:x'], 'one leave per join/leave channel, none in quiet:x');
      assert.equal(w.pushes('leave').length, 2, 'no living client left');
    }
    const present = (await nodes[2]!.api('GET', '/api/presence?channel=room:x')).body as { clients: Record<string, unknown> };
    assert.equal(Object.keys(present.clients).length, 3, 'the two watchers and the survivor stay present');
    for (const w of [...watchers, survivor]) w.close();
  });
});

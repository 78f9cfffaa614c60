import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN_STATS_CHANNEL } from '@tidings/protocol';
import type { ControlMessage } from '../engine/engine.js';
import { MemoryEngine } from '../engine/memory.js';
import { Hub } from '../hub.js';
import { createLogger } from '../log.js';
import { TimerWheel } from '../timer.js';
import { AdminLive } from './live.js';

/** An AdminLive on a memory engine whose control messages reach it; `published()` is the stats channel's offset. */
async function setup(clock: { t: number }): Promise<{ live: AdminLive; hub: Hub; published: () => Promise<number>; close: () => void }> {
  const engine = new MemoryEngine();
  const hub = new Hub(engine, () => {});
  const timers = new TimerWheel();
  const live = new AdminLive({ engine, hub, timers, log: createLogger('silent') }, () => ({ node: 'n1' }), () => clock.t);
  await engine.start({
    onPublication: () => {}, onJoin: () => {}, onLeave: () => {},
    onControl: (m: ControlMessage) => { if (m.type === 'admin') live.onControl(m); },
  });
  const published = async (): Promise<number> => {
    await new Promise((r) => setImmediate(r));
    return (await engine.history(ADMIN_STATS_CHANNEL, { limit: 0 })).position.offset;
  };
  return { live, hub, published, close: () => timers.stop() };
}

describe('AdminLive', () => {
  it('publishes nothing until a console watches, then once a tick, and stops 30 s after the last watch', async () => {
    const clock = { t: Date.now() };
    const { live, hub, published, close } = await setup(clock);
    const tick = async (ms: number): Promise<number> => {
      clock.t += ms;
      live.onTimer(clock.t);
      return published();
    };
    assert.equal(await tick(1000), 0, 'nobody watches');
    live.issue(60);
    assert.equal(await tick(1000), 1);
    assert.equal(await tick(1000), 2);
    assert.equal(await tick(28_500), 2, 'no watch for 30 s');

    // a local subscriber of the stats channel says `watch` on the next tick, and every 10 s
    await hub.add(ADMIN_STATS_CHANNEL, { deliverPublication: () => {}, deliverEvent: () => {} });
    assert.equal(await tick(1000), 3);
    assert.equal(await tick(25_000), 4);
    assert.equal(await tick(25_000), 5, 'watched again meanwhile');
    close();
  });
});

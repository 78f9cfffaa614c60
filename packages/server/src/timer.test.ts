import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerWheel } from './timer.js';

describe('TimerWheel', () => {
  it('calls each item once, not before its time, and never a cancelled one', async () => {
    const wheel = new TimerWheel(20);
    const calls: Array<[string, number]> = [];
    const start = Date.now();
    const item = (name: string) => ({ onTimer: (now: number) => { calls.push([name, now - start]); } });
    const a = item('a');
    const b = item('b');
    const c = item('c');
    wheel.schedule(a, start + 60);
    const hb = wheel.schedule(b, start + 40);
    wheel.schedule(c, start);
    wheel.cancel(b, hb);
    await new Promise((r) => setTimeout(r, 200));
    wheel.stop();
    assert.deepEqual(calls.map(([n]) => n), ['c', 'a']);
    assert.ok(calls[1]![1] >= 60, `a ran at ${calls[1]![1]} ms`);
  });

  it('runs an item that a call schedules for a time already due in the same sweep or the next', async () => {
    const wheel = new TimerWheel(20);
    let second = 0;
    const again = { onTimer: () => { second++; } };
    const first = { onTimer: (now: number) => { wheel.schedule(again, now - 100); } };
    wheel.schedule(first, Date.now() + 30);
    await new Promise((r) => setTimeout(r, 150));
    wheel.stop();
    assert.equal(second, 1);
  });

  it('hands out small integer handles, whatever the date', () => {
    const wheel = new TimerWheel(250);
    const item = { onTimer: () => undefined };
    const handle = wheel.schedule(item, Date.now() + 365 * 24 * 3600 * 1000);
    wheel.stop();
    // a year ahead is still far below 2^30 buckets: V8 keeps such a field unboxed in every session
    assert.ok(Number.isInteger(handle) && handle >= 1 && handle < 2 ** 30, String(handle));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseSweep } from './close-sweep.js';
import type { Timed } from '../timer.js';

/** A TimerWheel stand-in that records what is scheduled; the test runs the timer itself. */
class ManualWheel {
  readonly scheduled: Array<{ item: Timed; at: number }> = [];
  schedule(item: Timed, at: number): number {
    this.scheduled.push({ item, at });
    return this.scheduled.length;
  }
}

class Conn {
  terminated = 0;
  terminate(): void {
    this.terminated++;
  }
}

describe('CloseSweep', () => {
  it('terminates connections whose close handshake outlived the timeout, with one timer for all', () => {
    const wheel = new ManualWheel();
    const sweep = new CloseSweep(wheel, 1000);
    const start = Date.now();
    const a = new Conn();
    const b = new Conn();
    const done = new Conn();
    sweep.add(a);
    sweep.add(b);
    sweep.add(done);
    sweep.add(a);
    assert.equal(wheel.scheduled.length, 1, 'one timer for every closing connection');
    assert.equal(sweep.size, 3);
    sweep.delete(done);
    sweep.onTimer(start + 500);
    assert.deepEqual([a.terminated, b.terminated], [0, 0], 'not before the timeout');
    assert.equal(wheel.scheduled.length, 2, 'rescheduled while some are closing');
    sweep.onTimer(start + 60_000);
    assert.deepEqual([a.terminated, b.terminated, done.terminated], [1, 1, 0]);
    assert.equal(sweep.size, 0);
    assert.equal(wheel.scheduled.length, 2, 'no timer once none is closing');
  });
});

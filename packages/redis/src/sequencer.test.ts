import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Publication } from '@tidings/protocol';
import { Sequencer } from './sequencer.js';

const pub = (offset: number, epoch = 'e1', channel = 'c'): Publication => ({ channel, offset, epoch, data: offset, time: 0 });

function setup(stream: Publication[] = []) {
  const delivered: Array<[number, string]> = [];
  const reads: number[] = [];
  const seq = new Sequencer(
    async (_channel, after) => {
      reads.push(after);
      await new Promise((r) => setTimeout(r, 5));
      return stream.filter((p) => p.offset > after);
    },
    (p) => delivered.push([p.offset, p.epoch]),
    () => {},
  );
  seq.track('c');
  return { seq, delivered, reads };
}

describe('Sequencer', () => {
  it('delivers in order and drops duplicates', () => {
    const { seq, delivered } = setup();
    for (const o of [1, 2, 2, 3, 1]) seq.receive(pub(o));
    assert.deepEqual(delivered.map(([o]) => o), [1, 2, 3]);
  });

  it('fills a gap from the stream before delivering what follows, keeping order', async () => {
    const { seq, delivered, reads } = setup([pub(1), pub(2), pub(3), pub(4), pub(5), pub(6)]);
    seq.receive(pub(1));
    seq.receive(pub(4));
    seq.receive(pub(5));
    seq.receive(pub(6));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(reads, [1]);
    assert.deepEqual(delivered.map(([o]) => o), [1, 2, 3, 4, 5, 6]);
  });

  it('passes a jump on when the stream no longer holds the gap', async () => {
    const { seq, delivered } = setup([pub(9)]);
    seq.receive(pub(1));
    seq.receive(pub(9));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(delivered.map(([o]) => o), [1, 9]);
  });

  it('passes a new epoch on as is', () => {
    const { seq, delivered } = setup();
    seq.receive(pub(5, 'e1'));
    seq.receive(pub(1, 'e2'));
    seq.receive(pub(2, 'e2'));
    assert.deepEqual(delivered, [[5, 'e1'], [1, 'e2'], [2, 'e2']]);
  });

  it('catches up after a reconnect and ignores untracked channels', async () => {
    const { seq, delivered } = setup([pub(1), pub(2), pub(3)]);
    seq.receive(pub(1));
    seq.catchUp('c');
    seq.receive(pub(3, 'e1'));
    seq.receive(pub(1, 'e1', 'other'));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(delivered.map(([o]) => o), [1, 2, 3]);
  });
});

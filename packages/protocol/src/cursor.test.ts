import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCursor, mergeCursors, type Cursor } from './cursor.js';

const c = (text: string): Cursor => decodeCursor(text)!;

describe('mergeCursors', () => {
  it('takes the highest offset per channel within one epoch, whatever the order', () => {
    const merged = mergeCursors([c('news~1~E!chat~9~F'), c('news~4~E'), c('chat~2~F')]);
    assert.deepEqual([...merged], [['news', { offset: 4, epoch: 'E' }], ['chat', { offset: 9, epoch: 'F' }]]);
  });

  it('keeps the most recent cursor\'s epoch when epochs disagree, and its highest offset', () => {
    const merged = mergeCursors([c('news~2~NEW'), c('news~50~OLD'), c('news~3~NEW')]);
    assert.deepEqual(merged.get('news'), { offset: 3, epoch: 'NEW' });
  });

  it('merges nothing into an empty cursor', () => {
    assert.equal(mergeCursors([]).size, 0);
    assert.equal(mergeCursors([c('')]).size, 0);
  });
});

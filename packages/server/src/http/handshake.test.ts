import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidingsError } from '../errors.js';
import { MAX_RESUME_POSITIONS, requestCursor } from './handshake.js';

const cursorOf = (query: string, lastEventId?: string) =>
  requestCursor({ headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId } }, new URL(`http://h/sse?${query}`));

describe('requestCursor', () => {
  it('merges the header and every cursor= and lastEventId= parameter: highest offset per channel and epoch', () => {
    const cursor = cursorOf('cursor=a~1~E!b~7~F&lastEventId=a~4~E&cursor=b~2~F', 'a~3~E');
    assert.deepEqual([...cursor], [['a', { offset: 4, epoch: 'E' }], ['b', { offset: 7, epoch: 'F' }]]);
  });

  it('takes repeated Last-Event-ID headers (joined by ", ") one by one, the later one more recent', () => {
    assert.deepEqual(cursorOf('', 'a~9~OLD, a~2~NEW').get('a'), { offset: 2, epoch: 'NEW' });
  });

  it('keeps the epoch of the header, then of the last parameter, when epochs disagree', () => {
    assert.deepEqual(cursorOf('lastEventId=a~9~Q', 'a~1~P').get('a'), { offset: 1, epoch: 'P' });
    assert.deepEqual(cursorOf('lastEventId=a~9~Q&cursor=a~1~P&cursor=a~3~P').get('a'), { offset: 3, epoch: 'P' });
  });

  it('ignores empty values, refuses a malformed one anywhere and more than the limit', () => {
    assert.equal(cursorOf('lastEventId=&cursor=', '').size, 0);
    assert.throws(() => cursorOf('cursor=a~1~E&lastEventId=junk'), TidingsError);
    assert.throws(() => cursorOf('cursor=a~1~E', 'a~1'), TidingsError);
    const at = (n: number) => Array.from({ length: n }, () => 'cursor=a~1~E').join('&');
    assert.equal(cursorOf(at(MAX_RESUME_POSITIONS)).size, 1);
    assert.throws(() => cursorOf(at(MAX_RESUME_POSITIONS + 1)), TidingsError);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StompFrame } from '@tidings/stomp';
import { MAX_USER_HEADERS, MAX_USER_HEADER_BYTES, userHeaders } from './user-headers.js';

const send = (headers: Array<[string, string]>): StompFrame => ({ command: 'SEND', headers, body: new Uint8Array() });

describe('userHeaders', () => {
  it('keeps user headers in order, the first of a repeated name, and none of the reserved ones', () => {
    const frame = send([
      ['destination', '/topic/t'], ['x-foo', 'bar'], ['content-type', 'text/plain'], ['priority', '5'], ['x-foo', 'again'],
      ['receipt', 'r'], ['transaction', 't'], ['content-length', '0'], ['x-user', 'mallory'], ['X-Offset', '9'], ['x-idempotency-key', 'k'], ['passcode', 'secret'],
    ]);
    assert.deepEqual(userHeaders(frame), [['x-foo', 'bar'], ['priority', '5']]);
  });

  it(`refuses more than ${MAX_USER_HEADERS} headers or ${MAX_USER_HEADER_BYTES} bytes with 112`, () => {
    const many = Array.from({ length: MAX_USER_HEADERS }, (_, i): [string, string] => [`h${i}`, 'v']);
    assert.equal(userHeaders(send(many)).length, MAX_USER_HEADERS);
    assert.throws(() => userHeaders(send([...many, ['one-more', 'v']])), { code: 112, message: 'too many user headers' });
    const big: [string, string] = ['big', 'é'.repeat(2000) + 'a'.repeat(MAX_USER_HEADER_BYTES - 3 - 4000)];
    assert.equal(userHeaders(send([big])).length, 1);
    assert.throws(() => userHeaders(send([big, ['b', '']])), { code: 112, message: 'user headers too large' });
  });
});

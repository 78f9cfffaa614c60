import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HEAD_BYTES, RequestHeadParser, type HeadResult } from './request-head.js';

/** The result, with the bytes of later chunks added to `rest` as a caller would read them. */
function feed(parts: Buffer[]): HeadResult | undefined {
  const parser = new RequestHeadParser();
  let result: HeadResult | undefined;
  for (const part of parts) {
    if (result?.ok) result = { ...result, rest: Buffer.concat([result.rest, part]) };
    else result = parser.push(part);
  }
  return result;
}

function plain(result: HeadResult | undefined): unknown {
  return result?.ok ? { ...result, rest: result.rest.toString('latin1') } : result;
}

/** The result of `text`, after checking that every split into two chunks, and byte by byte, gives the same. */
function parse(text: string): HeadResult | undefined {
  const input = Buffer.from(text, 'latin1');
  const whole = feed([input]);
  for (let at = 0; at <= input.length; at++) {
    assert.deepEqual(plain(feed([input.subarray(0, at), input.subarray(at)])), plain(whole), `split at byte ${at}`);
  }
  assert.deepEqual(plain(feed([...input].map((b) => Buffer.from([b])))), plain(whole), 'byte by byte');
  return whole;
}

function refused(text: string): number {
  const r = parse(text);
  assert.ok(r && !r.ok, `expected ${JSON.stringify(text)} to be refused`);
  return r.status;
}

describe('RequestHeadParser', () => {
  it('reads the request line and headers, shaped like node:http', () => {
    const r = parse('GET /sse?channel=a HTTP/1.1\r\nHost: x:1\r\nAccept: a\r\naccept:  b \r\nCookie: k=1\r\nCOOKIE: j=2\r\n'
      + 'Authorization: Bearer one\r\nAuthorization: Bearer two\r\nSet-Cookie: s=1\r\nset-cookie: s=2\r\nX-Empty:\r\n\r\n');
    assert.ok(r?.ok);
    assert.equal(Object.getPrototypeOf(r.head.headers), null);
    assert.deepEqual({ ...r.head, headers: { ...r.head.headers } }, {
      method: 'GET',
      url: '/sse?channel=a',
      httpVersion: '1.1',
      headers: {
        host: 'x:1', accept: 'a, b', cookie: 'k=1; j=2', authorization: 'Bearer one', 'set-cookie': ['s=1', 's=2'], 'x-empty': '',
      },
    });
    assert.equal(r.rest.length, 0);
  });

  it('keeps headers named like Object.prototype members as plain headers', () => {
    const r = parse('GET / HTTP/1.1\r\nHost: x\r\n__proto__: p\r\nconstructor: c\r\ntoString: t\r\n\r\n');
    assert.ok(r?.ok);
    assert.equal(r.head.headers['__proto__'], 'p');
    assert.equal(r.head.headers.constructor, 'c');
    assert.equal(r.head.headers.tostring, 't');
  });

  it('returns the bytes after the head, and skips empty lines before the request line', () => {
    const r = parse('\r\n\r\nPOST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n');
    assert.ok(r?.ok);
    assert.equal(r.head.method, 'POST');
    assert.equal(r.head.headers['content-length'], '5');
    assert.equal(r.rest.toString(), 'helloGET / HTTP/1.1\r\n');
  });

  it('takes HTTP/1.0 without Host, and keeps latin1 bytes of values', () => {
    const r = parse('GET / HTTP/1.0\r\nX-Name: caf\xe9\r\n\r\n');
    assert.ok(r?.ok);
    assert.equal(r.head.httpVersion, '1.0');
    assert.equal(r.head.headers['x-name'], 'caf\xe9');
  });

  it('waits for more until the blank line', () => {
    const parser = new RequestHeadParser();
    assert.equal(parser.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n')), undefined);
    assert.equal(parser.push(Buffer.from('\r')), undefined);
    assert.equal(parser.push(Buffer.from('\n'))?.ok, true);
  });

  it('refuses malformed request lines with 400', () => {
    for (const line of ['GET /', 'GET  / HTTP/1.1', 'GET / HTTP/2.0', 'GET / http/1.1', 'G(T / HTTP/1.1', 'GET /a\x7fb HTTP/1.1', 'GET / HTTP/1.1 ', ' GET / HTTP/1.1']) {
      assert.equal(refused(`${line}\r\nHost: x\r\n\r\n`), 400, line);
    }
  });

  it('refuses malformed header lines with 400', () => {
    for (const header of ['Host : x', 'No-Colon', ': empty-name', 'Bad Name: x', 'X: a\x00b', 'X: a\x1bb', 'X: a\rb', '\tfolded', ' folded']) {
      assert.equal(refused(`GET / HTTP/1.1\r\nHost: x\r\n${header}\r\n\r\n`), 400, header);
    }
  });

  it('refuses bare LF and CR line ends', () => {
    assert.equal(refused('GET / HTTP/1.1\nHost: x\r\n\r\n'), 400);
    assert.equal(refused('GET / HTTP/1.1\r\nHost: x\n\n'), 400);
    assert.equal(refused('GET / HTTP/1.1\r\nHost: x\r\n\n'), 400);
    assert.equal(refused('\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
    assert.equal(refused('\rGET / HTTP/1.1\r\nHost: x\r\n\r\n'), 400);
    assert.equal(refused('GET / HTTP/1.1\r\rHost: x\r\n\r\n'), 400);
  });

  it('refuses request smuggling material and a missing Host', () => {
    assert.equal(refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'), 400);
    assert.equal(refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n'), 400);
    assert.equal(refused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'), 400);
    assert.equal(refused('GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'), 400);
    assert.equal(refused('GET / HTTP/1.1\r\n\r\n'), 400);
  });

  it('refuses a head over the limit with 431, before it ends', () => {
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    const r = feed([Buffer.from(big)]);
    assert.deepEqual(r && !r.ok && r.status, 431);
    const fits = `GET / HTTP/1.1\r\nHost: x\r\nX: `;
    const exact = `${fits}${'a'.repeat(MAX_HEAD_BYTES - fits.length - 4)}\r\n\r\n`;
    assert.equal(feed([Buffer.from(exact)])?.ok, true);
    assert.equal(feed([Buffer.from(`${exact.slice(0, -4)}a\r\n\r\n`)])?.ok, false);
    assert.equal(refused(`${'\r\n'.repeat(MAX_HEAD_BYTES / 2)}GET / HTTP/1.1\r\nHost: x\r\n\r\n`), 431);
  });

  it('answers the same result after it has one', () => {
    const parser = new RequestHeadParser();
    const first = parser.push(Buffer.from('BAD\r\n\r\n'));
    assert.equal(parser.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), first);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IncomingHttpHeaders } from 'node:http';
import { acceptKey, checkUpgrade, isRefusal, refusal, switchingProtocols } from './handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(headers: IncomingHttpHeaders = {}, method = 'GET') {
  return {
    method,
    httpVersion: '1.1',
    headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': KEY, ...headers },
  };
}

function status(headers: IncomingHttpHeaders, method?: string): number | undefined {
  const check = checkUpgrade(request(headers, method));
  return isRefusal(check) ? check.status : undefined;
}

describe('WebSocket handshake', () => {
  it('computes Sec-WebSocket-Accept as in RFC 6455 §1.3', () => {
    assert.equal(acceptKey(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('accepts a valid upgrade, with any case and a Connection list', () => {
    assert.deepEqual(checkUpgrade(request()), { key: KEY, protocol: undefined });
    assert.deepEqual(checkUpgrade(request({ upgrade: 'WebSocket', connection: 'keep-alive, Upgrade' })), { key: KEY, protocol: undefined });
  });

  it('refuses what RFC 6455 §4.2.1 rules out', () => {
    assert.equal(status({}, 'POST'), 405);
    assert.equal(status({ upgrade: 'h2c' }), 400);
    assert.equal(status({ upgrade: undefined }), 400);
    assert.equal(status({ connection: 'keep-alive' }), 400);
    assert.equal(status({ 'sec-websocket-key': undefined }), 400);
    assert.equal(status({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25j' }), 400, '12 bytes');
    assert.equal(status({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZR==' }), 400, 'spare bits set');
    assert.equal(status({ 'sec-websocket-protocol': 'v12.stomp, v12.stomp' }), 400, 'duplicate subprotocol');
    assert.equal(status({ 'sec-websocket-protocol': 'a b' }), 400, 'not a token');
    const old = checkUpgrade({ ...request(), httpVersion: '1.0' });
    assert.ok(isRefusal(old) && old.status === 400);
  });

  it('answers an unsupported version with 426 and the version it speaks', () => {
    for (const version of ['8', undefined]) {
      const check = checkUpgrade(request({ 'sec-websocket-version': version }));
      assert.ok(isRefusal(check));
      assert.equal(check.status, 426);
      assert.equal(check.headers, 'Sec-WebSocket-Version: 13\r\n');
    }
  });

  it('picks the best STOMP subprotocol offered, else none', () => {
    const pick = (offered: string) => {
      const check = checkUpgrade(request({ 'sec-websocket-protocol': offered }));
      assert.ok(!isRefusal(check));
      return check.protocol;
    };
    assert.equal(pick('v10.stomp, v12.stomp,v11.stomp'), 'v12.stomp');
    assert.equal(pick('v11.stomp'), 'v11.stomp');
    assert.equal(pick('chat'), undefined);
  });

  it('builds the 101 head and refusals with the JSON error body', () => {
    assert.equal(switchingProtocols({ key: KEY, protocol: 'v12.stomp' }),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n');
    assert.ok(!switchingProtocols({ key: KEY, protocol: undefined }).includes('Sec-WebSocket-Protocol'));
    assert.ok(!switchingProtocols({ key: KEY, protocol: undefined }).includes('Sec-WebSocket-Extensions'));
    assert.match(switchingProtocols({ key: KEY, protocol: undefined }, 'permessage-deflate; client_no_context_takeover'),
      /\r\nSec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n\r\n$/);
    const text = refusal(107, 'nope ✓', 426, 'Sec-WebSocket-Version: 13\r\n');
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    assert.match(head, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(head, /\r\nSec-WebSocket-Version: 13\r\n/);
    assert.match(head, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\\r\\n`));
    assert.deepEqual(JSON.parse(body), { error: { code: 107, message: 'nope ✓' } });
    assert.match(refusal(101, 'bad token'), /^HTTP\/1\.1 401 Unauthorized\r\n/);
  });
});

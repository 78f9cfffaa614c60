import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeFrame, messageFrame, parseMessages, quote } from './frames.js';
import { routeOf } from './paths.js';

describe('SockJS frames', () => {
  it('quotes messages as JSON with the characters browsers mangle escaped', () => {
    assert.equal(quote('plain "text"\n'), '"plain \\"text\\"\\n"');
    assert.equal(quote('\u2028\u00ad\ufeff'), '"\\u2028\\u00ad\\ufeff"');
    assert.equal(quote('é日'), '"é日"');
    assert.equal(quote('😀'), '"\\ud83d\\ude00"');
    assert.equal(JSON.parse(quote('a\u0000b😀\u2029')), 'a\u0000b😀\u2029');
  });

  it('builds a, c frames', () => {
    assert.equal(messageFrame([quote('x')]), 'a["x"]');
    assert.equal(messageFrame([quote('x'), quote('y')]), 'a["x","y"]');
    assert.equal(closeFrame(3000, 'Go away!'), 'c[3000,"Go away!"]');
  });

  it('reads client sends: an array of strings; a single string only where allowed', () => {
    assert.deepEqual(parseMessages('["a","b"]', false), ['a', 'b']);
    assert.deepEqual(parseMessages('[]', false), []);
    assert.deepEqual(parseMessages('"a"', true), ['a']);
    for (const bad of ['"a"', '[1]', '{"a":1}', 'nope', '', '["a",null]']) assert.equal(parseMessages(bad, false), undefined, bad);
  });
});

describe('SockJS paths', () => {
  const prefixes = ['/sockjs', '/ws-stomp'];
  it('routes every path under each prefix, with labels that leave out the session id', () => {
    assert.equal(routeOf('/sockjs', prefixes)?.kind, 'greeting');
    assert.equal(routeOf('/ws-stomp/', prefixes)?.kind, 'greeting');
    assert.equal(routeOf('/sockjs/info', prefixes)?.kind, 'info');
    assert.equal(routeOf('/sockjs/iframe-1.6.1.html', prefixes)?.kind, 'iframe');
    assert.deepEqual(routeOf('/sockjs/websocket', prefixes), { kind: 'websocket', label: '/sockjs/websocket', raw: true });
    assert.deepEqual(routeOf('/sockjs/1/secret/websocket', prefixes), { kind: 'websocket', label: '/sockjs/websocket', raw: false });
    assert.deepEqual(routeOf('/ws-stomp/1/secret/xhr_send', prefixes), { kind: 'transport', label: '/ws-stomp/xhr_send', transport: 'xhr_send', server: '1', session: 'secret' });
  });

  it('has no route for other paths', () => {
    for (const path of ['/sockjsx', '/sockjs/1/a.b/xhr', '/sockjs/1//xhr', '/sockjs/1/a/nope', '/sockjs/1/a/b/xhr', '/other/1/a/xhr']) {
      assert.equal(routeOf(path, prefixes), undefined, path);
    }
  });
});

/**
 * The SockJS 0.3.3 protocol at the HTTP level, with raw requests: paths, headers, frames,
 * heartbeats, the 2010 rule, the streaming byte limit, and bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { TidingsProcess } from '../helpers/tidings.js';
import { sessionPath, startSockjsTidings, until } from './helpers.js';

const ORIGIN = 'http://app.example';
const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
const CONNECT = 'CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\u0000';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

describe('the SockJS protocol', () => {
  let t: TidingsProcess;
  let base: string;

  before(async () => {
    t = await startSockjsTidings([
      '--allowed-origins', ORIGIN, '--sockjs-heartbeat', '1', '--sockjs-disconnect-delay', '1',
      '--sockjs-response-limit', '4096', '--sockjs-jsessionid', 'on', '--sockjs-client-url', 'http://cdn.example/sockjs.js', '--log-level', 'info',
    ]);
    base = `${t.url}/sockjs`;
  });
  after(async () => {
    await t?.stop();
  });

  async function req(method: string, path: string, body?: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
    const res = await fetch(base + path, { method, body, headers, signal });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** A session with STOMP connected over xhr polling. */
  async function stompSession(): Promise<string> {
    const s = sessionPath();
    assert.equal((await req('POST', `${s}/xhr`)).text, 'o\n');
    assert.equal((await req('POST', `${s}/xhr_send`, JSON.stringify([CONNECT]))).status, 204);
    assert.match((await req('POST', `${s}/xhr`)).text, /^a\["CONNECTED\\nversion:1.2/);
    return s;
  }

  it('greets at the prefix, with and without a slash', async () => {
    for (const path of ['', '/']) {
      const a = await req('GET', path);
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('content-type'), 'text/plain; charset=UTF-8');
      assert.equal(a.text, 'Welcome to SockJS!\n');
    }
  });

  it('answers /info with websocket, cookie_needed, origins and entropy, CORS with credentials, no caching', async () => {
    const a = await req('GET', '/info', undefined, { origin: ORIGIN });
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.equal(a.headers.get('cache-control'), NO_CACHE);
    assert.equal(a.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(a.headers.get('access-control-allow-credentials'), 'true');
    const body = JSON.parse(a.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['cookie_needed', 'entropy', 'origins', 'websocket']);
    assert.equal(body.websocket, true);
    assert.equal(body.cookie_needed, true);
    assert.deepEqual(body.origins, ['*:*']);
    assert.equal(typeof body.entropy, 'number');
    assert.notEqual((JSON.parse((await req('GET', '/info')).text) as { entropy: number }).entropy, body.entropy);
    assert.equal((await req('GET', '/info')).headers.get('access-control-allow-origin'), '*');

    const o = await req('OPTIONS', '/info', undefined, { origin: ORIGIN, 'access-control-request-headers': 'x-custom' });
    assert.equal(o.status, 204);
    assert.equal(o.headers.get('access-control-allow-methods'), 'OPTIONS, GET');
    assert.equal(o.headers.get('access-control-allow-headers'), 'x-custom');
    assert.equal(o.headers.get('cache-control'), 'public, max-age=31536000');
    assert.equal(o.headers.get('access-control-max-age'), '31536000');
    assert.ok(o.headers.get('expires'));

    const refused = await req('GET', '/info', undefined, { origin: 'http://evil.example' });
    assert.equal(refused.status, 403);
    assert.equal((await req('DELETE', '/info')).status, 405);
  });

  it('serves iframe.html with the configured client script, cached with an ETag', async () => {
    for (const path of ['/iframe.html', '/iframe-1.2.3.html']) {
      const a = await req('GET', path);
      assert.equal(a.status, 200);
      assert.equal(a.headers.get('content-type'), 'text/html; charset=UTF-8');
      assert.equal(a.headers.get('cache-control'), 'public, max-age=31536000');
      assert.match(a.text, /<script src="http:\/\/cdn.example\/sockjs.js"><\/script>/);
      assert.match(a.text, /SockJS.bootstrap_iframe\(\)/);
      const etag = a.headers.get('etag');
      assert.ok(etag);
      const again = await req('GET', path, undefined, { 'if-none-match': etag });
      assert.equal(again.status, 304);
      assert.equal(again.text, '');
    }
  });

  it('xhr polling: o, then messages; xhr_send 204; JSESSIONID, caching and CORS headers', async () => {
    const s = sessionPath();
    const open = await req('POST', `${s}/xhr`, undefined, { origin: ORIGIN, cookie: 'JSESSIONID=abc123' });
    assert.equal(open.status, 200);
    assert.equal(open.text, 'o\n');
    assert.equal(open.headers.get('content-type'), 'application/javascript; charset=UTF-8');
    assert.equal(open.headers.get('cache-control'), NO_CACHE);
    assert.equal(open.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(open.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(open.headers.get('set-cookie'), 'JSESSIONID=abc123; path=/');
    const sent = await req('POST', `${s}/xhr_send`, JSON.stringify([CONNECT]));
    assert.equal(sent.status, 204);
    assert.equal(sent.headers.get('content-type'), 'text/plain; charset=UTF-8');
    assert.equal(sent.headers.get('set-cookie'), 'JSESSIONID=dummy; path=/');
    const poll = await req('POST', `${s}/xhr`);
    assert.match(poll.text, /^a\["CONNECTED\\nversion:1.2\\n.*\\u0000"\]\n$/);
    const pre = await req('OPTIONS', `${s}/xhr_send`, undefined, { origin: ORIGIN });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-methods'), 'OPTIONS, POST');
  });

  it('sends heartbeats to a waiting poll and answers a second receiver with c[2010]', async () => {
    const s = await stompSession();
    const started = Date.now();
    const first = req('POST', `${s}/xhr`);
    await new Promise((r) => setTimeout(r, 100));
    const second = await req('POST', `${s}/xhr`);
    assert.equal(second.text, 'c[2010,"Another connection still open"]\n');
    assert.equal((await first).text, 'h\n');
    assert.ok(Date.now() - started < 3000);
  });

  it('keeps the close frame for later requests and refuses sends to a closed session with 404', async () => {
    const s = await stompSession();
    assert.equal((await req('POST', `${s}/xhr_send`, JSON.stringify(['DISCONNECT\nreceipt:77\n\n\u0000']))).status, 204);
    assert.match((await req('POST', `${s}/xhr`)).text, /RECEIPT\\nreceipt-id:77/);
    assert.equal((await req('POST', `${s}/xhr`)).text, 'c[1000,"disconnect"]\n');
    assert.equal((await req('POST', `${s}/xhr`)).text, 'c[1000,"disconnect"]\n');
    assert.equal((await req('POST', `${s}/xhr_send`, '["x"]')).status, 404);
  });

  it('answers bad input with the protocol\'s codes and loses nothing for the session', async () => {
    const s = await stompSession();
    const unknown = sessionPath();
    assert.equal((await req('POST', `${unknown}/xhr_send`, '["x"]')).status, 404);
    assert.equal((await req('POST', `${unknown}/jsonp_send`, 'd=%5B%22x%22%5D', { 'content-type': 'application/x-www-form-urlencoded' })).status, 404);
    const empty = await req('POST', `${s}/xhr_send`, '');
    assert.deepEqual([empty.status, empty.text], [500, 'Payload expected.']);
    for (const body of ['not json', '{"a":1}', '[1]', '["a",null]', '"a string"']) {
      const a = await req('POST', `${s}/xhr_send`, body);
      assert.deepEqual([a.status, a.text], [500, 'Broken JSON encoding.'], body);
    }
    assert.equal((await req('POST', `${s}/xhr_send`, JSON.stringify(['x'.repeat(200_000)]))).status, 413);
    assert.equal((await req('GET', `${s}/xhr_send`)).status, 405);
    assert.equal((await req('GET', `${s}/xhr`)).status, 405);
    assert.equal((await req('POST', `${s}/eventsource`)).status, 405);
    assert.equal((await req('GET', `${s}/nonsense`)).status, 404);
    assert.equal((await req('POST', '/a.b/c/xhr')).status, 404);
    const ws = await req('GET', `${s}/websocket`);
    assert.deepEqual([ws.status, ws.text], [400, 'Can "Upgrade" only to "WebSocket".']);
    assert.equal((await req('POST', `${s}/websocket`)).status, 405);

    const send = 'SUBSCRIBE\nid:1\ndestination:/topic/bad-input\nreceipt:r1\n\n\u0000';
    assert.equal((await req('POST', `${s}/xhr_send`, JSON.stringify([send]))).status, 204);
    assert.match((await req('POST', `${s}/xhr`)).text, /RECEIPT\\nreceipt-id:r1/);
  });

  it('xhr_streaming: prelude, o, frames; the response ends at the byte limit and the next one carries on', async () => {
    const s = sessionPath();
    const res = await fetch(`${base}${s}/xhr_streaming`, { method: 'POST' });
    assert.equal(res.headers.get('content-type'), 'application/javascript; charset=UTF-8');
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('o\n')) text += decoder.decode((await reader.read()).value);
    assert.equal(text, `${'h'.repeat(2048)}\no\n`);
    assert.equal((await req('POST', `${s}/xhr_send`, JSON.stringify([CONNECT, 'SUBSCRIBE\nid:1\ndestination:/topic/stream-limit\n\n\u0000']))).status, 204);
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 12; i++) await t.publish('stream-limit', { i, pad: 'p'.repeat(400) });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    assert.ok(text.length >= 4096, `ended after ${text.length} bytes`);
    const next = await fetch(`${base}${s}/xhr_streaming`, { method: 'POST' });
    const rest = next.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let more = '';
    while (!more.includes('\\"i\\":11')) more += decoder.decode((await rest.read()).value);
    assert.ok(!more.slice(2049).startsWith('o\n'), 'no second open frame');
    await rest.cancel();
    const all = (text + more).match(/\\"i\\":(\d+)/g)!.map((m) => Number(m.slice(6)));
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('eventsource and htmlfile frame as their formats want; htmlfile and jsonp need a valid callback', async () => {
    const es = await fetch(`${base}${sessionPath()}/eventsource`);
    assert.equal(es.headers.get('content-type'), 'text/event-stream; charset=UTF-8');
    const esReader = es.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    while (!text.includes('data: o')) text += new TextDecoder().decode((await esReader.read()).value);
    assert.equal(text, '\r\ndata: o\r\n\r\n');
    await esReader.cancel();

    assert.deepEqual(Object.values(await req('GET', `${sessionPath()}/htmlfile`)).slice(0, 1), [500]);
    assert.equal((await req('GET', `${sessionPath()}/htmlfile`)).text, '"callback" parameter required');
    assert.equal((await req('GET', `${sessionPath()}/htmlfile?c=alert(1)`)).text, 'invalid "callback" parameter');
    assert.equal((await req('GET', `${sessionPath()}/jsonp?c=x%3Cy`)).text, 'invalid "callback" parameter');
    const html = await fetch(`${base}${sessionPath()}/htmlfile?c=cb`);
    assert.equal(html.headers.get('content-type'), 'text/html; charset=UTF-8');
    const htmlReader = html.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let page = '';
    while (!page.includes('p("o")')) page += new TextDecoder().decode((await htmlReader.read()).value);
    assert.match(page, /var c = parent\.cb;/);
    assert.ok(page.indexOf('<script>\np("o");\n</script>\r\n') > 1024);
    await htmlReader.cancel();
  });

  it('jsonp polling and jsonp_send (form or raw body)', async () => {
    const s = sessionPath();
    const open = await req('GET', `${s}/jsonp?c=cb.x`);
    assert.equal(open.headers.get('content-type'), 'application/javascript; charset=UTF-8');
    assert.equal(open.text, '/**/cb.x("o");\r\n');
    const form = await req('POST', `${s}/jsonp_send`, `d=${encodeURIComponent(JSON.stringify([CONNECT]))}`, { 'content-type': 'application/x-www-form-urlencoded' });
    assert.deepEqual([form.status, form.text], [200, 'ok']);
    assert.match((await req('GET', `${s}/jsonp?c=cb`)).text, /^\/\*\*\/cb\("a\[\\"CONNECTED\\\\nversion:1.2/);
    const raw = await req('POST', `${s}/jsonp_send`, JSON.stringify(['SUBSCRIBE\nid:1\ndestination:/topic/j\nreceipt:r\n\n\u0000']), { 'content-type': 'text/plain' });
    assert.deepEqual([raw.status, raw.text], [200, 'ok']);
    assert.match((await req('GET', `${s}/jsonp?c=cb`)).text, /RECEIPT/);
    const empty = await req('POST', `${s}/jsonp_send`, 'd=', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.deepEqual([empty.status, empty.text], [500, 'Payload expected.']);
  });

  it('websocket: framed under a session path (broken framing ends it), raw at <prefix>/websocket', async () => {
    const framed = new WebSocket(`${t.wsUrl.replace('/ws', '/sockjs')}${sessionPath()}/websocket`);
    const frames: string[] = [];
    framed.on('message', (d: Buffer) => frames.push(d.toString()));
    const framedClosed = new Promise<void>((resolve) => framed.on('close', () => resolve()));
    await until(() => frames.length === 1, 5000, 'o');
    assert.equal(frames[0], 'o');
    framed.send(JSON.stringify([CONNECT]));
    await until(() => frames.length === 2, 5000, 'CONNECTED');
    assert.match(frames[1]!, /^a\["CONNECTED\\n/);
    framed.send('not json');
    await framedClosed;

    const raw = new WebSocket(`${t.wsUrl.replace('/ws', '/sockjs')}/websocket`);
    const messages: string[] = [];
    raw.on('message', (d: Buffer) => messages.push(d.toString()));
    await new Promise<void>((resolve) => raw.on('open', () => resolve()));
    raw.send(CONNECT);
    await until(() => messages.length === 1, 5000, 'CONNECTED');
    assert.match(messages[0]!, /^CONNECTED\nversion:1.2\n/);
    const closed = new Promise<number>((resolve) => raw.on('close', (code: number) => resolve(code)));
    raw.send('BOGUS\n\n\u0000');
    assert.equal(await closed, 3501);
  });

  it('never logs the session id, a client secret', async () => {
    const s = sessionPath();
    const id = s.split('/')[2]!;
    assert.equal((await req('POST', `${s}/xhr`, undefined, { origin: 'http://evil.example' })).status, 403);
    assert.match((await req('POST', `${sessionPath()}/xhr?token=bad`)).text, /^c\[3500,/);
    await until(() => t.output.includes('/sockjs/xhr'), 3000, 'the refusal line');
    assert.ok(!t.output.includes(id), 'the session id reached the log');
  });
});

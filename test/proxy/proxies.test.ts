/**
 * The connect, subscribe, publish and RPC proxies against a real HTTP backend (backend.ts), on
 * WebSocket JSON, STOMP over WebSocket, SSE (+ /emulation) and long polling (+ stateless /emulation).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IMessage } from '@stomp/stompjs';
import { Client, TidingsError, type WebSocketConstructor } from '@tidings/client';
import WebSocket from 'ws';
import { ReplyError, WsClient } from '../helpers/ws-client.js';
import { configFile, freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { RawStomp, stompJs } from '../stomp/helpers.js';
import { Backend, PROXY_SECRET, SLOW_MS } from './backend.js';

let backend: Backend;
let t: TidingsProcess;
let stompPort: number;

before(async () => {
  backend = await Backend.start();
  stompPort = await freePort();
  t = await startTidings({ args: ['--config', configFile(backend.config()), '--stomp-port', String(stompPort)] });
});
after(async () => {
  await t?.stop();
  await backend?.close();
});

const cookie = (who: string): { headers: Record<string, string> } => ({ headers: { cookie: `theme=dark; sid=${who}` } });

async function wsAs(who: string): Promise<WsClient> {
  return WsClient.open(t.wsUrl, cookie(who));
}

async function replyError(p: Promise<unknown>): Promise<number> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ReplyError, `expected an error reply, got ${String(err)}`);
  return err.error.code;
}

/** Reads an SSE or NDJSON response until `until` holds for the text so far. */
async function readStream(res: Response, until: (text: string) => boolean, ms = 5000): Promise<string> {
  const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  let text = '';
  const deadline = Date.now() + ms;
  while (!until(text)) {
    if (Date.now() > deadline) throw new Error(`stream timed out; got ${text}`);
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  void reader.cancel();
  return text;
}

async function emulate(body: object, who?: string): Promise<{ status: number; replies: Array<{ type: string; result?: Record<string, unknown>; error?: { code: number } }> }> {
  const res = await fetch(`${t.url}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json', ...(who ? cookie(who).headers : {}) }, body: JSON.stringify(body) });
  const json = await res.json() as { replies: Array<{ type: string; result?: Record<string, unknown>; error?: { code: number } }> };
  return { status: res.status, replies: json.replies };
}

describe('WebSocket JSON', () => {
  it('a cookie session connects without a JWT: the backend gets the allowlisted headers and the shared secret', async () => {
    const c = await wsAs('alice');
    const result = await c.command<{ user: string; client: string }>('connect', { data: { app: 'demo' } });
    assert.equal(result.user, 'alice');
    const call = backend.last('/connect', (b) => b.client === result.client);
    assert.ok(call, 'the backend was asked with the session\'s client id');
    assert.equal(call.secret, PROXY_SECRET);
    assert.equal(call.body.transport, 'websocket');
    assert.equal(call.body.protocol, 'json');
    assert.deepEqual(call.body.data, { app: 'demo' });
    assert.equal((call.body.headers as Record<string, string>).cookie, 'theme=dark; sid=alice');
    assert.equal((call.body.headers as Record<string, string>).host, undefined, 'only allowlisted headers go');
    c.ws.close();
  });

  it('a refused connect reaches the client as the application code, reply and close', async () => {
    const c = await wsAs('refuse');
    assert.equal(await replyError(c.command('connect')), 4003);
    assert.equal(await c.closed(), 4003);
    const k = await wsAs('kick');
    await k.command('connect').catch(() => undefined);
    assert.equal(await k.closed(), 4501);
  });

  it('the connect proxy\'s channels are server-side subscriptions: subscribed at connect, with server: true', async () => {
    const c = await wsAs('feedcarol');
    await c.command('connect');
    await c.until(() => c.pushes('subscribed').length === 1);
    const sub = c.pushes('subscribed')[0] as unknown as { channel: string; server?: boolean };
    assert.equal(sub.channel, 'feed:feedcarol');
    assert.equal(sub.server, true);
    await t.publish('feed:feedcarol', { n: 1 });
    await c.until(() => c.pushes('publication').length === 1);
    assert.deepEqual(c.pushes('publication')[0]!.data, { n: 1 });
    c.ws.close();
  });

  it('subscribe refused by the backend; publish rewritten by it; RPC round trip', async () => {
    const c = await wsAs('bob');
    await c.command('connect');
    assert.equal(await replyError(c.command('subscribe', { channel: 'chat:secret' })), 4030);
    await c.command('subscribe', { channel: 'chat:ws' });
    await c.command('publish', { channel: 'chat:ws', data: { text: 'hi' } });
    await c.until(() => c.pushes('publication').length === 1);
    assert.deepEqual(c.pushes('publication')[0]!.data, { rewritten: true, original: { text: 'hi' }, by: 'bob' });
    assert.deepEqual(await c.command('rpc', { method: 'echo', data: [1, 2] }), { data: { echo: [1, 2], user: 'bob', transport: 'websocket' } });
    assert.equal(await replyError(c.command('rpc', { method: 'deny' })), 4040);
    assert.equal(c.closeCode, undefined, 'refusals leave the connection open');
    c.ws.close();
  });

  it('a backend slower than the timeout: the client gets 125 in time, and others are served meanwhile', async () => {
    const slow = await wsAs('carol');
    await slow.command('connect');
    const other = await wsAs('dave');
    await other.command('connect');
    const started = Date.now();
    const pending = replyError(slow.command('rpc', { method: 'slow' }));
    assert.deepEqual(await other.command('rpc', { method: 'echo' }), { data: { echo: null, user: 'dave', transport: 'websocket' } });
    assert.equal(await pending, 125);
    assert.ok(Date.now() - started < SLOW_MS, 'answered at the proxy timeout, not when the backend woke up');
    const c = await wsAs('slow');
    assert.equal(await replyError(c.command('connect')), 125);
    assert.equal(await c.closed(), 3004, 'a connect the backend did not answer closes with "reconnect"');
    const g = await wsAs('garbage');
    assert.equal(await replyError(g.command('connect')), 126);
    slow.ws.close();
    other.ws.close();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /tidings_proxy_calls_total\{proxy="rpc",outcome="timeout"\} [1-9]/);
    assert.match(metrics, /tidings_proxy_calls_total\{proxy="connect",outcome="bad_response"\} [1-9]/);
    assert.match(metrics, /tidings_proxy_duration_seconds_count\{proxy="rpc"\} [1-9]/);
    assert.match(t.output, /"proxy":"rpc".*"outcome":"timeout".*"msg":"proxy call failed"/);
    assert.ok(!t.output.includes(PROXY_SECRET), 'the shared secret is never logged');
    assert.ok(!t.output.includes('sid='), 'cookies are never logged');
  });
});

describe('STOMP over WebSocket', () => {
  const ws = { protocols: ['v12.stomp'] };

  it('a cookie session connects without a token', async () => {
    const s = await stompJs(t.wsUrl, { ...ws, wsOptions: cookie('erin') });
    assert.equal(s.connected.headers['user-name'], 'erin');
    const call = backend.last('/connect', (b) => b.client === s.connected.headers.session);
    assert.equal(call?.body.transport, 'stomp-ws');
    assert.equal(call?.body.protocol, 'stomp');
    await s.client.deactivate();
  });

  it('over TCP the CONNECT frame\'s allowlisted headers go to the connect proxy', async () => {
    const raw = await RawStomp.tcp(stompPort);
    const connected = await raw.connect([['cookie', 'sid=tcp-user'], ['x-other', 'not forwarded']]);
    assert.equal(connected.headers.find(([n]) => n === 'user-name')?.[1], 'tcp-user');
    const call = backend.last('/connect', (b) => b.transport === 'stomp-tcp');
    assert.deepEqual(call?.body.headers, { cookie: 'sid=tcp-user' });
    raw.frame('DISCONNECT');
  });

  it('a refused connect reaches the client as the application code', async () => {
    const err = await stompJs(t.wsUrl, { ...ws, wsOptions: cookie('refuse') }).then(() => undefined, (e: unknown) => e);
    assert.match(String(err), /STOMP ERROR: banned/);
  });

  it('subscribe refused; publish rewritten; RPC through /app/ with the answer on the RECEIPT', async () => {
    const s = await stompJs(t.wsUrl, { ...ws, wsOptions: cookie('frank') });
    const got: IMessage[] = [];
    const receipt = (id: string): Promise<Record<string, string>> => new Promise((resolve) => s.client.watchForReceipt(id, (f) => resolve(f.headers)));
    s.client.subscribe('/topic/chat:stomp', (m) => got.push(m), { receipt: 'sub-1' });
    await receipt('sub-1');
    const rpc = receipt('rpc-1');
    s.client.publish({ destination: '/app/echo', body: JSON.stringify({ q: 1 }), headers: { receipt: 'rpc-1', 'content-type': 'application/json' } });
    const answer = await rpc;
    assert.deepEqual(JSON.parse(answer['x-rpc-data']!), { echo: { q: 1 }, user: 'frank', transport: 'stomp-ws' });
    const denied = receipt('rpc-2');
    s.client.publish({ destination: '/app/deny', body: '', headers: { receipt: 'rpc-2' } });
    assert.equal((await denied)['x-rpc-error-code'], '4040');
    s.client.publish({ destination: '/topic/chat:stomp', body: JSON.stringify({ text: 'yo' }), headers: { 'content-type': 'application/json' } });
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(JSON.parse(got[0]!.body), { rewritten: true, original: { text: 'yo' }, by: 'frank' });
    const closed = new Promise<Record<string, string>>((resolve) => { s.client.onStompError = (f) => resolve(f.headers); });
    s.client.subscribe('/topic/chat:secret', () => undefined);
    assert.equal((await closed)['x-code'], '4030');
    await s.client.deactivate();
  });

  it('an RPC slower than the timeout is answered with 125 on the RECEIPT', async () => {
    const s = await stompJs(t.wsUrl, { ...ws, wsOptions: cookie('gina') });
    const started = Date.now();
    const answer = new Promise<Record<string, string>>((resolve) => s.client.watchForReceipt('slow-1', (f) => resolve(f.headers)));
    s.client.publish({ destination: '/app/slow', body: '', headers: { receipt: 'slow-1' } });
    assert.equal((await answer)['x-rpc-error-code'], '125');
    assert.ok(Date.now() - started < SLOW_MS);
    await s.client.deactivate();
  });
});

describe('SSE with /emulation', () => {
  async function openSse(who: string, query = ''): Promise<{ res: Response; connected: { client: string; secret: string; user: string } }> {
    const res = await fetch(`${t.url}/sse${query}`, { headers: cookie(who).headers });
    assert.equal(res.status, 200);
    const text = await readStream(res, (s) => s.includes('"connected"'));
    const line = text.split('\n').find((l) => l.startsWith('data:') && l.includes('"connected"'))!;
    return { res, connected: JSON.parse(line.slice(5)) as { client: string; secret: string; user: string } };
  }

  it('a cookie session connects without a JWT', async () => {
    const { connected } = await openSse('hank');
    assert.equal(connected.user, 'hank');
    assert.equal(backend.last('/connect', (b) => b.client === connected.client)?.body.transport, 'sse');
  });

  it('a refused connect is answered with the application code before the stream starts', async () => {
    const res = await fetch(`${t.url}/sse`, { headers: cookie('refuse').headers });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, 4003);
  });

  it('subscribe refused; publish rewritten; RPC round trip; slow backend → 125', async () => {
    const res = await fetch(`${t.url}/sse?channel=chat:sse&channel=chat:secret-sse`, { headers: cookie('ivy').headers });
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    const readUntil = async (what: string): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!text.includes(what)) {
        assert.ok(Date.now() < deadline, `no ${what} in ${text}`);
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil('"unsubscribed"');
    const unsubscribed = JSON.parse(text.split('\n').find((l) => l.includes('"unsubscribed"'))!.slice(5)) as { channel: string; code: number };
    assert.deepEqual([unsubscribed.channel, unsubscribed.code], ['chat:secret-sse', 2000], 'a channel of the request the backend refused: final');
    const { client, secret } = JSON.parse(text.split('\n').find((l) => l.includes('"connected"'))!.slice(5)) as { client: string; secret: string };
    const { replies } = await emulate({ client, secret, commands: [
      { id: 1, type: 'subscribe', channel: 'chat:secret' },
      { id: 2, type: 'publish', channel: 'chat:sse', data: { text: 'sse' } },
      { id: 3, type: 'rpc', method: 'echo', data: 'x' },
      { id: 4, type: 'rpc', method: 'slow' },
    ] });
    assert.equal(replies[0]!.error?.code, 4030);
    assert.equal(replies[1]!.type, 'reply');
    assert.deepEqual(replies[2]!.result, { data: { echo: 'x', user: 'ivy', transport: 'sse' } });
    assert.equal(replies[3]!.error?.code, 125);
    await readUntil('rewritten');
    assert.match(text, /"rewritten":true,"original":\{"text":"sse"\},"by":"ivy"/);
    await reader.cancel();
  });
});

describe('long polling with stateless /emulation', () => {
  it('a cookie session polls without a JWT; a refused connect gets the application code', async () => {
    const ok = await fetch(`${t.url}/poll?channel=chat:poll&wait=0`, { headers: cookie('jack').headers });
    assert.equal(ok.status, 200);
    assert.equal(backend.last('/subscribe', (b) => b.channel === 'chat:poll')?.body.user, 'jack');
    const refused = await fetch(`${t.url}/poll?channel=chat:poll&wait=0`, { headers: cookie('refuse').headers });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: number } }).error.code, 4003);
  });

  it('subscribe refused; publish rewritten; RPC round trip; slow backend → 125', async () => {
    const refused = await fetch(`${t.url}/poll?channel=chat:secret&wait=0`, { headers: cookie('kate').headers });
    assert.equal(((await refused.json()) as { error: { code: number } }).error.code, 4030);
    const first = await (await fetch(`${t.url}/poll?channel=chat:poll2&wait=0`, { headers: cookie('kate').headers })).json() as { cursor: string };
    const { replies } = await emulate({ commands: [
      { id: 1, type: 'publish', channel: 'chat:poll2', data: { text: 'poll' } },
      { id: 2, type: 'rpc', method: 'echo', data: 7 },
      { id: 3, type: 'rpc', method: 'slow' },
    ] }, 'kate');
    assert.equal(replies[0]!.type, 'reply');
    assert.deepEqual(replies[1]!.result, { data: { echo: 7, user: 'kate', transport: 'emulation' } });
    assert.equal(replies[2]!.error?.code, 125);
    const next = await (await fetch(`${t.url}/poll?cursor=${encodeURIComponent(first.cursor)}&wait=0`, { headers: cookie('kate').headers })).json() as { messages: Array<{ data: unknown }> };
    assert.deepEqual(next.messages[0]!.data, { rewritten: true, original: { text: 'poll' }, by: 'kate' });
  });
});

describe('refresh proxy', () => {
  it('renews a session whose expireAt passed, or closes it with the backend\'s code (WebSocket JSON, STOMP)', async () => {
    const short = await wsAs('short-ws');
    await short.command('connect');
    const expiring = await wsAs('expiring-ws');
    await expiring.command('connect');
    const stomp = await stompJs(t.wsUrl, { protocols: ['v12.stomp'], wsOptions: cookie('short-stomp') });
    const stompExpiring = await stompJs(t.wsUrl, { protocols: ['v12.stomp'], wsOptions: cookie('expiring-stomp') });
    const stompError = new Promise<Record<string, string>>((resolve) => { stompExpiring.client.onStompError = (f) => resolve(f.headers); });
    assert.equal(await expiring.closed(6000), 4502);
    assert.equal((await stompError)['x-close-code'], '4502');
    const deadline = Date.now() + 5000;
    while (!(backend.last('/refresh', (b) => b.user === 'short-ws') && backend.last('/refresh', (b) => b.user === 'short-stomp')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(backend.last('/refresh', (b) => b.user === 'short-stomp')?.body.transport, 'stomp-ws');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(short.closeCode, undefined, 'the refreshed session is open');
    assert.deepEqual(await short.command('ping'), {});
    assert.equal(stomp.client.connected, true);
    short.ws.close();
    await stomp.client.deactivate();
  });
});

describe('SDK', () => {
  it('client.rpc resolves with the backend\'s data and rejects with its application code', async () => {
    /** `ws` with the app's session cookie, as a browser would send it. */
    class CookieWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, cookie('sdk-user'));
      }
    }
    const client = new Client(t.wsUrl, { WebSocket: CookieWebSocket as unknown as WebSocketConstructor });
    client.connect();
    try {
      assert.deepEqual(await client.rpc('echo', { n: 1 }), { echo: { n: 1 }, user: 'sdk-user', transport: 'websocket' });
      const err = await client.rpc('deny').then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TidingsError && err.code === 4040, String(err));
    } finally {
      client.disconnect();
    }
  });
});

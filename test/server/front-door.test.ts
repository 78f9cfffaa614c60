import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawConnection, type RawResponse } from '../helpers/raw-http.js';
import { API_KEY, startTidings, type TidingsProcess } from '../helpers/tidings.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** A one-way session's `/emulation` secret: random, one per session. */
const SECRET = /"secret":"[A-Za-z0-9_-]{32}"/g;
const MATTERING = ['content-type', 'cache-control', 'x-accel-buffering', 'access-control-allow-origin', 'access-control-allow-credentials', 'vary'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function essentials(r: RawResponse): unknown {
  return { status: r.status, headers: MATTERING.map((h) => r.headers[h]), body: r.body.replace(UUID, 'ID').replace(SECRET, '"secret":"SECRET"') };
}

/** A fresh connection: the front door answers GET /sse, /stream and /poll on the bare socket. */
async function bare(t: TidingsProcess, path: string, headers = '', done?: (body: string) => boolean): Promise<{ c: RawConnection; r: RawResponse }> {
  const c = await RawConnection.open(t.port);
  c.get(path, headers);
  return { c, r: await c.response(done) };
}

/** A connection first used for /healthz, so node:http owns it when the transport request comes. */
async function viaNodeHttp(t: TidingsProcess, path: string, headers = '', done?: (body: string) => boolean): Promise<{ c: RawConnection; r: RawResponse }> {
  const c = await RawConnection.open(t.port);
  c.get('/healthz');
  assert.equal((await c.response()).status, 200);
  c.get(path, headers);
  return { c, r: await c.response(done) };
}

function post(path: string, body: string, extra = ''): { head: string; body: string } {
  return {
    head: `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`,
    body,
  };
}

async function readyConnections(t: TidingsProcess): Promise<number> {
  return ((await (await fetch(`${t.url}/readyz`)).json()) as { connections: number }).connections;
}

describe('the front door', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t.stop();
  });

  it('answers each transport with the same headers and body bytes on a fresh connection as on one node:http owns', async () => {
    const origin = `Origin: ${t.url}\r\n`;
    const subscribed = (body: string) => body.includes('"subscribed"');
    for (const path of ['/sse?channel=same', '/stream?channel=same', '/poll?channel=same&wait=0']) {
      const a = await bare(t, path, origin, subscribed);
      const b = await viaNodeHttp(t, path, origin, subscribed);
      assert.deepEqual(essentials(a.r), essentials(b.r), path);
      assert.equal(a.r.status, 200);
      assert.equal(a.r.headers['access-control-allow-origin'], t.url);
      assert.equal(b.r.headers['transfer-encoding'], path.startsWith('/poll') ? undefined : 'chunked');
      a.c.close();
      b.c.close();
    }
    const sse = await bare(t, '/sse', '', (body) => body.includes('"connected"'));
    assert.equal(sse.r.headers.connection, 'close');
    assert.equal(sse.r.headers['transfer-encoding'], undefined);
    assert.match(sse.r.body, /^retry: 2000\n\ndata: \{"type":"connected"/);
    sse.c.close();
  });

  it('answers refused transport requests with the same JSON errors on both paths, and nothing half-open', async () => {
    const cases: Array<[string, string]> = [
      ['/sse?channel=a&access_token=x', ''],
      ['/stream?channel=a', 'Authorization: Basic eA==\r\n'],
      ['/sse?channel=a', 'Last-Event-ID: not a cursor\r\n'],
      ['/poll?channel=a', 'Origin: https://evil.example\r\n'],
      ['/poll?wait=0', ''],
      ['/sse?channel=a&token=not.a.jwt', ''],
    ];
    for (const [path, headers] of cases) {
      const a = await bare(t, path, headers);
      const b = await viaNodeHttp(t, path, headers);
      assert.ok(a.r.status >= 400, `${path}: ${a.r.status}`);
      assert.deepEqual({ status: a.r.status, body: a.r.body }, { status: b.r.status, body: b.r.body }, path);
      assert.equal(a.r.headers['content-type'], 'application/json; charset=utf-8');
      assert.match(a.r.body, /^\{"error":\{"code":\d+,"message":".+"\}\}$/);
      a.c.close();
      b.c.close();
    }
  });

  it('keeps a long-poll connection alive: two polls, then an /api POST, then a poll, on one socket', async () => {
    const c = await RawConnection.open(t.port);
    c.get('/poll?channel=ka&wait=0');
    const first = await c.response();
    assert.equal(first.headers.connection, 'keep-alive');
    const cursor = (JSON.parse(first.body) as { cursor: string }).cursor;
    c.get(`/poll?cursor=${cursor}&wait=0`);
    const second = await c.response();
    assert.equal(second.status, 200);
    assert.deepEqual(JSON.parse(second.body), { messages: [], cursor });
    const p = post('/api/publish', JSON.stringify({ channel: 'ka', data: 'kept' }));
    c.send(p.head + p.body);
    assert.equal((await c.response()).status, 200);
    c.get(`/poll?cursor=${cursor}&wait=0`);
    const third = JSON.parse((await c.response()).body) as { messages: Array<{ data: unknown }> };
    assert.deepEqual(third.messages.map((m) => m.data), ['kept']);
    assert.equal(c.closed, false);
    c.close();
  });

  it('answers pipelined requests in order, across the bare path and node:http', async () => {
    const c = await RawConnection.open(t.port);
    const p = post('/api/publish', JSON.stringify({ channel: 'pipe', data: 1 }));
    c.send('GET /poll?channel=pipe&wait=0 HTTP/1.1\r\nHost: x\r\n\r\nGET /poll?channel=pipe&wait=0 HTTP/1.1\r\nHost: x\r\n\r\n'
      + `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n${p.head}${p.body}GET /poll?channel=pipe&wait=0 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await c.response());
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    assert.match(answers[0]!.body, /"subscribed"/);
    assert.equal(answers[0]!.body, answers[1]!.body);
    assert.equal(answers[2]!.body, '{"status":"ok"}');
    assert.match(answers[3]!.body, /^\{"offset":1,/);
    assert.match(answers[4]!.body, /"subscribed"/);
    c.close();
  });

  it('hands node:http a request whose head and body arrive in pieces, late', async () => {
    const c = await RawConnection.open(t.port);
    const p = post('/api/publish', JSON.stringify({ channel: 'late', data: 'x'.repeat(40_000) }));
    c.send(p.head.slice(0, 7));
    await sleep(150);
    c.send(p.head.slice(7));
    await sleep(150);
    for (let at = 0; at < p.body.length; at += 1000) {
      c.send(p.body.slice(at, at + 1000));
      if (at % 10_000 === 0) await sleep(50);
    }
    const r = await c.response();
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /"offset":1/);
    c.close();
  });

  it('takes Expect: 100-continue, and a body over the limit gets 413 from node:http', async () => {
    const c = await RawConnection.open(t.port);
    const p = post('/api/publish', JSON.stringify({ channel: 'expect', data: 1 }), 'Expect: 100-continue\r\n');
    c.send(p.head);
    assert.equal((await c.response()).status, 100);
    c.send(p.body);
    assert.equal((await c.response()).status, 200);
    const big = post('/api/publish', JSON.stringify({ channel: 'expect', data: 'y'.repeat(100_000) }));
    c.send(big.head + big.body);
    assert.equal((await c.response()).status, 413);
    c.close();
  });

  it('answers oversized and malformed heads with 431 and 400, and a bystander keeps receiving', async () => {
    const bystander = await bare(t, '/stream?channel=by', '', (body) => body.includes('"subscribed"'));
    const heads = [
      [`GET /sse HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, 431],
      ['GET /sse HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n', 400],
      ['GET /sse HTTP/1.1\nHost: x\n\n', 400],
      ['GET /sse HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n', 400],
      ['POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
      ['GET /sse HTTP/1.1\r\n\r\n', 400],
    ] as const;
    for (const [head, status] of heads) {
      const c = await RawConnection.open(t.port);
      c.send(head);
      const r = await c.response();
      assert.equal(r.status, status, head.slice(0, 40));
      assert.equal(r.headers.connection, 'close');
      assert.match(r.body, /^\{"error":/);
      await c.whenClosed();
    }
    await t.publish('by', 'still here');
    assert.match(await bystander.c.read((text) => text.includes('still here')), /"data":"still here"/);
    bystander.c.close();
  });

  it('closes the session once when a bare client goes away', async () => {
    const before = await readyConnections(t);
    const streams = await Promise.all([1, 2, 3].map(() => bare(t, '/sse?channel=gone', '', (b) => b.includes('"subscribed"'))));
    assert.equal(await readyConnections(t), before + 3);
    for (const s of streams) s.c.close();
    const deadline = Date.now() + 3000;
    while ((await readyConnections(t)) !== before && Date.now() < deadline) await sleep(20);
    assert.equal(await readyConnections(t), before);
  });

  it('drops a connection whose head does not arrive in time (408 when part of it came)', async () => {
    const partial = await RawConnection.open(t.port);
    partial.send('GET /sse HTTP/1.1\r\nHost: x\r\n');
    const silent = await RawConnection.open(t.port);
    const started = Date.now();
    const r = await partial.response(undefined, 15_000);
    assert.equal(r.status, 408);
    assert.ok(Date.now() - started >= 9000, `answered after ${Date.now() - started} ms`);
    await silent.whenClosed(3000);
    assert.equal(silent.closed, true);
  });
});

describe('the front door on SIGTERM', () => {
  it('tells streams to reconnect (3000), answers waiting polls, then exits', async () => {
    const t = await startTidings();
    const untilConnected = (body: string) => body.includes('"subscribed"');
    const sse = await bare(t, '/sse?channel=d', '', untilConnected);
    const sseNode = await viaNodeHttp(t, '/sse?channel=d', '', untilConnected);
    const first = JSON.parse((await bare(t, '/poll?channel=d&wait=0')).r.body) as { cursor: string };
    const pollBare = await RawConnection.open(t.port);
    pollBare.get(`/poll?cursor=${first.cursor}&wait=30`);
    const pollNode = await RawConnection.open(t.port);
    pollNode.get('/healthz');
    await pollNode.response();
    pollNode.get(`/poll?cursor=${first.cursor}&wait=30`);
    await sleep(300);
    const exited = t.kill('SIGTERM');
    for (const s of [sse, sseNode]) {
      assert.match(await s.c.read((text) => text.includes('"disconnect"')), /"type":"disconnect","code":3000/);
      await s.c.whenClosed();
    }
    const answers = await Promise.all([pollBare.response(), pollNode.response()]);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.deepEqual(JSON.parse(a.body), { messages: [], cursor: first.cursor });
    }
    assert.equal(answers[0]!.headers.connection, 'close');
    assert.equal(await exited, 0);
  });
});

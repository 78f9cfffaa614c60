import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { TidingsNode, createLogger } from '@tidings/server';
import { RawConnection } from '../helpers/raw-http.js';
import { API_KEY, startTidings, type TidingsProcess } from '../helpers/tidings.js';

type ErrorBody = { error: { code: number; message: string } };

/** Sends a POST whose body trickles in one byte per 200 ms; resolves with the response and when it came. */
async function trickle(port: number, path: string): Promise<{ status: number; body: ErrorBody; took: number }> {
  const c = await RawConnection.open(port);
  const started = Date.now();
  c.send(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`);
  const timer = setInterval(() => c.send(' '), 200);
  try {
    const r = await c.response(undefined, 8000);
    const took = Date.now() - started;
    await c.whenClosed();
    return { status: r.status, body: JSON.parse(r.body) as ErrorBody, took };
  } finally {
    clearInterval(timer);
    c.close();
  }
}

/** The status a WebSocket handshake gets: 101 when it opens. */
function wsStatus(url: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('same origin, request targets and request deadlines', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ args: ['--body-timeout', '2'] });
  });
  after(async () => {
    await t.stop();
  });

  it('same origin (no --allowed-origins) means the same scheme, host and port', async () => {
    const host = `127.0.0.1:${t.port}`;
    const cases: Array<[string, number]> = [
      [`http://${host}`, 200],
      [`https://${host}`, 403],
      [`http://127.0.0.1:${t.port + 1}`, 403],
      ['http://127.0.0.1', 403],
    ];
    for (const [origin, status] of cases) {
      const c = await RawConnection.open(t.port);
      c.get('/poll?channel=news&wait=0', `Origin: ${origin}\r\n`);
      const r = await c.response();
      c.close();
      assert.equal(r.status, status, `/poll from ${origin}`);
      if (status === 403) assert.equal((JSON.parse(r.body) as ErrorBody).error.code, 103);
      assert.equal(await wsStatus(t.wsUrl, origin), status === 200 ? 101 : 403, `/ws from ${origin}`);
    }
  });

  it('never reads a path with an empty segment as another host or route', async () => {
    for (const path of ['//api/publish', '//evil.example/api/publish', '/api//publish', '/\\evil.example/api/publish']) {
      const res = await t.api('POST', path, { channel: 'target', data: path });
      assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
      assert.ok([107, 114].includes((res.body as ErrorBody).error.code), path);
    }
    for (const path of ['//sse?channel=target', '//evil.example/poll?channel=target&wait=0', '//healthz']) {
      const c = await RawConnection.open(t.port);
      c.get(path);
      const r = await c.response();
      c.close();
      assert.equal(r.status, 400, path);
    }
    const h = await t.api('GET', '/api/history?channel=target');
    assert.deepEqual((h.body as { publications: unknown[] }).publications, [], 'nothing was published');
  });

  it('answers 408 (JSON, code 107) to a request body that trickles in slower than --body-timeout', async () => {
    for (const path of ['/api/publish', '/emulation']) {
      const r = await trickle(t.port, path);
      assert.equal(r.status, 408, path);
      assert.equal(r.body.error.code, 107);
      assert.ok(r.took >= 1900 && r.took < 4500, `${path}: answered after ${r.took} ms`);
    }
    const ok = await t.api('POST', '/api/publish', { channel: 'after', data: 1 });
    assert.equal(ok.status, 200, 'a prompt request still passes');
  });

  it('answers 408 to a request head that trickles in slower than --body-timeout (under the 10 s head limit)', async () => {
    const c = await RawConnection.open(t.port);
    const started = Date.now();
    const head = `POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${API_KEY}\r\n${'X-Slow: y\r\n'.repeat(20)}`;
    let sent = 0;
    const timer = setInterval(() => { if (sent < head.length) c.send(head[sent++]!); }, 50);
    try {
      const r = await c.response(undefined, 15_000);
      const took = Date.now() - started;
      assert.equal(r.status, 408);
      assert.equal((JSON.parse(r.body) as ErrorBody).error.code, 107);
      assert.ok(took >= 1900 && took < 4500, `answered after ${took} ms`);
    } finally {
      clearInterval(timer);
      c.close();
    }
  });
});

describe('bodyTimeout in the library', () => {
  it('new TidingsNode({bodyTimeout}) bounds request bodies the same way', async () => {
    const node = new TidingsNode({ bodyTimeout: 1, apiKey: API_KEY, logger: createLogger('silent') });
    const { port } = await node.listen(0, '127.0.0.1');
    try {
      const r = await trickle(port, '/api/publish');
      assert.equal(r.status, 408);
      assert.equal(r.body.error.code, 107);
      assert.ok(r.took >= 900 && r.took < 3000, `answered after ${r.took} ms`);
    } finally {
      await node.close();
    }
  });
});

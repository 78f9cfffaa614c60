import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ERROR_CODES } from '@tidings/protocol';
import { API_KEY, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

type ErrorBody = { error: { code: number; message: string } };

describe('server API', () => {
  let t: TidingsProcess;
  let keyless: TidingsProcess;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({ namespaces: { room: { presence: true, historySize: 10 }, live: { historySize: 0 } } }));
    [t, keyless] = await Promise.all([
      startTidings({ args: ['--config', config, '--max-message-size', '2048'] }),
      startTidings({ apiKey: null }),
    ]);
  });
  after(async () => {
    await Promise.all([t.stop(), keyless.stop()]);
  });

  it('refuses every call with 401 and says how to enable it when no key is configured', async () => {
    const res = await fetch(`${keyless.url}/api/publish`, { method: 'POST', headers: { 'x-api-key': 'anything' }, body: '{}' });
    assert.equal(res.status, 401);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 101);
    assert.match(body.error.message, /--api-key|TIDINGS_API_KEY/);
  });

  it('refuses a missing or wrong key with 401', async () => {
    const missing = await fetch(`${t.url}/api/channels`);
    assert.equal(missing.status, 401);
    assert.equal(((await missing.json()) as ErrorBody).error.code, 101);
    const wrong = await t.api('GET', '/api/channels', undefined, { 'x-api-key': 'nope' });
    assert.equal(wrong.status, 401);
  });

  it('publishes, idempotently, and refuses a reused key with other data (409)', async () => {
    const a = await t.api('POST', '/api/publish', { channel: 'orders', data: { id: 1 }, idempotencyKey: 'order-1' });
    const b = await t.api('POST', '/api/publish', { channel: 'orders', data: { id: 1 }, idempotencyKey: 'order-1' });
    assert.equal(a.status, 200);
    assert.deepEqual(b.body, a.body);
    const c = await t.api('POST', '/api/publish', { channel: 'orders', data: { id: 2 }, idempotencyKey: 'order-1' });
    assert.equal(c.status, 409);
    assert.equal((c.body as ErrorBody).error.code, 117);
    const h = await t.api('GET', '/api/history?channel=orders');
    assert.equal((h.body as { publications: unknown[] }).publications.length, 1);
  });

  it('broadcasts to many channels with a result per channel', async () => {
    const res = await t.api('POST', '/api/broadcast', { channels: ['b1', 'b2', 'nosuch:x'], data: 'hello' });
    assert.equal(res.status, 200);
    const results = (res.body as { results: Array<{ channel: string; offset?: number; error?: { code: number } }> }).results;
    assert.equal(results[0]!.offset, 1);
    assert.equal(results[1]!.offset, 1);
    assert.equal(results[2]!.error?.code, 102);
    assert.equal((await t.api('POST', '/api/broadcast', { channels: [], data: 1 })).status, 400);
    const tooMany = await t.api('POST', '/api/broadcast', { channels: Array.from({ length: 1001 }, (_, i) => `c${i}`), data: 1 });
    assert.equal(tooMany.status, 413);
    assert.equal((tooMany.body as ErrorBody).error.code, 112);
  });

  it('a broadcast repeated with the key it returned publishes nothing twice, and refuses that key with other data', async () => {
    type Result = { channel: string; offset?: number; epoch?: string; error?: { code: number } };
    const first = await t.api('POST', '/api/broadcast', { channels: ['rb-1', 'rb-2'], data: { n: 1 } });
    const { results, idempotencyKey } = first.body as { results: Result[]; idempotencyKey: string };
    assert.deepEqual(results.map((r) => r.offset), [1, 1]);
    const again = await t.api('POST', '/api/broadcast', { channels: ['rb-1', 'rb-2', 'rb-3'], data: { n: 1 }, idempotencyKey });
    const second = (again.body as { results: Result[]; idempotencyKey: string });
    assert.equal(second.idempotencyKey, idempotencyKey);
    assert.deepEqual(second.results.slice(0, 2), results);
    assert.equal(second.results[2]!.offset, 1);
    const other = await t.api('POST', '/api/broadcast', { channels: ['rb-1', 'rb-4'], data: { n: 2 }, idempotencyKey });
    const third = (other.body as { results: Result[] }).results;
    assert.equal(third[0]!.error?.code, 117);
    assert.equal(third[1]!.offset, 1);
    for (const channel of ['rb-1', 'rb-2', 'rb-3']) {
      const h = await t.api('GET', `/api/history?channel=${channel}`);
      assert.deepEqual((h.body as { publications: Array<{ data: unknown }> }).publications.map((p) => p.data), [{ n: 1 }], channel);
    }
  });

  it('returns history after `since` with a limit', async () => {
    for (let i = 1; i <= 5; i++) await t.publish('room:h', i);
    const res = await t.api('GET', '/api/history?channel=room:h&since=2&limit=2');
    const body = res.body as { position: { offset: number }; publications: Array<{ offset: number; data: number }> };
    assert.deepEqual(body.publications.map((p) => p.data), [3, 4]);
    assert.equal(body.position.offset, 5);
    const off = await t.api('GET', '/api/history?channel=live:x');
    assert.equal(off.status, 400);
    assert.equal((off.body as ErrorBody).error.code, 108);
    assert.equal((await t.api('GET', '/api/history?channel=room:h&since=abc')).status, 400);
  });

  it('lists presence and channels with subscribers', async () => {
    const c = await WsClient.connect(t.wsUrl, await makeToken('pat'));
    await c.command('subscribe', { channel: 'room:p' });
    const presence = await t.api('GET', '/api/presence?channel=room:p');
    assert.deepEqual(Object.values((presence.body as { clients: Record<string, { user: string }> }).clients).map((x) => x.user), ['pat']);
    const channels = await t.api('GET', '/api/channels');
    assert.ok((channels.body as { channels: Array<{ channel: string; subscribers: number }> }).channels.some((x) => x.channel === 'room:p' && x.subscribers === 1));
    c.close();
  });

  it('reads a chunked body in several pieces, and answers one over the limit with 413 (no content-length to refuse it early)', async () => {
    const chunked = (parts: string[]): Promise<Response> => fetch(`${t.url}/api/publish`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: new ReadableStream<Uint8Array>({
        async pull(c) {
          const part = parts.shift();
          if (part === undefined) return c.close();
          await new Promise((r) => setTimeout(r, 5));
          c.enqueue(new TextEncoder().encode(part));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    const ok = await chunked(['{"channel":"chunk', 'ed","data":{"é":', '1}}']);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { offset: number }).offset, 1);
    const big = await chunked(['{"channel":"chunked","data":"', 'x'.repeat(1500), 'x'.repeat(1500), '"}']);
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as ErrorBody).error.code, 112);
    const h = await t.api('GET', '/api/history?channel=chunked');
    assert.deepEqual((h.body as { publications: Array<{ data: unknown }> }).publications.map((p) => p.data), [{ é: 1 }]);
  });

  it('answers bad bodies with documented 4xx errors', async () => {
    const cases: Array<[string, string, unknown, number, number]> = [
      ['POST', '/api/publish', 'not json', 400, 107],
      ['POST', '/api/publish', [1, 2], 400, 107],
      ['POST', '/api/publish', { channel: 'news' }, 400, 107],
      ['POST', '/api/publish', { channel: 'bad name', data: 1 }, 400, 111],
      ['POST', '/api/publish', { channel: 'nosuch:x', data: 1 }, 404, 102],
      ['POST', '/api/publish', { channel: 'news', data: 'x'.repeat(4000) }, 413, 112],
      ['POST', '/api/disconnect', { user: '' }, 400, 107],
      ['GET', '/api/presence?channel=news', undefined, 400, 108],
      ['GET', '/api/nothing', undefined, 404, 114],
      ['DELETE', '/api/publish', undefined, 404, 114],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await t.api(method, path, body);
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 40)}`);
      assert.equal((res.body as ErrorBody).error.code, code, `${method} ${path}`);
      assert.ok((res.body as ErrorBody).error.message.length > 0);
    }
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });

  it('serves an OpenAPI document that lists every endpoint and error code', async () => {
    const res = await fetch(`${t.url}/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: { ErrorBody: { properties: { code: { enum: number[] } } } } } };
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/api/publish', '/api/broadcast', '/api/history', '/api/presence', '/api/channels', '/api/disconnect', '/api/unsubscribe']) {
      assert.ok(doc.paths[p], `${p} documented`);
    }
    assert.deepEqual(doc.components.schemas.ErrorBody.properties.code.enum, ERROR_CODES.map((e) => e.code));
  });

  it('answers /healthz and /readyz', async () => {
    assert.deepEqual(await (await fetch(`${t.url}/healthz`)).json(), { status: 'ok' });
    const ready = (await (await fetch(`${t.url}/readyz`)).json()) as { status: string; engine: string };
    assert.equal(ready.status, 'ready');
    assert.equal(ready.engine, 'memory');
  });
});

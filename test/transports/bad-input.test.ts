import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { Bystander } from '../helpers/bystander.js';

type ErrorBody = { error: { code: number; message: string } };

describe('bad input on the HTTP transports', () => {
  let t: TidingsProcess;
  let bystander: Bystander;

  before(async () => {
    t = await startTidings({ args: ['--max-message-size', '4096', '--allowed-origins', 'https://app.example'] });
    bystander = await Bystander.start(t);
  });
  after(async () => {
    await t.stop();
  });

  async function expectError(path: string, init: RequestInit, status: number, code: number): Promise<void> {
    const res = await fetch(`${t.url}${path}`, init);
    assert.equal(res.status, status, `${init.method ?? 'GET'} ${path}`);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, code, `${init.method ?? 'GET'} ${path}: ${body.error.message}`);
    assert.ok(body.error.message.length > 0);
  }

  it('answers each bad request with its documented 4xx JSON error', async () => {
    const token = await makeToken('u1');
    const cases: Array<[string, RequestInit, number, number]> = [
      ['/sse?channel=news', { headers: { 'last-event-id': 'garbage' } }, 400, 107],
      ['/sse?channel=news', { headers: { 'last-event-id': 'news~1~e~extra' } }, 400, 107],
      ['/stream?channel=news&cursor=news~x~e', {}, 400, 107],
      ['/poll?cursor=%%%', {}, 400, 107],
      ['/sse?channel=bad%20name', {}, 400, 111],
      ['/sse?channel=nosuchns:x', {}, 404, 102],
      ['/poll?channel=nosuchns:x', {}, 404, 102],
      ['/sse?channel=user:2', { headers: { authorization: `Bearer ${token}` } }, 403, 103],
      ['/sse?channel=news&access_token=abc', {}, 400, 107],
      ['/sse?channel=news', { headers: { authorization: 'Basic dTpw' } }, 401, 101],
      ['/sse?channel=news&token=not-a-jwt', {}, 401, 101],
      ['/poll?channel=news&wait=61', {}, 400, 107],
      ['/poll?channel=news&wait=-1', {}, 400, 107],
      ['/poll?channel=news&wait=soon', {}, 400, 107],
      ['/sse?channel=news', { headers: { origin: 'https://evil.example' } }, 403, 103],
      ['/emulation', { method: 'POST', body: 'not json' }, 400, 107],
      ['/emulation', { method: 'POST', body: JSON.stringify({ commands: [] }) }, 400, 107],
      ['/emulation', { method: 'POST', body: JSON.stringify({ client: 'nobody', commands: [{ id: 1, type: 'ping' }] }) }, 404, 114],
      ['/emulation', { method: 'POST', body: JSON.stringify({ commands: [{ id: 1, type: 'ping' }], pad: 'x'.repeat(5000) }) }, 413, 112],
      ['/emulation', { method: 'GET' }, 405, 114],
    ];
    for (const [path, init, status, code] of cases) await expectError(path, init, status, code);
    await bystander.stillReceives();
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });

  it('answers a CORS preflight for an allowed origin and refuses others', async () => {
    const ok = await fetch(`${t.url}/sse`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Last-Event-ID/);
    const bad = await fetch(`${t.url}/poll`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(bad.status, 403);
  });
});

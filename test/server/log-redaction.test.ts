import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { API_KEY, JWT_SECRET, freePort, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { RawStomp } from '../stomp/helpers.js';

/** Opens an HTTP transport, reads its first bytes, and lets go. */
async function touch(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  const reader = res.body?.getReader();
  await reader?.read();
  ac.abort();
  await reader?.cancel().catch(() => {});
  return res.status;
}

async function emulate(t: TidingsProcess, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${t.url}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

async function stompSession(open: () => Promise<RawStomp>, headers: Array<[string, string]>): Promise<void> {
  const s = await open();
  await s.connect(headers);
  s.frame('SUBSCRIBE', [['id', '1'], ['destination', '/topic/news']]);
  s.frame('DISCONNECT', [['receipt', 'bye']]);
  await s.next('RECEIPT');
}

async function stompRefused(open: () => Promise<RawStomp>, passcode: string): Promise<void> {
  const s = await open();
  s.frame('CONNECT', [['accept-version', '1.2'], ['host', 'x'], ['login', 'u'], ['passcode', passcode]]);
  await s.next('ERROR');
  await s.until(() => s.closed);
}

describe('no secret reaches the log', () => {
  it('tokens, API keys, cookies and STOMP passcodes stay out of every line at --log-level debug, on every transport and refusal', async () => {
    const stompPort = await freePort();
    const t = await startTidings({ args: ['--stomp-port', String(stompPort), '--log-level', 'debug', '--shutdown-timeout', '20'], env: { TIDINGS_LOG_LEVEL: '' } });
    const valid = await makeToken('alice');
    const inCookie = await makeToken('bob');
    const inHeader = await makeToken('dave');
    const passcode = await makeToken('carol');
    const forged = await makeToken('mallory', { secret: 'another-secret-that-is-long-enough-for-hs256' });
    const expired = await makeToken('eve', { expiresIn: -60 });
    const wrongKey = 'WRONG-API-KEY-d41d8cd98f00b204';
    const otherCookie = 'sessionid=COOKIE-S3CRET-9e107d9d372bb682';
    const cookie = `${otherCookie}; tidings_token=${inCookie}`;
    try {
      // accepted connections on every transport, credentials in each place they may ride
      const byQuery = await WsClient.open(`${t.wsUrl}?token=${valid}`);
      await byQuery.command('connect', {});
      await byQuery.command('subscribe', { channel: 'news' });
      await byQuery.command('refresh', { token: valid });
      const byCommand = await WsClient.connect(t.wsUrl, valid);
      const byHeader = await WsClient.open(t.wsUrl, { headers: { authorization: `Bearer ${inHeader}`, cookie } });
      await byHeader.command('connect', {});
      await t.publish('news', 'hello');
      assert.equal(await touch(`${t.url}/sse?channel=news&token=${valid}`), 200);
      assert.equal(await touch(`${t.url}/stream?channel=news`, { authorization: `Bearer ${valid}` }), 200);
      assert.equal(await touch(`${t.url}/poll?channel=news&wait=0`, { cookie }), 200);
      assert.equal(await emulate(t, { commands: [{ id: 1, type: 'ping' }] }, { authorization: `Bearer ${valid}`, cookie }), 200);
      assert.equal(await emulate(t, { commands: [{ id: 1, type: 'connect', token: valid }] }), 200);
      await stompSession(() => RawStomp.ws(t.wsUrl), [['login', 'carol'], ['passcode', passcode]]);
      await stompSession(() => RawStomp.tcp(stompPort), [['authorization', `Bearer ${passcode}`]]);

      // refusals, with the secret in each place
      assert.equal(await touch(`${t.url}/sse?channel=news&token=${forged}`), 401);
      assert.equal(await touch(`${t.url}/sse?channel=news&token=${valid}`, { origin: 'https://evil.example' }), 403);
      assert.equal(await touch(`${t.url}/poll?channel=news&wait=99&token=${valid}`), 400);
      assert.equal(await touch(`${t.url}/stream?channel=news`, { cookie: `${otherCookie}; tidings_token=${expired}` }), 401);
      assert.equal(await emulate(t, { commands: [{ id: 1, type: 'ping' }] }, { authorization: `Bearer ${forged}` }), 401);
      await assert.rejects(WsClient.open(`${t.wsUrl}?token=${forged}`), /401/);
      const late = await WsClient.open(t.wsUrl);
      await assert.rejects(late.command('connect', { token: expired }), /109/);
      await late.closed();
      await stompRefused(() => RawStomp.ws(t.wsUrl), forged);
      await stompRefused(() => RawStomp.tcp(stompPort), expired);
      assert.equal((await t.api('POST', '/api/publish', { channel: 'x', data: 1 }, { 'x-api-key': wrongKey })).status, 401);
      assert.equal((await t.api('POST', '/api/publish', { channel: 'x', data: 1 }, { 'x-api-key': '', authorization: `Bearer ${wrongKey}` })).status, 401);
      const raw = await RawConnection.open(t.port);
      raw.send(`GET //sse?token=${valid} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`);
      await raw.read((text) => text.includes('\r\n\r\n'));
      raw.close();
      const broken = await RawConnection.open(t.port);
      broken.send(`GET /sse?token=${valid} HTTP/1.1\r\nX-Api-Key ${API_KEY}\r\n\r\n`);
      await broken.read((text) => text.includes('\r\n\r\n'));
      broken.close();

      // the server's own disconnects, then a drain
      assert.equal((await t.api('POST', '/api/disconnect', { user: 'alice' })).status, 200);
      assert.equal(await byQuery.closed(), 3502);
      const exited = t.kill('SIGTERM');
      assert.equal(await byHeader.closed(), 3000);
      assert.equal(await exited, 0);
      byCommand.close();
    } finally {
      await t.stop();
    }

    const lines = t.output.split('\n').filter((l) => l !== '');
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    const msgs = new Set(parsed.map((l) => l.msg));
    for (const msg of ['connection opened', 'connection closed', 'refused', 'forced disconnect', 'draining', 'engine down']) assert.ok(msgs.has(msg), `a "${msg}" line was logged`);
    assert.ok(parsed.some((l) => l.level === 'debug'), 'debug lines were on');
    const secrets = {
      valid, inCookie, inHeader, passcode, forged, expired, wrongKey, apiKey: API_KEY, jwtSecret: JWT_SECRET, cookie: 'COOKIE-S3CRET',
      signature: valid.split('.')[2]!, passcodeSignature: passcode.split('.')[2]!, bearer: 'Bearer ',
    };
    for (const [name, secret] of Object.entries(secrets)) {
      const hit = lines.find((l) => l.includes(secret));
      assert.equal(hit, undefined, `${name} appears in the log`);
    }
  });
});

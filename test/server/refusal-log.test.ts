import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { RawConnection } from '../helpers/raw-http.js';
import { freePort, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { RawStomp } from '../stomp/helpers.js';

interface LogLine { level: string; msg: string; reason?: string; transport?: string; code?: number; origin?: string; remote?: string; userAgent?: string }

function refusals(t: TidingsProcess, from = 0): LogLine[] {
  return t.output.slice(from).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine).filter((l) => l.msg === 'refused');
}

/** A token signed with no algorithm at all. */
function algNoneToken(sub: string): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub })}.`;
}

/** Runs `act`, then checks that exactly one `refused` line came of it, with these fields. */
async function oneRefusal(t: TidingsProcess, expected: Partial<LogLine>, act: () => Promise<unknown>): Promise<void> {
  const mark = t.output.length;
  await act();
  const deadline = Date.now() + 3000;
  while (refusals(t, mark).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 150));
  const lines = refusals(t, mark);
  assert.equal(lines.length, 1, `one line for ${JSON.stringify(expected)}, got ${JSON.stringify(lines)}`);
  const line = lines[0]!;
  assert.equal(line.level, 'info');
  for (const [k, v] of Object.entries(expected)) assert.equal(line[k as keyof LogLine], v, `${k} of ${JSON.stringify(line)}`);
}

async function waitFor(t: TidingsProcess, what: (l: LogLine) => boolean): Promise<LogLine> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const line = refusals(t).find(what);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no such refusal in the log:\n${t.output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('refused connections in the log', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ args: ['--max-connections', '1'], env: { TIDINGS_LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await t.stop();
  });

  it('logs each refusal at info with its reason, never the token or key', async () => {
    const forged = await makeToken('mallory', { secret: 'another-secret-that-is-long-enough-for-hs256' });
    const origin = await fetch(`${t.url}/sse?channel=news`, { headers: { origin: 'https://evil.example', 'user-agent': 'refusal-test' } });
    assert.equal(origin.status, 403);
    const line = await waitFor(t, (l) => l.reason === 'origin');
    assert.deepEqual([line.level, line.transport, line.code, line.origin, line.remote, line.userAgent], ['info', '/sse', 103, 'https://evil.example', '127.0.0.1', 'refusal-test']);

    assert.equal((await fetch(`${t.url}/sse?channel=news&token=${forged}`)).status, 401);
    assert.equal((await waitFor(t, (l) => l.reason === 'auth' && l.transport === '/sse')).code, 101);
    assert.equal((await fetch(`${t.url}/poll?channel=news`, { headers: { authorization: `Bearer ${forged}` } })).status, 401);
    await waitFor(t, (l) => l.reason === 'auth' && l.transport === '/poll');
    await assert.rejects(WsClient.open(`${t.wsUrl}?token=${forged}`), /handshake refused: 401/);
    await waitFor(t, (l) => l.reason === 'auth' && l.transport === '/ws');
    const late = await WsClient.open(t.wsUrl);
    await assert.rejects(late.command('connect', { token: forged }), /101/);
    assert.equal(await late.closed(), 3500);
    await waitFor(t, (l) => l.reason === 'auth' && l.transport === 'websocket');
    assert.equal((await t.api('POST', '/api/publish', { channel: 'x', data: 1 }, { 'x-api-key': 'wrong-key-S3CRET' })).status, 401);
    await waitFor(t, (l) => l.reason === 'auth' && l.transport === '/api/publish');

    const stomp = new WebSocket(t.wsUrl, 'v12.stomp');
    await new Promise((resolve) => stomp.once('open', resolve));
    stomp.send(`CONNECT\naccept-version:1.2\nhost:x\npasscode:${forged}\n\n\0`);
    await new Promise((resolve) => stomp.once('close', resolve));
    assert.equal((await waitFor(t, (l) => l.reason === 'auth' && l.transport === 'stomp-websocket')).code, 101);

    const first = await WsClient.connect(t.wsUrl);
    const second = await WsClient.open(t.wsUrl);
    assert.equal(await second.closed(), 3006);
    await waitFor(t, (l) => l.reason === 'limit' && l.transport === '/ws');
    first.close();

    assert.ok(!t.output.includes(forged), 'the token is not logged');
    assert.ok(!t.output.includes(forged.split('.')[2]!), 'nor its signature');
    assert.ok(!t.output.includes('wrong-key-S3CRET'), 'the API key is not logged');
  });

  it('rate-limits a flood of refusals per reason', async () => {
    const before = refusals(t).filter((l) => l.reason === 'bad_request').length;
    await Promise.all(Array.from({ length: 40 }, () => fetch(`${t.url}/poll?channel=news&wait=99`).then((r) => r.arrayBuffer())));
    await new Promise((r) => setTimeout(r, 200));
    const after = refusals(t).filter((l) => l.reason === 'bad_request').length;
    assert.equal(after - before, 10, 'ten lines for 40 refusals in one window');
  });
});

describe('every kind of refusal: one line each, with its reason', () => {
  it('origin, auth on each transport, limits, bad requests, and unavailable while draining', async () => {
    const stompPort = await freePort();
    const t = await startTidings({
      args: ['--max-connections', '2', '--max-subscriptions', '1', '--max-message-size', '1024', '--stomp-port', String(stompPort), '--shutdown-timeout', '20'],
      env: { TIDINGS_LOG_LEVEL: 'info' },
    });
    const forged = await makeToken('mallory', { secret: 'another-secret-that-is-long-enough-for-hs256' });
    const expired = await makeToken('eve', { expiresIn: -60 });
    const none = algNoneToken('trudy');
    const evil = { origin: 'https://evil.example' };
    const read = (r: Response): Promise<number> => r.arrayBuffer().then(() => r.status);
    try {
      await oneRefusal(t, { reason: 'origin', transport: '/sse', code: 103 }, async () => assert.equal(await read(await fetch(`${t.url}/sse?channel=news`, { headers: evil })), 403));
      await oneRefusal(t, { reason: 'origin', transport: '/ws' }, () => assert.rejects(WsClient.open(t.wsUrl, { headers: evil }), /403/));

      await oneRefusal(t, { reason: 'auth', transport: '/stream', code: 101 }, async () => assert.equal(await read(await fetch(`${t.url}/stream?channel=news&token=${forged}`)), 401));
      await oneRefusal(t, { reason: 'auth', transport: '/sse', code: 109 }, async () => assert.equal(await read(await fetch(`${t.url}/sse?channel=news`, { headers: { cookie: `tidings_token=${expired}` } })), 401));
      await oneRefusal(t, { reason: 'auth', transport: '/poll', code: 101 }, async () => assert.equal(await read(await fetch(`${t.url}/poll?channel=news`, { headers: { authorization: `Bearer ${none}` } })), 401));
      await oneRefusal(t, { reason: 'auth', transport: '/ws', code: 101 }, () => assert.rejects(WsClient.open(`${t.wsUrl}?token=${none}`), /401/));
      await oneRefusal(t, { reason: 'auth', transport: 'websocket', code: 109 }, async () => {
        const c = await WsClient.open(t.wsUrl);
        await assert.rejects(c.command('connect', { token: expired }), /109/);
        assert.equal(await c.closed(), 3005);
      });
      for (const [transport, open] of [['stomp-websocket', () => RawStomp.ws(t.wsUrl)], ['stomp-tcp', () => RawStomp.tcp(stompPort)]] as const) {
        await oneRefusal(t, { reason: 'auth', transport, code: 101 }, async () => {
          const stomp = await open();
          stomp.frame('CONNECT', [['accept-version', '1.2'], ['host', 'x'], ['login', 'u'], ['passcode', none]]);
          await stomp.next('ERROR');
          await stomp.until(() => stomp.closed);
        });
      }
      await oneRefusal(t, { reason: 'auth', transport: '/api/publish', code: 101 }, async () => {
        assert.equal((await t.api('POST', '/api/publish', { channel: 'x', data: 1 }, { 'x-api-key': 'wrong-key-S3CRET' })).status, 401);
      });

      const subscriber = await WsClient.connect(t.wsUrl);
      await subscriber.command('subscribe', { channel: 'a' });
      await oneRefusal(t, { reason: 'limit', transport: 'websocket', code: 106 }, () => assert.rejects(subscriber.command('subscribe', { channel: 'b' }), /106/));
      await oneRefusal(t, { reason: 'limit', transport: 'websocket', code: 1009 }, async () => {
        const big = await WsClient.open(t.wsUrl);
        big.sendRaw(JSON.stringify({ id: 1, type: 'connect', pad: 'x'.repeat(2000) }));
        assert.equal(await big.closed(), 1009);
      });
      await oneRefusal(t, { reason: 'limit', transport: '/api/publish', code: 112 }, async () => {
        assert.equal((await t.api('POST', '/api/publish', { channel: 'x', data: 'x'.repeat(2000) })).status, 413);
      });
      await oneRefusal(t, { reason: 'limit', transport: 'stomp-websocket', code: 1009, remote: '127.0.0.1' }, async () => {
        const stomp = await RawStomp.ws(t.wsUrl);
        await stomp.connect();
        stomp.frame('SEND', [['destination', '/topic/news']], 'x'.repeat(2000));
        await stomp.until(() => stomp.closed);
        assert.equal(stomp.closeCode, 1009);
      });
      const second = await WsClient.connect(t.wsUrl);
      await oneRefusal(t, { reason: 'limit', transport: '/ws', code: 3006 }, async () => assert.equal(await (await WsClient.open(t.wsUrl)).closed(), 3006));
      second.close();
      await second.closed();

      await oneRefusal(t, { reason: 'bad_request', transport: 'websocket', code: 1007 }, async () => {
        const c = await WsClient.open(t.wsUrl);
        c.ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });
        assert.equal(await c.closed(), 1007);
      });
      await oneRefusal(t, { reason: 'bad_request', transport: '/poll', code: 107 }, async () => assert.equal(await read(await fetch(`${t.url}/poll?channel=news&wait=99`)), 400));

      // a WebSocket client that never answers the close frame keeps the drain going
      const stuck = await RawConnection.open(t.port);
      stuck.get('/ws', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n');
      assert.match(await stuck.read((text) => text.includes('\r\n\r\n')), /^HTTP\/1\.1 101 /);
      const exited = t.kill('SIGTERM');
      assert.equal(await subscriber.closed(), 3000);
      await oneRefusal(t, { reason: 'unavailable', transport: '/sse', code: 118 }, async () => assert.equal(await read(await fetch(`${t.url}/sse?channel=news`)), 503));
      await oneRefusal(t, { reason: 'unavailable', transport: '/poll', code: 118 }, async () => assert.equal(await read(await fetch(`${t.url}/poll?channel=news&wait=0`)), 503));
      await oneRefusal(t, { reason: 'unavailable', transport: '/ws', code: 118 }, () => assert.rejects(WsClient.open(t.wsUrl), /503/));
      stuck.close();
      assert.equal(await exited, 0);

      for (const secret of [forged, expired, none, forged.split('.')[2]!, expired.split('.')[2]!, 'wrong-key-S3CRET']) {
        assert.ok(!t.output.includes(secret), `${secret} is not in the log`);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('wrong /emulation secrets', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings({ env: { TIDINGS_LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await t.stop();
  });

  async function authRefusals(): Promise<number> {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('tidings_refusals_total{reason="auth"} '));
    return Number(line?.split(' ')[1] ?? 0);
  }

  it('counts and logs a wrong secret for a real session as an auth refusal, answered like an unknown session', async () => {
    const abort = new AbortController();
    const stream = await fetch(`${t.url}/stream`, { signal: abort.signal });
    const reader = stream.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    let text = '';
    while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
    const connected = JSON.parse(text.slice(0, text.indexOf('\n'))) as { type: string; client: string; secret: string };
    assert.equal(connected.type, 'connected');
    try {
      const before = await authRefusals();
      const guess = 'Guessed0Secret0That0Is0Wrong0xyz';
      const wrong = await oneRefusalOf(t, () => fetch(`${t.url}/emulation`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'brute' },
        body: JSON.stringify({ client: connected.client, secret: guess, commands: [{ id: 1, type: 'subscribe', channel: 'news' }] }),
      }));
      assert.equal(wrong.res.status, 404);
      const body = (await wrong.res.json()) as { error: { code: number; message: string } };
      assert.equal(body.error.code, 114);
      assert.equal(await authRefusals(), before + 1);
      assert.deepEqual([wrong.line.reason, wrong.line.transport, wrong.line.code, wrong.line.userAgent], ['auth', '/emulation', 114, 'brute']);
      assert.ok(!t.output.includes(guess), 'the guessed secret is not logged');
      assert.ok(!t.output.includes(connected.secret), 'nor the real one');

      const unknown = await fetch(`${t.url}/emulation`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client: 'no-such-client', secret: guess, commands: [{ id: 1, type: 'subscribe', channel: 'news' }] }),
      });
      const unknownBody = (await unknown.json()) as { error: { code: number; message: string } };
      assert.deepEqual([unknown.status, unknownBody.error.code, unknownBody.error.message.replace('no-such-client', connected.client)],
        [404, 114, body.error.message], 'the same answer as for an unknown session');
    } finally {
      abort.abort();
    }
  });
});

/** Runs `act`; resolves with its result and the one `refused` line that came of it. */
async function oneRefusalOf(t: TidingsProcess, act: () => Promise<Response>): Promise<{ res: Response; line: LogLine }> {
  const mark = t.output.length;
  const res = await act();
  const deadline = Date.now() + 3000;
  while (refusals(t, mark).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 150));
  const lines = refusals(t, mark);
  assert.equal(lines.length, 1, `one refused line, got ${JSON.stringify(lines)}`);
  return { res, line: lines[0]! };
}

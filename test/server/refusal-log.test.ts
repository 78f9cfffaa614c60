import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

interface LogLine { level: string; msg: string; reason?: string; transport?: string; code?: number; origin?: string; remote?: string; userAgent?: string }

function refusals(t: TidingsProcess): LogLine[] {
  return t.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine).filter((l) => l.msg === 'refused');
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

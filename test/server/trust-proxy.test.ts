import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

interface Refusal { msg: string; reason?: string; transport?: string; remote?: string }

async function refusalAfter(t: TidingsProcess, mark: number, act: () => Promise<unknown>): Promise<Refusal> {
  await act();
  const deadline = Date.now() + 3000;
  for (;;) {
    const line = t.output.slice(mark).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Refusal).find((l) => l.msg === 'refused');
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no refusal logged:\n${t.output.slice(mark)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Opens a WebSocket with these headers; resolves with the handshake's status (101 when it opened). */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

const EVIL = 'https://evil.example';

describe('--trust-proxy: forwarding headers count only from a trusted peer', () => {
  let untrusting: TidingsProcess;
  let trusting: TidingsProcess;

  before(async () => {
    // the tests connect from 127.0.0.1: outside 10.0.0.0/8, inside 127.0.0.1/32
    [untrusting, trusting] = await Promise.all([
      startTidings({ args: ['--trust-proxy', '10.0.0.0/8'], env: { TIDINGS_LOG_LEVEL: 'info' } }),
      startTidings({ args: ['--trust-proxy', '127.0.0.1/32,::1'], env: { TIDINGS_LOG_LEVEL: 'info' } }),
    ]);
  });
  after(async () => {
    await Promise.all([untrusting?.stop(), trusting?.stop()]);
  });

  it('ignores a spoofed X-Forwarded-For and Forwarded from an untrusted peer: the log names the TCP peer', async () => {
    const headers = { origin: EVIL, 'x-forwarded-for': '203.0.113.9', forwarded: 'for=198.51.100.1' };
    const sse = await refusalAfter(untrusting, untrusting.output.length, () => fetch(`${untrusting.url}/sse?channel=news`, { headers }));
    assert.equal(sse.remote, '127.0.0.1');
    const ws = await refusalAfter(untrusting, untrusting.output.length, () => upgrade(untrusting.wsUrl, headers));
    assert.deepEqual([ws.transport, ws.remote], ['/ws', '127.0.0.1']);
  });

  it('takes the client address from a trusted peer, walking X-Forwarded-For from the right', async () => {
    // the client wrote 6.6.6.6 itself; the trusted proxy appended the address it saw
    const xff = { origin: EVIL, 'x-forwarded-for': '6.6.6.6, 203.0.113.9' };
    const sse = await refusalAfter(trusting, trusting.output.length, () => fetch(`${trusting.url}/sse?channel=news`, { headers: xff }));
    assert.equal(sse.remote, '203.0.113.9');
    const ws = await refusalAfter(trusting, trusting.output.length, () => upgrade(trusting.wsUrl, xff));
    assert.equal(ws.remote, '203.0.113.9');
    const forwarded = { origin: EVIL, forwarded: 'for=6.6.6.6, for="[2001:db8::5]:4711";proto=https' };
    const poll = await refusalAfter(trusting, trusting.output.length, () => fetch(`${trusting.url}/poll?channel=news`, { headers: forwarded }));
    assert.equal(poll.remote, '2001:db8::5', 'Forwarded, without X-Forwarded-For');
    const both = await refusalAfter(trusting, trusting.output.length, () => fetch(`${trusting.url}/poll?channel=news`, { headers: { ...forwarded, 'x-forwarded-for': '203.0.113.10' } }));
    assert.equal(both.remote, '203.0.113.10', 'X-Forwarded-For first: a Forwarded the client wrote is passed on by X-Forwarded-For proxies');
  });

  it('checks a same-origin page against the scheme a trusted proxy reports, and only then', async () => {
    const page = (t: TidingsProcess): Record<string, string> => ({ origin: `https://127.0.0.1:${t.port}`, 'x-forwarded-proto': 'https' });
    assert.equal(await upgrade(trusting.wsUrl, page(trusting)), 101);
    assert.equal((await fetch(`${trusting.url}/poll?channel=news&wait=0`, { headers: page(trusting) })).status, 200);
    assert.equal(await upgrade(untrusting.wsUrl, page(untrusting)), 403);
    assert.equal((await fetch(`${untrusting.url}/poll?channel=news&wait=0`, { headers: page(untrusting) })).status, 403);
  });
});

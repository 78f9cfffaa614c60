/**
 * The demo's server side (`demo: true`) in a real node: tokens signed for a chosen name with an
 * ephemeral secret when none is configured, bounded names, the request budget, notifications
 * for the token's user, the ticker, and the namespaces the demo adds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TidingsNode, createLogger, resolveOptions } from '@tidings/server';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

interface Answer { status: number; body: { token?: string; user?: string; expires?: number; notification?: { user: string; type: string }; error?: { code: number } } }

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

describe('the demo (demo: true) without a configured JWT secret', () => {
  let node: TidingsNode;
  let other: TidingsNode;
  let base: string;
  let ws: string;

  before(async () => {
    node = new TidingsNode({ demo: true, logger: createLogger('silent') });
    other = new TidingsNode({ demo: true, logger: createLogger('silent') });
    const { port } = await node.listen(0, '127.0.0.1');
    await other.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    ws = `ws://127.0.0.1:${port}/ws`;
  });
  after(async () => {
    await node.close();
    await other.close();
  });

  it('signs a short-lived token for the name with an ephemeral secret: this node accepts it, another demo node does not', async () => {
    const { status, body } = await post(base, '/demo/token', { name: 'ada' });
    assert.equal(status, 200);
    assert.equal(body.user, 'ada');
    const now = Date.now() / 1000;
    assert.ok(body.expires! > now + 500 && body.expires! <= now + 601, `expires in 10 minutes: ${body.expires}`);
    const c = await WsClient.connect(ws, body.token);
    try {
      await c.command('subscribe', { channel: 'chat:lobby' });
      const { clients } = (await c.command('presence', { channel: 'chat:lobby' })) as { clients: Record<string, { user: string }> };
      assert.deepEqual(Object.values(clients).map((i) => i.user), ['ada'], 'the chat namespace has presence');
    } finally {
      c.close();
    }
    await assert.rejects(other.verify(body.token!), /signature/i);
  });

  it('refuses names that are not 1–32 of letters, digits, _ - .; and anything but POST', async () => {
    for (const body of [{ name: '' }, { name: 'a b' }, { name: 'x'.repeat(33) }, { name: 7 }, { name: 'inbox:x' }, {}, '[1]', 'nope']) {
      const r = await post(base, '/demo/token', body, { 'x-forwarded-for': 'ignored' });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error?.code, 107);
    }
    const big = await post(base, '/demo/token', { name: 'a', pad: 'x'.repeat(2000) });
    assert.equal(big.status, 413);
    const get = await fetch(`${base}/demo/token`);
    assert.equal(get.status, 405);
    await get.arrayBuffer();
  });

  it('creates a notification for the token\'s user only, and refuses without a valid token', async () => {
    const { body } = await post(base, '/demo/token', { name: 'grace' });
    const made = await post(base, '/demo/notify', '', { authorization: `Bearer ${body.token!}` });
    assert.equal(made.status, 200);
    assert.deepEqual([made.body.notification?.user, made.body.notification?.type], ['grace', 'demo']);
    const c = await WsClient.connect(ws, body.token);
    try {
      const { notifications } = (await c.command('inbox.list', {})) as { notifications: Array<{ user: string }> };
      assert.equal(notifications.length, 1);
    } finally {
      c.close();
    }
    assert.equal((await post(base, '/demo/notify', '')).status, 401);
    assert.equal((await post(base, '/demo/notify', '', { authorization: 'Bearer not.a.token' })).status, 401);
  });

  it('publishes a tick on ticker:prices about every second; clients may not publish there; anonymous clients may not chat', async () => {
    const c = await WsClient.connect(ws);
    try {
      await c.command('subscribe', { channel: 'ticker:prices' });
      await c.until(() => c.messages.filter((m) => m.type === 'publication').length >= 2, 4000, 'two ticks');
      const tick = c.messages.find((m) => m.type === 'publication') as { data: { quotes: Array<{ symbol: string; price: number }> } };
      assert.deepEqual(tick.data.quotes.map((q) => q.symbol), ['TIDE', 'WAVE', 'SURF', 'REEF']);
      await assert.rejects(c.command('publish', { channel: 'ticker:prices', data: {} }), (e: ReplyError) => e.error.code === 103);
      await assert.rejects(c.command('subscribe', { channel: 'chat:lobby' }), (e: ReplyError) => e.error.code === 103);
    } finally {
      c.close();
    }
  });

  it('answers 429 (106) past 20 requests from one address in 10 s', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 25; i++) answers.push((await post(base, '/demo/token', { name: `n${i}` })).status);
    assert.ok(answers.includes(429), answers.join(','));
    const last = await post(base, '/demo/token', { name: 'late' });
    assert.equal(last.body.error?.code, 106);
  });
});

describe('demo options', () => {
  it('adds the chat and ticker namespaces only with demo, and configured ones win', () => {
    assert.equal(resolveOptions({}).namespaces.chat, undefined);
    const demo = resolveOptions({ demo: true });
    assert.equal(demo.namespaces.chat?.presence, true);
    assert.equal(demo.namespaces.chat?.joinLeave, true);
    assert.equal(demo.namespaces.chat?.publish, true);
    assert.equal(demo.namespaces.ticker?.publish, false);
    assert.equal(resolveOptions({ demo: true, namespaces: { chat: { presence: false } } }).namespaces.chat?.presence, false);
  });

  it('keeps a configured JWT secret: a demo token verifies with it', async () => {
    const node = new TidingsNode({ demo: true, jwt: { secret: 'a-configured-secret-long-enough-for-hs256' }, logger: createLogger('silent') });
    const { port } = await node.listen(0, '127.0.0.1');
    try {
      const { body } = await post(`http://127.0.0.1:${port}`, '/demo/token', { name: 'ada' });
      const { jwtVerify } = await import('jose');
      const { payload } = await jwtVerify(body.token!, new TextEncoder().encode('a-configured-secret-long-enough-for-hs256'));
      assert.equal(payload.sub, 'ada');
    } finally {
      await node.close();
    }
  });
});

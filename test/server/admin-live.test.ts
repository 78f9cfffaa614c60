/**
 * The admin console's live feed (docs/admin.md#live-updates): each node publishes its stats on
 * `$admin:stats`, which only a live token from the console's session receives. Real clients on
 * every transport try to reach that channel with ordinary credentials (anonymous, a JWT granting
 * it by every name and listing it in `subs`), and try to use the live token for anything else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode, ErrorCode } from '@tidings/protocol';
import {
  emulationSession, emulationStateless, poll, sse, stompTcp, stompWs, stompWsCookie, stream, wsCommand, wsHandshake, type Creds, type Probe,
} from '../helpers/auth-probes.js';
import { freePort, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';
import { Inbox, stompJs } from '../stomp/helpers.js';

const PASSWORD = 'correct horse battery staple';
const ADMIN_KEY = 'an-admin-key-for-scripts-0123456789';
const STATS = '$admin:stats';

const probes: Record<string, Probe> = {
  ws: wsCommand, 'ws?connect=1': wsHandshake, 'stomp-ws': stompWs, 'stomp-ws cookie': stompWsCookie, 'stomp-tcp': stompTcp,
  sse, stream, poll, emulation: emulationStateless, 'emu+session': emulationSession,
};

interface Stats { node: string; time: number; connections: Record<string, number>; subscriptions: number }

describe('the admin live feed', () => {
  let t: TidingsProcess;
  let stompPort: number;
  let cookie: string;
  let csrf: string;
  const open: WsClient[] = [];

  /** POST /admin/api/live-token as the logged-in page does (cookie, Origin, CSRF). */
  const liveToken = async (query = '', headers: Record<string, string> = { cookie, origin: t.url, 'x-csrf-token': csrf }): Promise<{ status: number; body: { token?: string; expiresAt?: number } }> => {
    const res = await fetch(`${t.url}/admin/api/live-token${query}`, { method: 'POST', headers });
    return { status: res.status, body: (await res.json()) as { token?: string; expiresAt?: number } };
  };
  const token = async (query = ''): Promise<string> => {
    const res = await liveToken(query);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.token!;
  };
  const connect = async (tok?: string): Promise<WsClient> => {
    const c = await WsClient.connect(t.wsUrl, tok);
    open.push(c);
    return c;
  };
  const stats = (c: WsClient): Stats[] => c.pushes('publication').filter((p) => p.channel === STATS).map((p) => p.data as Stats);

  before(async () => {
    stompPort = await freePort();
    t = await startTidings({ args: ['--admin-password', PASSWORD, '--stomp-port', String(stompPort), '--token-refresh-lead', '1'], env: { TIDINGS_ADMIN_KEY: ADMIN_KEY } });
    const res = await fetch(`${t.url}/admin/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
    assert.equal(res.status, 200);
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
    csrf = ((await res.json()) as { csrf: string }).csrf;
  });
  after(async () => {
    for (const c of open) c.close();
    await t?.stop();
  });

  it('gives a live token only to the admin session with its CSRF token and Origin, or the admin key', async () => {
    assert.equal((await liveToken('', {})).status, 401);
    assert.equal((await liveToken('', { cookie, origin: t.url })).status, 403, 'no CSRF token');
    assert.equal((await liveToken('', { cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' })).status, 403, 'foreign Origin');
    const ok = await liveToken();
    assert.equal(ok.status, 200);
    assert.match(ok.body.token ?? '', /^tidings-admin-live\.\d+\.[\w-]{43}$/);
    assert.ok(Math.abs(ok.body.expiresAt! - (Date.now() / 1000 + 60)) < 5, `expires in about 60 s: ${ok.body.expiresAt}`);
    assert.equal((await liveToken('', { authorization: `Bearer ${ADMIN_KEY}` })).status, 200);
    for (const bad of ['?ttl=0', '?ttl=301', '?ttl=1.5', '?ttl=x']) assert.equal((await liveToken(bad)).status, 400, bad);
  });

  it('a live token receives every second this node\'s stats, the connection count rising as clients connect', async () => {
    const admin = await connect(await token());
    await admin.until(() => admin.pushes('subscribed').some((s) => s.channel === STATS && s.server === true), 5000, 'the server-side subscription');
    await admin.until(() => stats(admin).length >= 2, 5000, 'two snapshots');
    const [a, b] = stats(admin).slice(-2) as [Stats, Stats];
    assert.ok(b.time - a.time >= 500 && b.time - a.time <= 5000, `about a second apart: ${b.time - a.time} ms`);
    const before = stats(admin).at(-1)!.connections.websocket!;
    await connect();
    await connect();
    await admin.until(() => stats(admin).at(-1)!.connections.websocket === before + 2, 5000, 'two more connections');

    // a reconnect resumes from the position the SDK sends in `connect.subs`
    const last = admin.pushes('publication').filter((p) => p.channel === STATS).at(-1)!;
    const again = await WsClient.open(t.wsUrl);
    open.push(again);
    await again.command('connect', { token: await token(), subs: { [STATS]: { offset: last.offset, epoch: last.epoch } } });
    await again.until(() => stats(again).length > 0, 5000, 'stats after the reconnect');
  });

  it('a live token may not subscribe, publish or ask anything else, and is good on no other transport', async () => {
    const admin = await connect(await token());
    for (const [type, fields] of [['subscribe', { channel: 'news' }], ['publish', { channel: 'news', data: 1 }], ['history', { channel: 'news' }],
      ['presence', { channel: 'news' }], ['rpc', { method: 'm' }], ['inbox.count', {}]] as const) {
      await assert.rejects(admin.command(type, fields), (err: ReplyError) => err.error.code === ErrorCode.PermissionDenied, type);
    }
    await assert.rejects(admin.command('publish', { channel: STATS, data: { node: 'forged' } }), (err: ReplyError) => err.error.code === ErrorCode.InvalidChannel);
    const creds: Creds = { token: await token() };
    for (const [name, probe] of Object.entries(probes)) {
      const result = await probe({ server: t, stompPort, creds, target: 'news', publish: () => t.publish('news', { marker: name }).then(() => undefined), marker: name, patience: 1000 });
      assert.notEqual(result.outcome, 'allowed', name);
      // over the JSON protocol the live token's own connection may get its stats (a console may still
      // be watching from the test before); nothing else
      const other = result.received.filter((d) => !(typeof d === 'object' && d !== null && 'node' in d && 'connections' in d));
      assert.deepEqual(other, [], `${name}: ${result.outcome}`);
    }
  });

  it('refuses a live token after it expires, and ends its connection then unless it was refreshed with a new one', async () => {
    const short = await token('?ttl=1');
    await new Promise((r) => setTimeout(r, 2100));
    const late = await WsClient.open(t.wsUrl);
    open.push(late);
    await assert.rejects(late.command('connect', { token: short }), (err: ReplyError) => err.error.code === ErrorCode.TokenExpired);
    assert.equal(await late.closed(), CloseCode.TokenExpired);

    const ending = await connect(await token('?ttl=2'));
    const refreshed = await connect(await token('?ttl=2'));
    await refreshed.until(() => refreshed.pushes('refresh_required').length > 0, 3000, 'refresh_required');
    await refreshed.command('refresh', { token: await token() });
    await assert.rejects(refreshed.command('refresh', { token: await makeToken('mallory') }), (err: ReplyError) => err.error.code === ErrorCode.PermissionDenied, 'not with a JWT');
    assert.equal(await ending.closed(4000), CloseCode.TokenExpired);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(refreshed.closeCode, undefined, 'the refreshed one stays');
    const forged = `${short.slice(0, short.lastIndexOf('.'))}.${'A'.repeat(43)}`;
    const c = await WsClient.open(t.wsUrl);
    open.push(c);
    await assert.rejects(c.command('connect', { token: forged }), (err: ReplyError) => err.error.code === ErrorCode.Unauthorized);
  });

  it('no ordinary credential reaches $admin:stats on any transport, nor the server API', async () => {
    const watcher = await connect(await token());
    await watcher.until(() => stats(watcher).length > 0, 5000, 'stats flowing');
    const wildcard = await makeToken('mallory', { channels: ['*', '$admin:*', STATS, '$admin'], subs: [STATS] });
    for (const [who, creds] of [['anonymous', {}], ['a JWT granting and listing it', { token: wildcard }]] as Array<[string, Creds]>) {
      for (const [name, probe] of Object.entries(probes)) {
        const result = await probe({ server: t, stompPort, creds, target: STATS, publish: () => Promise.resolve(), marker: name, patience: 1500 });
        assert.notEqual(result.outcome.split(',')[0], 'allowed', `${who} over ${name}`);
        assert.deepEqual(result.received, [], `${who} over ${name}: ${result.outcome}`);
      }
    }
    const jwt = await connect(wildcard);
    await jwt.until(() => jwt.pushes('unsubscribed').some((u) => u.channel === STATS), 5000, 'the `subs` claim refused');
    // STOMP: the `subs` claim's channels come on /user/subscriptions; $admin:stats is not among them
    const { client: stomp } = await stompJs(t.wsUrl, { connectHeaders: { passcode: wildcard } });
    const messages = new Inbox();
    const receipt = new Promise<string | undefined>((resolve) => stomp.watchForReceipt('r1', (f) => resolve(f.headers['x-channels'])));
    stomp.subscribe('/user/subscriptions', messages.push, { id: 'mine', receipt: 'r1' });
    assert.equal(await receipt, '0');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(stats(jwt), []);
    assert.deepEqual(messages.bodies(), []);
    await stomp.deactivate();

    for (const [method, path, body] of [
      ['POST', '/api/publish', { channel: STATS, data: { node: 'forged' } }], ['POST', '/api/broadcast', { channels: ['news', STATS], data: 1 }],
      ['POST', '/api/subscribe', { user: 'mallory', channel: STATS }], ['GET', `/api/history?channel=${encodeURIComponent(STATS)}`, undefined],
      ['GET', `/api/presence?channel=${encodeURIComponent(STATS)}`, undefined],
    ] as const) {
      const res = await t.api(method, path, body);
      assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
    }
    const forged = await fetch(`${t.url}/admin/api/publish`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: STATS, data: 1 }) });
    assert.equal(forged.status, 400, 'not even the admin console publishes there');
    const channels = (await t.api('GET', '/api/channels')).body as { channels: Array<{ channel: string }> };
    assert.ok(!channels.channels.some((c) => c.channel.startsWith('$')), JSON.stringify(channels));
    assert.ok(!stats(watcher).some((s) => s.node === 'forged'));
  });
});

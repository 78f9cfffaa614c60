/**
 * The admin console (/admin): its security over HTTP (cookie flags, CSRF, Origin, the login rate
 * limit, off without a password) and the page in Chromium (login, the connection count rising
 * live over Tidings without one request to /admin/api/stats, the publish form reaching a WebSocket
 * subscriber), which also takes docs/img/admin.png. The live feed's security is
 * test/server/admin-live.test.ts; a cluster and the polling fallback, test/browser/admin-live.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium } from '../helpers/browser.js';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { hasOpenssl, httpsRequest, selfSigned } from '../helpers/tls.js';
import { WsClient } from '../helpers/ws-client.js';

const run = promisify(execFile);
const buildPages = fileURLToPath(new URL('../../packages/pages/scripts/build.mjs', import.meta.url));
const screenshot = fileURLToPath(new URL('../../docs/img/admin.png', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const ADMIN_KEY = 'an-admin-key-for-scripts-0123456789';

interface Answer { status: number; headers: Headers; body: Record<string, unknown> }

async function request(t: TidingsProcess, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.url + path, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try { body = JSON.parse(text) as Record<string, unknown>; } catch { /* the page */ }
  return { status: res.status, headers: res.headers, body };
}

/** Logs in from `address` (an X-Forwarded-For the node trusts); the cookie pair and the CSRF token. */
async function login(t: TidingsProcess, address: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await request(t, 'POST', '/admin/login', { body: { password: PASSWORD }, headers: { 'x-forwarded-for': address } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: String(res.body.csrf), setCookie };
}

describe('the admin console over HTTP', () => {
  let t: TidingsProcess;
  let off: TidingsProcess;

  before(async () => {
    await run(process.execPath, [buildPages]);
    [t, off] = await Promise.all([
      startTidings({ args: ['--admin-password', PASSWORD, '--trust-proxy', '127.0.0.1/32'], env: { TIDINGS_ADMIN_KEY: ADMIN_KEY } }),
      startTidings(),
    ]);
  });
  after(async () => {
    await t?.stop();
    await off?.stop();
  });

  it('is off (404) without --admin-password', async () => {
    for (const [method, path] of [['GET', '/admin/'], ['POST', '/admin/login'], ['GET', '/admin/api/stats']] as const) {
      const res = await request(off, method, path, method === 'POST' ? { body: { password: PASSWORD } } : {});
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    assert.equal((await request(t, 'GET', '/admin/')).status, 200);
  });

  it('refuses a wrong password, and sets an HttpOnly, SameSite=Strict, Path=/admin cookie for the right one (Secure under https)', async () => {
    const wrong = await request(t, 'POST', '/admin/login', { body: { password: 'guess' }, headers: { 'x-forwarded-for': '198.51.100.1' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const { setCookie, cookie } = await login(t, '198.51.100.2');
    assert.match(setCookie, /^tidings_admin=[\w-]{43};/);
    for (const flag of ['HttpOnly', 'SameSite=Strict', 'Path=/admin']) assert.ok(setCookie.split('; ').includes(flag), `${flag} in ${setCookie}`);
    assert.ok(!setCookie.includes('Secure'), 'no Secure on plain http');
    assert.equal((await request(t, 'GET', '/admin/api/stats', { headers: { cookie } })).status, 200);
    assert.equal((await request(t, 'GET', '/admin/api/stats')).status, 401);
    const tls = await request(t, 'POST', '/admin/login', { body: { password: PASSWORD }, headers: { 'x-forwarded-for': '198.51.100.3', 'x-forwarded-proto': 'https' } });
    assert.ok((tls.headers.get('set-cookie') ?? '').split('; ').includes('Secure'));
  });

  it('sets the Secure flag when the node itself serves TLS', { skip: hasOpenssl() ? false : 'SKIPPED: openssl not installed' }, async () => {
    const cert = selfSigned();
    const secure = await startTidings({ args: ['--admin-password', PASSWORD], tls: { certFile: cert.certFile, keyFile: cert.keyFile, ca: cert.cert } });
    try {
      const res = await httpsRequest(`${secure.url}/admin/login`, cert.cert, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }) });
      assert.equal(res.status, 200, res.body);
      const setCookie = String(res.headers['set-cookie'] ?? '');
      for (const flag of ['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/admin']) assert.ok(setCookie.split('; ').includes(flag), `${flag} in ${setCookie}`);
    } finally {
      await secure.stop();
    }
  });

  it('refuses a state-changing request without the CSRF token, with a foreign Origin or without one, and logs out', async () => {
    const { cookie, csrf } = await login(t, '198.51.100.4');
    const publish = (headers: Record<string, string>) => request(t, 'POST', '/admin/api/publish', { body: { channel: 'news', data: 'x' }, headers: { cookie, ...headers } });
    assert.equal((await publish({ origin: t.url })).status, 403);
    assert.equal((await publish({ origin: t.url, 'x-csrf-token': 'A'.repeat(43) })).status, 403);
    assert.equal((await publish({ origin: 'https://evil.example', 'x-csrf-token': csrf })).status, 403);
    assert.equal((await publish({ 'x-csrf-token': csrf })).status, 403);
    const ok = await publish({ origin: t.url, 'x-csrf-token': csrf });
    assert.equal(ok.status, 200);
    assert.equal(typeof ok.body.offset, 'number');
    const out = await request(t, 'POST', '/admin/logout', { headers: { cookie, origin: t.url, 'x-csrf-token': csrf } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await request(t, 'GET', '/admin/api/stats', { headers: { cookie } })).status, 401);
  });

  it('takes the admin key as a Bearer token on /admin/api/* (no cookie, no CSRF) and at the login form', async () => {
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    assert.equal((await request(t, 'GET', '/admin/api/stats', { headers: bearer(ADMIN_KEY) })).status, 200);
    const published = await request(t, 'POST', '/admin/api/publish', { body: { channel: 'news', data: 'by key' }, headers: bearer(ADMIN_KEY) });
    assert.equal(published.status, 200);
    assert.equal((await request(t, 'GET', '/admin/api/stats', { headers: bearer(`${ADMIN_KEY}x`) })).status, 401);
    assert.equal((await request(t, 'GET', '/admin/api/stats', { headers: bearer(PASSWORD) })).status, 401, 'the password is not a key');
    const login = await request(t, 'POST', '/admin/login', { body: { password: ADMIN_KEY }, headers: { 'x-forwarded-for': '198.51.100.9' } });
    assert.equal(login.status, 200);
  });

  it('rate-limits logins per client address: the sixth in a minute gets 429 with Retry-After, the right password too', async () => {
    const attempt = (password: string, address: string) => request(t, 'POST', '/admin/login', { body: { password }, headers: { 'x-forwarded-for': address } });
    for (let i = 0; i < 5; i++) assert.equal((await attempt(`guess ${i}`, '203.0.113.7')).status, 401);
    const limited = await attempt(PASSWORD, '203.0.113.7');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, `Retry-After ${limited.headers.get('retry-after')}`);
    assert.equal((await attempt(PASSWORD, '203.0.113.8')).status, 200, 'another address is not limited');
  });
});

describe('the admin console in Chromium', chromiumAvailability('the admin console browser test'), () => {
  let t: TidingsProcess;
  let browser: Browser;
  let page: Page;
  const clients: WsClient[] = [];
  /** Every /admin/api/stats request the page made. */
  const polls: string[] = [];

  const total = async (): Promise<number> => Number(await page.textContent('#connections-total'));
  /** Waits until the text of `selector` passes `ok` (polled: the page's CSP forbids the eval behind waitForFunction). */
  const waitText = async (selector: string, ok: (text: string) => boolean, ms = 5000): Promise<string> => {
    const deadline = Date.now() + ms;
    let text = '';
    while (Date.now() < deadline) {
      text = (await page.textContent(selector)) ?? '';
      if (ok(text)) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${selector} still reads ${JSON.stringify(text.slice(0, 200))}`);
  };

  before(async () => {
    await run(process.execPath, [buildPages]);
    const config = configFile({ namespaces: { chat: { presence: true } } });
    t = await startTidings({ args: ['--admin-password', PASSWORD, '--config', config] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/admin/api/stats') polls.push(r.url());
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await t?.stop();
  });

  it('refuses a wrong password and accepts the right one', async () => {
    await page.goto(`${t.url}/admin/`);
    await page.waitForSelector('#login-form', { state: 'visible' });
    await page.fill('#password', 'not the password');
    await page.click('#login-form button[type=submit]');
    await waitText('#login-error', (x) => x.includes('wrong admin password'));
    assert.equal(await page.isVisible('#dashboard'), false);
    await page.fill('#password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#dashboard', { state: 'visible' });
    assert.match(await page.textContent('#node') ?? '', /^node [0-9a-f-]{36}$/);
  });

  it('shows the connection count rising as clients connect, live over Tidings: no request to /admin/api/stats', async () => {
    await waitText('#live', (x) => x === 'live over Tidings');
    await waitText('#transports', (x) => x.includes('websocket'));
    const before = await total();
    assert.ok(before >= 1, 'the page\'s own live connection counts');
    for (let i = 0; i < 3; i++) clients.push(await WsClient.connect(t.wsUrl));
    await waitText('#connections-total', (x) => Number(x) === before + 3);
    clients.push(await WsClient.connect(t.wsUrl));
    await waitText('#connections-total', (x) => Number(x) === before + 4);
    await waitText('#nodes', (x) => x.includes('(this node)'));
    assert.deepEqual(polls, [], 'the page polled /admin/api/stats');
  });

  it('publishes from the form to a WebSocket subscriber, and takes the screenshot', async () => {
    const subscriber = clients[0]!;
    await subscriber.command('subscribe', { channel: 'news' });
    await clients[1]!.command('subscribe', { channel: 'news' });
    await clients[2]!.command('subscribe', { channel: 'chat:lobby' });
    await page.fill('#publish-channel', 'news');
    await page.fill('#publish-data', '{"headline": "sent from the admin console"}');
    await page.click('#publish-form button[type=submit]');
    await subscriber.until(() => subscriber.pushes('publication').some((p) => JSON.stringify(p.data) === '{"headline":"sent from the admin console"}'), 5000, 'the publication');
    await waitText('#publish-result', (x) => x.startsWith('published at offset'));

    // traffic for the chart until the screenshot, and history for the inspector
    let tick = 0;
    const traffic = setInterval(() => {
      tick++;
      void Promise.all(Array.from({ length: 2 + (tick % 7) }, (_, k) => t.publish('news', { n: k }))).catch(() => undefined);
    }, 250);
    for (let i = 0; i < 4; i++) await t.publish('chat:lobby', { n: i, text: `message ${i}` });
    const created = await t.api('POST', '/api/schedules', { cron: '0 9 * * 1', timezone: 'Europe/Paris', target: { channel: 'news', data: { digest: true } } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const scheduleId = (created.body as { schedule: { id: string } }).schedule.id;
    await page.fill('#inspect-channel', 'chat:lobby');
    await page.click('#inspect-form button[type=submit]');
    await waitText('#history', (x) => x.includes('message 3'));
    await waitText('#pub-rate', (x) => Number(x) > 0);
    await waitText('#presence', (x) => x.includes('(anonymous)'));
    await waitText('#channels', (x) => x.includes('news') && x.includes('chat:lobby'), 7000);
    await waitText('#schedules', (x) => x.includes(scheduleId), 7000);
    await new Promise((r) => setTimeout(r, 3000));
    await page.screenshot({ path: screenshot, fullPage: true });
    clearInterval(traffic);
    assert.deepEqual(polls, [], 'the page polled /admin/api/stats');

    const alice = await WsClient.connect(t.wsUrl, await makeToken('alice'));
    await page.fill('#disconnect-user', 'alice');
    await page.click('#disconnect-form button[type=submit]');
    assert.equal(await alice.closed(), 3502);
    await waitText('#disconnect-result', (x) => x === 'disconnected');

    await page.click('#schedules button.danger');
    await waitText('#schedules', (x) => !x.includes(scheduleId));
    assert.deepEqual((await t.api('GET', '/api/schedules')).body, { schedules: [] });

    await page.click('#logout');
    await page.waitForSelector('#login-form', { state: 'visible' });
    await page.reload();
    await page.waitForSelector('#login-form', { state: 'visible' });
    assert.equal(await page.isVisible('#dashboard'), false, 'the session is gone after a reload');
  });
});

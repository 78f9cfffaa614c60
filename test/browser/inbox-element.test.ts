/**
 * `<tidings-inbox>` in a real Chromium: loaded from the server's /client/tidings-inbox.min.js by
 * pages on another origin, against a real server; notifications made through the server API.
 * Two contexts as one user stay in step; older pages load; a React page uses it unchanged; data
 * is rendered as text; and the screenshot in docs/img/inbox.png is taken here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium, servePages, type PageOrigin } from '../helpers/browser.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';

const clientDir = fileURLToPath(new URL('../../packages/client/', import.meta.url));
const screenshot = fileURLToPath(new URL('../../docs/img/inbox.png', import.meta.url));
const reactPage = fileURLToPath(new URL('./fixtures/inbox-react.jsx', import.meta.url));
const vuePage = fileURLToPath(new URL('./fixtures/inbox-vue.js', import.meta.url));
const WAIT = { timeout: 10_000 };

/** Waits until `expr` is true in the page; `$s` is the first `<tidings-inbox>`'s shadow root. */
async function until(page: Page, expr: string): Promise<void> {
  await page.waitForFunction(`(() => { const $s = document.querySelector('tidings-inbox')?.shadowRoot; return !!$s && (${expr}); })()`, undefined, WAIT);
}

/** Evaluates `expr` in the page with `$s` as in `until`. */
function inShadow<T>(page: Page, expr: string): Promise<T> {
  return page.evaluate(`(() => { const $s = document.querySelector('tidings-inbox').shadowRoot; return ${expr}; })()`) as Promise<T>;
}

const badge = (page: Page): Promise<{ text: string; hidden: boolean; label: string | null }> =>
  inShadow(page, `({ text: $s.querySelector('[part~=badge]').textContent, hidden: $s.querySelector('[part~=badge]').hidden, label: $s.querySelector('[part~=bell]').getAttribute('aria-label') })`);
const titles = (page: Page): Promise<string[]> => inShadow(page, `[...$s.querySelectorAll('[part~=title]')].map((e) => e.textContent)`);
const activePart = (page: Page): Promise<string | null> => inShadow(page, `$s.activeElement?.getAttribute('part') ?? null`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('<tidings-inbox> in Chromium', chromiumAvailability('the inbox element tests'), () => {
  let t: TidingsProcess;
  let browser: Browser;
  let pages: PageOrigin | undefined;
  let origin: string;
  const served = new Map<string, { type: string; body: string }>();

  before(async () => {
    const built = spawnSync(process.execPath, [`${clientDir}scripts/bundle.mjs`], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    pages = await servePages((req, res) => {
      const page = served.get(req.url ?? '');
      if (!page) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': page.type }).end(page.body);
    });
    origin = pages.origin;
    t = await startTidings({ args: ['--allowed-origins', origin] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await pages?.close();
  });

  async function notify(user: string, payload: unknown, type = 'note'): Promise<void> {
    const res = await t.api('POST', '/api/notifications', { user, type, payload });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await sleep(3); // distinct creation times: the list order is the creation order
  }

  /** Serves a plain page with the element for `user` at `/<name>`; returns its URL. */
  async function plainPage(name: string, user: string, attributes = ''): Promise<string> {
    const token = await makeToken(user);
    served.set(`/${name}`, {
      type: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="en"><meta charset="utf-8"><title>${name}</title>
<style>body{margin:0;font-family:system-ui,sans-serif}header{display:flex;align-items:center;justify-content:space-between;padding:10px 20px;background:#0f172a;color:#f8fafc}</style>
<script type="module" src="${t.url}/client/tidings-inbox.min.js"></script>
<header><strong>Acme News</strong><tidings-inbox url="${t.url}" token="${token}" ${attributes}></tidings-inbox></header>
<main style="padding:4px 20px;color:#334155"><h1>Front page</h1><p>Stories of the day, with the inbox in the header.</p></main>`,
    });
    return `${origin}/${name}`;
  }

  /** WebSockets each page opened, counted from before its first request. */
  const sockets = new WeakMap<Page, string[]>();

  async function open(context: BrowserContext, url: string): Promise<Page> {
    const page = await context.newPage();
    const errors: string[] = [];
    const opened: string[] = [];
    sockets.set(page, opened);
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('websocket', (ws) => opened.push(ws.url()));
    await page.goto(url);
    await page.waitForFunction('customElements.get("tidings-inbox") !== undefined', undefined, WAIT);
    assert.deepEqual(errors, []);
    return page;
  }

  it('shows the unread count, opens from the keyboard, marks read, and a second tab of the user follows live', async () => {
    const user = 'inbox-two-tabs';
    for (const n of [1, 2, 3]) await notify(user, { title: `Headline ${n}`, body: `Story ${n}` });
    const url = await plainPage('two-tabs', user);
    const [ca, cb] = [await browser.newContext(), await browser.newContext()];
    try {
      const [a, b] = [await open(ca, url), await open(cb, url)];
      for (const page of [a, b]) await until(page, `$s.querySelector('[part~=badge]').textContent === '3'`);
      assert.deepEqual(await badge(a), { text: '3', hidden: false, label: 'Notifications, 3 unread' });
      assert.deepEqual(sockets.get(a), [`${t.wsUrl}`], 'one connection per element');
      assert.equal(await inShadow(a, `$s.querySelector('[part~=bell]').getAttribute('aria-expanded')`), 'false');
      assert.equal(await inShadow(a, `$s.querySelector('[part~=bell]').getAttribute('aria-controls')`), 'panel');

      // keyboard: Tab to the bell, Enter opens, focus moves to the newest notification
      await a.keyboard.press('Tab');
      assert.equal(await activePart(a), 'bell');
      await a.keyboard.press('Enter');
      await until(a, `$s.querySelectorAll('[part~=item]').length === 3`);
      assert.equal(await inShadow(a, `$s.querySelector('[part~=bell]').getAttribute('aria-expanded')`), 'true');
      assert.equal(await inShadow(a, `$s.getElementById('panel').hidden`), false);
      assert.deepEqual(await titles(a), ['Headline 3', 'Headline 2', 'Headline 1']);
      assert.equal(await inShadow(a, `$s.querySelector('[part~=list]').getAttribute('role')`), 'list');
      assert.equal(await inShadow(a, `$s.querySelector('[part~=item]').getAttribute('role')`), 'listitem');
      await until(a, `$s.activeElement?.getAttribute('part') === 'item-button'`);
      assert.equal(await inShadow(a, `$s.activeElement.textContent`), 'Unread: Headline 3Story 3now');

      // the other tab opens its list too, to see the read state arrive
      await b.locator('tidings-inbox [part~=bell]').click();
      await until(b, `$s.querySelectorAll('[part~=item][part~=unread]').length === 3`);

      // ArrowDown to the second, Enter marks it read
      await a.keyboard.press('ArrowDown');
      await a.keyboard.press('Enter');
      await until(a, `$s.querySelector('[part~=badge]').textContent === '2'`);
      await until(a, `$s.querySelector('[part~=status]').textContent === '2 unread notifications'`);
      await until(b, `$s.querySelector('[part~=badge]').textContent === '2'`);
      assert.equal((await badge(b)).label, 'Notifications, 2 unread');
      await until(b, `$s.querySelectorAll('[part~=item]')[1].getAttribute('part') === 'item read'`);
      assert.deepEqual((await t.api('GET', `/api/notifications/unread-count?user=${user}`)).body, { unread: 2 });

      // a new one arrives in both, on top of the open lists
      await notify(user, { title: 'Breaking' });
      for (const page of [a, b]) {
        await until(page, `$s.querySelector('[part~=badge]').textContent === '3'`);
        await until(page, `$s.querySelector('[part~=title]').textContent === 'Breaking'`);
      }

      // mark all read in one: the badge goes away in both
      await a.locator('tidings-inbox [part~=mark-all]').click();
      for (const page of [a, b]) {
        await until(page, `$s.querySelector('[part~=badge]').hidden`);
        await until(page, `$s.querySelectorAll('[part~=item][part~=unread]').length === 0`);
      }
      assert.equal((await badge(b)).label, 'Notifications, none unread');
      assert.equal(await inShadow(a, `$s.querySelector('[part~=mark-all]').disabled`), true);

      // Escape closes and gives focus back to the bell
      await a.locator('tidings-inbox [part~=item-button]').first().focus();
      await a.keyboard.press('Escape');
      assert.equal(await inShadow(a, `$s.getElementById('panel').hidden`), true);
      assert.equal(await inShadow(a, `$s.querySelector('[part~=bell]').getAttribute('aria-expanded')`), 'false');
      assert.equal(await activePart(a), 'bell');
    } finally {
      await ca.close();
      await cb.close();
    }
  });

  it('pages through older notifications with "Load more"', async () => {
    const user = 'inbox-pages';
    for (let n = 1; n <= 7; n++) await notify(user, { title: `N${n}` });
    const context = await browser.newContext();
    try {
      const page = await open(context, await plainPage('pages', user, 'page-size="3"'));
      await until(page, `$s.querySelector('[part~=badge]').textContent === '7'`);
      await page.locator('tidings-inbox [part~=bell]').click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 3`);
      assert.deepEqual(await titles(page), ['N7', 'N6', 'N5']);
      const more = page.locator('tidings-inbox [part~=more]');
      await more.click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 6`);
      await more.click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 7`);
      assert.deepEqual(await titles(page), ['N7', 'N6', 'N5', 'N4', 'N3', 'N2', 'N1']);
      await until(page, `$s.querySelector('[part~=more]').hidden`);
      // marking the oldest, from the third page, reaches the server
      await page.locator('tidings-inbox [part~=item-button]').last().click();
      await until(page, `$s.querySelector('[part~=badge]').textContent === '6'`);
      await page.mouse.click(5, 300); // outside: closes
      await until(page, `$s.getElementById('panel').hidden`);
      const unread = (await t.api('GET', `/api/notifications?user=${user}&unread=true&limit=100`)).body as { notifications: Array<{ payload: { title: string } }> };
      assert.deepEqual(unread.notifications.map((n) => n.payload.title), ['N7', 'N6', 'N5', 'N4', 'N3', 'N2']);
    } finally {
      await context.close();
    }
  });

  /** Bundles a framework page (esbuild, production mode) and serves it at `/<name>` for `user`. */
  async function frameworkPage(name: string, entry: string, user: string): Promise<string> {
    const bundled = await build({
      entryPoints: [entry], bundle: true, format: 'esm', jsx: 'automatic', minify: true, write: false, logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'false', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
    });
    const code = bundled.outputFiles[0]?.text;
    assert.ok(code);
    served.set(`/${name}.js`, { type: 'text/javascript', body: code });
    served.set(`/${name}`, {
      type: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="en"><meta charset="utf-8"><title>${name}</title>
<script>window.TIDINGS = ${JSON.stringify({ url: t.url, token: await makeToken(user) })}</script>
<script type="module" src="${t.url}/client/tidings-inbox.min.js"></script>
<script type="module" src="/${name}.js"></script>
<div id="root"></div>`,
    });
    return `${origin}/${name}`;
  }

  it('works unchanged inside a React page: the count, marking read, and its events in React state', async () => {
    const user = 'inbox-react';
    await notify(user, { title: 'From the server' }, 'welcome');
    await notify(user, { title: 'Another one' }, 'digest');
    const url = await frameworkPage('react', reactPage, user);
    const context = await browser.newContext();
    try {
      const page = await open(context, url);
      await page.waitForSelector('h1');
      await until(page, `$s.querySelector('[part~=badge]').textContent === '2'`);
      await page.waitForFunction('document.getElementById("react-unread").textContent === "2"', undefined, WAIT);
      await page.locator('tidings-inbox [part~=bell]').click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 2`);
      await page.locator('tidings-inbox [part~=item-button]').first().click();
      await until(page, `$s.querySelector('[part~=badge]').textContent === '1'`);
      await page.waitForFunction('document.getElementById("react-unread").textContent === "1"', undefined, WAIT);
      assert.equal(await page.textContent('#react-selected'), 'digest');
      assert.deepEqual((await t.api('GET', `/api/notifications/unread-count?user=${user}`)).body, { unread: 1 });
    } finally {
      await context.close();
    }
  });

  it('works unchanged inside a Vue page: the count, marking read, and its event in Vue state', async () => {
    const user = 'inbox-vue';
    await notify(user, { title: 'Hello from Vue' });
    const url = await frameworkPage('vue', vuePage, user);
    const context = await browser.newContext();
    try {
      const page = await open(context, url);
      await page.waitForSelector('h1');
      await until(page, `$s.querySelector('[part~=badge]').textContent === '1'`);
      await page.waitForFunction('document.getElementById("vue-unread").textContent === "1"', undefined, WAIT);
      await page.locator('tidings-inbox [part~=bell]').click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 1`);
      await page.locator('tidings-inbox [part~=item-button]').first().click();
      await until(page, `$s.querySelector('[part~=badge]').hidden`);
      await page.waitForFunction('document.getElementById("vue-unread").textContent === "0"', undefined, WAIT);
      assert.deepEqual((await t.api('GET', `/api/notifications/unread-count?user=${user}`)).body, { unread: 0 });
    } finally {
      await context.close();
    }
  });

  it('follows a new token: the old connection closes and the inbox is the new user\'s', async () => {
    await notify('inbox-first', { title: 'for the first user' });
    for (const n of [1, 2]) await notify('inbox-second', { title: `for the second user ${n}` });
    const context = await browser.newContext();
    try {
      const page = await open(context, await plainPage('switch', 'inbox-first'));
      await until(page, `$s.querySelector('[part~=badge]').textContent === '1'`);
      await page.evaluate(`document.querySelector('tidings-inbox').token = ${JSON.stringify(await makeToken('inbox-second'))}`);
      await until(page, `$s.querySelector('[part~=badge]').textContent === '2'`);
      await page.locator('tidings-inbox [part~=bell]').click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 2`);
      assert.deepEqual(await titles(page), ['for the second user 2', 'for the second user 1']);
      assert.equal(sockets.get(page)?.length, 2);
      await page.waitForFunction('document.querySelector("tidings-inbox").client.state === "connected"', undefined, WAIT);
    } finally {
      await context.close();
    }
  });

  it('renders notification data as text, never as HTML', async () => {
    const user = 'inbox-xss';
    const title = '<img src=x onerror="window.pwned=1">';
    const body = '<b>bold</b><script>window.pwned=2</script>';
    await notify(user, { title, body });
    await notify(user, {}, '<svg onload="window.pwned=3">');
    const context = await browser.newContext();
    try {
      const page = await open(context, await plainPage('xss', user));
      await until(page, `$s.querySelector('[part~=badge]').textContent === '2'`);
      await page.locator('tidings-inbox [part~=bell]').click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 2`);
      assert.deepEqual(await titles(page), ['<svg onload="window.pwned=3">', title]);
      assert.equal(await inShadow(page, `$s.querySelector('[part~=body]').textContent`), body);
      assert.equal(await inShadow(page, `$s.querySelectorAll('img, b, script, [part~=list] svg').length`), 0);
      await sleep(200);
      assert.equal(await page.evaluate('window.pwned'), undefined);
    } finally {
      await context.close();
    }
  });

  it('takes the screenshot for the docs (docs/img/inbox.png)', async () => {
    const user = 'inbox-screenshot';
    await notify(user, { title: 'Deploy finished', body: 'api-7f3c is live in eu-west' });
    await notify(user, { title: 'Ada mentioned you', body: '"Can you review the inbox element?"' });
    await notify(user, { title: 'Weekly digest', body: '12 new stories in Realtime' });
    await notify(user, { title: 'Build #418 failed', body: 'test/browser/sdk.test.ts' });
    const context = await browser.newContext({ viewport: { width: 560, height: 420 }, deviceScaleFactor: 1 });
    try {
      const page = await open(context, await plainPage('screenshot', user));
      await until(page, `$s.querySelector('[part~=badge]').textContent === '4'`);
      await page.locator('tidings-inbox [part~=bell]').click();
      await until(page, `$s.querySelectorAll('[part~=item]').length === 4`);
      await page.locator('tidings-inbox [part~=item-button]').nth(2).click();
      await until(page, `$s.querySelector('[part~=badge]').textContent === '3'`);
      await page.mouse.move(10, 400);
      await page.screenshot({ path: screenshot });
      assert.equal(await inShadow(page, `$s.getElementById('panel').hidden`), false);
    } finally {
      await context.close();
    }
  });
});

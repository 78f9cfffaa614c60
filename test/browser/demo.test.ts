/**
 * The demo (`tidings serve --demo`) in a real Chromium (Debian's, driven by playwright-core): the
 * page the server serves at /demo/, with the served SDK, tokens from POST /demo/token. Two tabs
 * of one user keep the bell in step, two users chat and see each other's presence, every
 * transport on the switch receives the ticker, and without --demo none of it exists. The last
 * test writes the screenshot docs/img/demo.png that the README shows.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium } from '../helpers/browser.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = `${root}docs/img/demo.png`;
/** The page's CSP refuses eval, which playwright's string predicates need: the test's pages bypass it (the CSP is checked below). */
const PAGE = { bypassCSP: true };

/** The page's state line once connected: its transport and text. */
async function connected(page: Page): Promise<void> {
  await page.waitForFunction('document.getElementById("state").dataset.state === "connected"', undefined, { timeout: 15_000 });
}

const badge = (page: Page): Promise<string> => page.evaluate('(() => { const b = document.getElementById("badge"); return b.hidden ? "hidden" : b.textContent; })()');

async function badgeIs(page: Page, text: string): Promise<void> {
  await page.waitForFunction(`(() => { const b = document.getElementById("badge"); return (b.hidden ? "hidden" : b.textContent) === ${JSON.stringify(text)}; })()`, undefined, { timeout: 10_000 })
    .catch(async (err: unknown) => assert.fail(`badge never showed ${text}: it shows ${await badge(page)} (${String(err)})`));
}

describe('tidings serve --demo in Chromium', chromiumAvailability('the demo browser tests'), () => {
  let t: TidingsProcess;
  let browser: Browser;

  before(async () => {
    for (const script of ['packages/client/scripts/bundle.mjs', 'packages/pages/scripts/build.mjs']) {
      const built = spawnSync(process.execPath, [`${root}${script}`], { encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
    }
    t = await startTidings({ args: ['--demo', '--store', 'memory'] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('two tabs as one user: a notification shows in both, marking it read in one drops the badge in the other', async () => {
    const a = await browser.newContext(PAGE);
    const b = await browser.newContext(PAGE);
    try {
      const one = await a.newPage();
      const two = await b.newPage();
      await one.goto(`${t.url}/demo/?name=ada`);
      await two.goto(`${t.url}/demo/?name=ada`);
      await connected(one);
      await connected(two);
      assert.match((await one.textContent('#state')) ?? '', /connected over websocket as ada/);
      await one.click('#notify');
      await one.click('#notify');
      await badgeIs(one, '2');
      await badgeIs(two, '2');

      await one.click('#bell');
      await one.waitForSelector('#inbox li.unread button.mark');
      assert.equal(await one.locator('#inbox li').count(), 2);
      await one.locator('#inbox li.unread button.mark').first().click();
      await badgeIs(two, '1');
      await badgeIs(one, '1');
      await two.click('#bell');
      await two.click('#mark-all');
      await badgeIs(one, 'hidden');
      await badgeIs(two, 'hidden');
      await one.waitForFunction('document.querySelectorAll("#inbox li.unread").length === 0', undefined, { timeout: 10_000 });
      const list = (await t.api('GET', '/api/notifications?user=ada')).body as { notifications: Array<{ readAt?: number }> };
      assert.equal(list.notifications.length, 2);
      assert.ok(list.notifications.every((n) => n.readAt !== undefined), 'both read in the store');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two users chat in chat:lobby and see each other come and go', async () => {
    const a = await browser.newContext(PAGE);
    const b = await browser.newContext(PAGE);
    try {
      const grace = await a.newPage();
      const linus = await b.newPage();
      await grace.goto(`${t.url}/demo/?name=grace`);
      await connected(grace);
      await linus.goto(`${t.url}/demo/?name=linus`);
      await connected(linus);
      const presence = 'Array.from(document.querySelectorAll("#presence li"), (li) => li.textContent).join(",")';
      await grace.waitForFunction(`${presence}.includes("linus")`, undefined, { timeout: 10_000 });
      await linus.waitForFunction(`${presence} === "grace,linus"`, undefined, { timeout: 10_000 });
      await grace.waitForSelector('#messages li.event:has-text("linus joined")', { timeout: 10_000 });

      await grace.fill('#chat-input', 'hello from grace');
      await grace.press('#chat-input', 'Enter');
      await linus.waitForSelector('#messages li:has-text("hello from grace")', { timeout: 10_000 });
      assert.equal(await linus.textContent('#messages li:has-text("hello from grace") .who'), 'grace');
      await linus.fill('#chat-input', 'hi grace');
      await linus.click('#send');
      await grace.waitForSelector('#messages li:has-text("hi grace")', { timeout: 10_000 });
      assert.equal(await grace.textContent('#messages li:has-text("hi grace") .who'), 'linus', 'the sender is the server\'s, from the token');

      await linus.close();
      await grace.waitForFunction(`${presence} === "grace"`, undefined, { timeout: 15_000 });
      await grace.waitForSelector('#messages li.event:has-text("linus left")', { timeout: 10_000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('looks like the screenshot in the README (docs/img/demo.png)', async () => {
    const a = await browser.newContext({ ...PAGE, viewport: { width: 1280, height: 450 } });
    const b = await browser.newContext(PAGE);
    try {
      const margaret = await a.newPage();
      const alan = await b.newPage();
      await margaret.goto(`${t.url}/demo/?name=margaret`);
      await alan.goto(`${t.url}/demo/?name=alan`);
      await connected(margaret);
      await connected(alan);
      await alan.fill('#chat-input', 'Ticker looks busy today');
      await alan.press('#chat-input', 'Enter');
      await margaret.waitForSelector('#messages li:has-text("Ticker looks busy today")', { timeout: 10_000 });
      await margaret.fill('#chat-input', 'Three transports later, still live');
      await margaret.press('#chat-input', 'Enter');
      await margaret.waitForSelector('#messages li:has-text("still live")', { timeout: 10_000 });
      await margaret.click('#notify');
      await margaret.click('#notify');
      await margaret.click('#notify');
      await badgeIs(margaret, '3');
      await margaret.click('#bell');
      await margaret.waitForFunction('document.querySelectorAll("#inbox li").length === 3 && Number(document.getElementById("ticks").textContent) >= 2', undefined, { timeout: 10_000 });
      mkdirSync(`${root}docs/img`, { recursive: true });
      const png = await margaret.screenshot({ path: SCREENSHOT });
      assert.ok(png.length > 10_000, `a real picture: ${png.length} bytes`);
    } finally {
      await a.close();
      await b.close();
    }
  });

  for (const transport of ['websocket', 'stream', 'sse', 'poll', 'sockjs'] as const) {
    it(`the switch on ${transport}: connected over it, the ticker ticks`, async () => {
      const page = await browser.newPage(PAGE);
      try {
        await page.goto(`${t.url}/demo/?name=tick-${transport}`);
        await connected(page);
        await page.selectOption('#transport', transport);
        await page.waitForFunction(`(() => { const s = document.getElementById("state"); return s.dataset.state === "connected" && s.dataset.transport === ${JSON.stringify(transport)}; })()`,
          undefined, { timeout: 15_000 });
        assert.match((await page.textContent('#state')) ?? '', new RegExp(`^connected over ${transport}`));
        await page.waitForFunction('Number(document.getElementById("ticks").textContent) >= 2', undefined, { timeout: 10_000 });
        assert.equal(await page.locator('#ticker tr').count(), 4);
        assert.match((await page.textContent('#ticker tr:first-child td:nth-child(2)')) ?? '', /^\d+\.\d\d$/);
        assert.match(page.url(), new RegExp(`transport=${transport}`));
      } finally {
        await page.close();
      }
    });
  }
  it('offline for a moment on long polling: back with the ticker recovered, the missed ticks replayed', async () => {
    const context = await browser.newContext(PAGE);
    try {
      const page = await context.newPage();
      await page.goto(`${t.url}/demo/?name=otto&transport=poll`);
      await connected(page);
      await page.waitForFunction('Number(document.getElementById("ticks").textContent) >= 1', undefined, { timeout: 10_000 });
      const before = Number(await page.textContent('#ticks'));
      const wentOffline = Date.now();
      await context.setOffline(true);
      await page.waitForFunction('document.getElementById("state").dataset.state === "connecting"', undefined, { timeout: 40_000 });
      await new Promise((r) => setTimeout(r, 1500));
      await context.setOffline(false);
      await page.waitForFunction('document.getElementById("state").dataset.recovered === "true"', undefined, { timeout: 20_000 });
      assert.match((await page.textContent('#state')) ?? '', /^connected over poll as otto · ticker recovered: nothing missed/);
      // every tick of the offline time came with the recovery: none skipped, about one a second
      const offlineSeconds = Math.floor((Date.now() - wentOffline) / 1000);
      await page.waitForFunction(`Number(document.getElementById("ticks").textContent) >= ${before + offlineSeconds - 1}`, undefined, { timeout: 5000 });
      assert.equal(await page.getAttribute('#ticks', 'data-gaps'), '0');
    } finally {
      await context.close();
    }
  });

  it('the state line says when a reconnect could not recover the ticker (the node restarted, its memory history gone)', async () => {
    const page = await browser.newPage(PAGE);
    try {
      await page.goto(`${t.url}/demo/?name=rita`);
      await connected(page);
      await page.waitForFunction('Number(document.getElementById("ticks").textContent) >= 1', undefined, { timeout: 10_000 });
      await t.restart();
      await page.waitForFunction('document.getElementById("state").dataset.recovered === "false"', undefined, { timeout: 20_000 });
      await connected(page);
      assert.match((await page.textContent('#state')) ?? '', /^connected over websocket as rita · ticker not recovered/);
      const before = Number(await page.textContent('#ticks'));
      await page.waitForFunction(`Number(document.getElementById("ticks").textContent) > ${before}`, undefined, { timeout: 10_000 });
    } finally {
      await page.close();
    }
  });
});

describe('tidings serve without --demo', () => {
  let t: TidingsProcess;
  before(async () => {
    t = await startTidings({ args: ['--store', 'memory'] });
  });
  after(async () => {
    await t?.stop();
  });

  it('has no /demo/ page and no /demo/token', async () => {
    for (const [method, path] of [['GET', '/demo/'], ['GET', '/demo'], ['GET', '/demo/main.js'], ['POST', '/demo/token'], ['POST', '/demo/notify']] as const) {
      const res = await fetch(`${t.url}${path}`, { method, ...(method === 'POST' ? { body: '{"name":"ada"}', headers: { 'content-type': 'application/json' } } : {}) });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.deepEqual(((await res.json()) as { error: { code: number } }).error.code, 114);
    }
  });
});

/**
 * The news-alert example app end to end in Chromium: the bell page (examples/news-bell.mjs) on its
 * own origin, the crawler (examples/news-alerts.mjs) run once, and the bell counting up live.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailability, launchChromium } from '../helpers/browser.js';
import { API_KEY, JWT_SECRET, freePort, startTidings, type TidingsProcess } from '../helpers/tidings.js';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const clientDir = fileURLToPath(new URL('../../packages/client/', import.meta.url));

describe('the news-alert example in Chromium', chromiumAvailability('the news-bell example test'), () => {
  let t: TidingsProcess;
  let browser: Browser;
  let bell: ChildProcess;
  let origin: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    await run(process.execPath, [`${clientDir}scripts/bundle.mjs`]);
    const port = await freePort();
    origin = `http://localhost:${port}`;
    t = await startTidings({ args: ['--allowed-origins', origin] });
    env = { ...process.env, TIDINGS_URL: t.url, TIDINGS_API_KEY: API_KEY, TIDINGS_JWT_SECRET: JWT_SECRET, PORT: String(port), NEWS_USER: '43' };
    bell = spawn(process.execPath, [`${examples}news-bell.mjs`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      bell.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('bell page for user 43')) resolve(); });
      bell.once('exit', (code) => reject(new Error(`news-bell exited with ${code}`)));
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    bell?.kill();
    await t?.stop();
  });

  it('shows 0, then the crawled headlines and their count without a reload, and the bell marks them read', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/`);
      await page.waitForFunction('document.getElementById("status").textContent.startsWith("live over")', undefined, { timeout: 10_000 });
      assert.equal(await page.textContent('#count'), '0');
      const crawled = await run(process.execPath, [`${examples}news-alerts.mjs`, '--once'], { env });
      assert.match(crawled.stdout, /notified 5 users/);
      await page.waitForFunction('document.getElementById("count").textContent === "3"', undefined, { timeout: 10_000 });
      await page.waitForFunction('document.querySelectorAll("#news li").length === 3', undefined, { timeout: 10_000 });
      assert.equal(await page.textContent('#news li:first-child'), 'A new WebSocket server passes the Autobahn suite');
      await page.click('#bell');
      await page.waitForFunction('document.getElementById("count").textContent === "0"', undefined, { timeout: 10_000 });
      assert.deepEqual((await t.api('GET', '/api/notifications/unread-count?user=43')).body, { unread: 0 });
    } finally {
      await page.close();
    }
  });
});

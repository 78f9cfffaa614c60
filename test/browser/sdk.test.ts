/**
 * The SDK's browser bundles in a real Chromium (Debian's, driven by playwright-core): native
 * WebSocket, fetch streams, EventSource and long polling against the real server, cross-origin,
 * the bundles imported from the server's own /client/ by a page on another origin.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailability, launchChromium, servePages, type PageOrigin } from '../helpers/browser.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';

const clientDir = fileURLToPath(new URL('../../packages/client/', import.meta.url));

describe('the SDK in Chromium', chromiumAvailability('the browser tests'), () => {
  let t: TidingsProcess;
  let browser: Browser;
  let pages: PageOrigin | undefined;
  let origin: string;

  before(async () => {
    const built = spawnSync(process.execPath, [`${clientDir}scripts/bundle.mjs`], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    pages = await servePages((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>tidings</title>');
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

  for (const transport of ['websocket', 'stream', 'sse', 'poll'] as const) {
    it(`receives every publication in order over ${transport}, with the user's live unread count`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(origin);
        const token = await makeToken(`browser-${transport}`);
        const channel = `bt-${transport}`;
        // a string, not a function: the test runner's transpiler would add helpers the page lacks
        await page.evaluate(`(async () => {
          const { Client } = await import(${JSON.stringify(`${t.url}/client/tidings-fallback.min.js`)});
          window.received = [];
          const client = new Client(${JSON.stringify(t.url)}, { transports: [${JSON.stringify(transport)}], token: ${JSON.stringify(token)} });
          client.on('connected', (e) => { window.transportUsed = e.transport; });
          client.subscribe(${JSON.stringify(channel)}, { publication: ({ data }) => window.received.push(data) });
          const inbox = client.inbox;
          window.state = () => client.state;
          window.unread = () => inbox.unreadCount;
          client.connect();
        })()`);
        await page.waitForFunction('window.state() === "connected"', undefined, { timeout: 10_000 });
        await page.waitForTimeout(300);
        for (let i = 1; i <= 5; i++) await t.publish(channel, { i });
        await t.api('POST', '/api/notifications', { user: `browser-${transport}`, type: 'hello', payload: {} });
        await page.waitForFunction('window.received.length === 5', undefined, { timeout: 10_000 });
        await page.waitForFunction('window.unread() === 1', undefined, { timeout: 10_000 });
        const got = await page.evaluate('({ received: window.received, transportUsed: window.transportUsed })') as { received: unknown[]; transportUsed: string };
        assert.deepEqual(got.received, [1, 2, 3, 4, 5].map((i) => ({ i })));
        assert.equal(got.transportUsed, transport);
      } finally {
        await page.close();
      }
    });
  }

  it('loads the WebSocket-only bundle as a module in a page from another origin', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(origin);
      const token = await makeToken('ws-only');
      const user = await page.evaluate(`(async () => {
        const { Client } = await import(${JSON.stringify(`${t.url}/client/tidings.min.js`)});
        const client = new Client(${JSON.stringify(t.wsUrl)}, { token: ${JSON.stringify(token)} });
        return new Promise((resolve) => {
          client.on('connected', (e) => { resolve(e.user); client.disconnect(); });
          client.connect();
        });
      })()`);
      assert.equal(user, 'ws-only');
    } finally {
      await page.close();
    }
  });

  it('loads the IIFE bundle as a classic script from the server: the global Tidings.Client connects', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(origin);
      await page.addScriptTag({ url: `${t.url}/client/tidings-fallback.iife.min.js` });
      const token = await makeToken('iife');
      const user = await page.evaluate(`new Promise((resolve) => {
        const client = new Tidings.Client(${JSON.stringify(t.url)}, { transports: ['sse'], token: ${JSON.stringify(token)} });
        client.on('connected', (e) => { resolve(e.user); client.disconnect(); });
        client.connect();
      })`);
      assert.equal(user, 'iife');
    } finally {
      await page.close();
    }
  });
});

/**
 * The admin console's live feed in Chromium: on two nodes sharing a real redis-server, the page
 * served by one node shows both nodes' connections live (each node's stats reach it over
 * `$admin:stats`), without one request to /admin/api/stats; and when its WebSocket cannot get
 * through, the page says so and polls this node, until the live connection is back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumAvailability, launchChromium } from '../helpers/browser.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

const run = promisify(execFile);
const buildPages = fileURLToPath(new URL('../../packages/pages/scripts/build.mjs', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const ADMIN_KEY = 'an-admin-key-for-scripts-0123456789';

const chromium = chromiumAvailability('the admin live feed browser test');
const redis = chromium.skip ? chromium : redisAvailability();

/** Waits until the text of `selector` passes `ok` (polled: the page's CSP forbids the eval behind waitForFunction). */
async function waitText(page: Page, selector: string, ok: (text: string) => boolean, ms = 8000): Promise<string> {
  const deadline = Date.now() + ms;
  let text = '';
  while (Date.now() < deadline) {
    text = (await page.textContent(selector).catch(() => null)) ?? '';
    if (ok(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${selector} still reads ${JSON.stringify(text.slice(0, 300))}`);
}

/** A page logged in to `node`'s admin console; `polls` collects its requests to /admin/api/stats. */
async function adminPage(browser: Browser, node: TidingsProcess, prepare: (page: Page) => Promise<void> = async () => {}): Promise<{ page: Page; polls: string[] }> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  const polls: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/admin/api/stats') polls.push(r.url());
  });
  await prepare(page);
  await page.goto(`${node.url}/admin/`);
  await page.fill('#password', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#dashboard', { state: 'visible' });
  return { page, polls };
}

async function nodeId(node: TidingsProcess): Promise<string> {
  const res = await fetch(`${node.url}/admin/api/stats`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return ((await res.json()) as { node: string }).node;
}

describe('the admin console live over Tidings', redis, () => {
  let store: RedisProcess;
  let nodes: TidingsProcess[];
  let browser: Browser;
  const clients: WsClient[] = [];

  before(async () => {
    await run(process.execPath, [buildPages]);
    store = await RedisProcess.start();
    nodes = await Promise.all([0, 1].map(() => startTidings({ args: ['--engine', 'redis', '--redis-url', store.url, '--admin-password', PASSWORD], env: { TIDINGS_ADMIN_KEY: ADMIN_KEY } })));
    browser = await launchChromium();
  });
  after(async () => {
    for (const c of clients) c.close();
    await browser?.close();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await store?.kill();
  });

  it('shows both nodes of a Redis cluster live, their connections rising, without polling /admin/api/stats', async () => {
    const [a, b] = nodes as [TidingsProcess, TidingsProcess];
    const [idA, idB] = await Promise.all([nodeId(a), nodeId(b)]);
    const { page, polls } = await adminPage(browser, a);
    await waitText(page, '#live', (x) => x === 'live over Tidings');
    const connections = (id: string): string => `#nodes tr[data-node="${id}"] td:nth-child(2)`;
    await waitText(page, `#nodes tr[data-node="${idA}"]`, (x) => x.includes('(this node)'));
    await waitText(page, connections(idB), (x) => x === '0');
    for (let i = 0; i < 2; i++) clients.push(await WsClient.connect(b.wsUrl));
    await waitText(page, connections(idB), (x) => x === '2');
    clients.push(await WsClient.connect(b.wsUrl));
    await waitText(page, connections(idB), (x) => x === '3');
    const own = Number(await page.textContent(connections(idA)));
    assert.ok(own >= 1, 'the page\'s own live connection is on node A');
    await waitText(page, '#connections-total', (x) => Number(x) === own + 3);
    assert.deepEqual(polls, []);
    await page.context().close();
  });

  it('says the live feed is down and polls this node while its WebSocket cannot get through, and goes live again', async () => {
    const [a] = nodes as [TidingsProcess];
    let blocked = true;
    const { page, polls } = await adminPage(browser, a, (p) => p.routeWebSocket(/\/ws$/, (ws) => {
      if (blocked) void ws.close();
      else void ws.connectToServer();
    }));
    await waitText(page, '#live', (x) => x.includes('polling this node every second'), 15_000);
    await waitText(page, '#transports', (x) => x.includes('websocket'));
    assert.ok(polls.length > 0, 'polled /admin/api/stats');
    const before = Number(await page.textContent('#connections-total'));
    clients.push(await WsClient.connect(a.wsUrl));
    await waitText(page, '#connections-total', (x) => Number(x) === before + 1);
    blocked = false;
    await waitText(page, '#live', (x) => x === 'live over Tidings', 15_000);
    const stopped = polls.length;
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(polls.length, stopped, 'no more polls once live');
    await page.context().close();
  });
});

/**
 * permessage-deflate with a real Chromium (Debian's, driven by playwright-core): its own
 * WebSocket with its default offer, beside a `ws` client that offers nothing, on one channel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailability, launchChromium, servePages, type PageOrigin } from '../helpers/browser.js';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

/** What the page reports: the negotiated extensions, and every message line it received. */
interface PageResult {
  extensions: string;
  lines: string[];
}

describe('permessage-deflate in Chromium', chromiumAvailability('the permessage-deflate browser test'), () => {
  let t: TidingsProcess;
  let browser: Browser;
  let pages: PageOrigin | undefined;

  before(async () => {
    pages = await servePages((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>deflate</title>'); });
    const config = configFile({ namespaces: { room: { publish: true } } });
    t = await startTidings({ args: ['--ws-compression', 'on', '--allowed-origins', pages.origin, '--config', config] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await pages?.close();
  });

  it('negotiates with Chromium\'s default offer, sends it compressed notifications and reads what it sends', async () => {
    const plain = await WsClient.open(t.wsUrl, { perMessageDeflate: false });
    await plain.command('connect');
    await plain.command('subscribe', { channel: 'room:news' });
    const page = await browser.newPage();
    await page.goto(pages!.origin);
    const notification = { type: 'comment.created', title: 'New comment on your post', body: 'Looks good to me, see you on Thursday. '.repeat(20) };
    await page.evaluate(async (url: string) => {
      const w = window as unknown as { ws: WebSocket; lines: string[] };
      w.lines = [];
      w.ws = new WebSocket(url);
      w.ws.onmessage = (e: MessageEvent<string>) => { w.lines.push(...e.data.split('\n')); };
      await new Promise((resolve) => { w.ws.onopen = resolve; });
      w.ws.send(JSON.stringify({ id: 1, type: 'connect' }));
      w.ws.send(JSON.stringify({ id: 2, type: 'subscribe', channel: 'room:news' }));
      const deadline = Date.now() + 5000;
      while (w.lines.length < 2) {
        if (Date.now() > deadline || w.ws.readyState !== WebSocket.OPEN) throw new Error(`no replies to connect and subscribe (${w.ws.readyState})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }, t.wsUrl);
    for (let i = 0; i < 3; i++) await t.publish('room:news', { ...notification, id: i });
    await page.evaluate((data: unknown) => {
      (window as unknown as { ws: WebSocket }).ws.send(JSON.stringify({ id: 3, type: 'publish', channel: 'room:news', data }));
    }, { ...notification, id: 'from-chromium' });
    const expected = [0, 1, 2, 'from-chromium'].map((id) => ({ ...notification, id }));
    await plain.until(() => plain.pushes('publication').length === 4, 5000, 'four publications');
    assert.deepEqual(plain.pushes('publication').map((p) => p.data), expected);
    const result = await page.evaluate(async () => {
      const w = window as unknown as { ws: WebSocket; lines: string[] };
      const deadline = Date.now() + 5000;
      while (w.lines.filter((l) => l.includes('"publication"')).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return { extensions: w.ws.extensions, lines: w.lines };
    }) as PageResult;
    assert.equal(result.extensions, 'permessage-deflate; client_no_context_takeover; server_no_context_takeover');
    const publications = result.lines.map((l) => JSON.parse(l) as { type: string; data: unknown }).filter((m) => m.type === 'publication');
    assert.deepEqual(publications.map((m) => m.data), expected);
    assert.ok(result.lines.some((l) => l.startsWith('{"type":"reply","id":3')), 'the publish was answered');
    plain.close();
    await page.close();
  });
});

/**
 * Spring-style front ends in a real Chromium (Debian's, driven by playwright-core): the stock
 * sockjs-client browser bundle under the @stomp/stompjs UMD bundle, from a page on another
 * origin, forced onto each SockJS transport in turn (and the default list). The iframe page loads
 * the same local sockjs-client copy (`--sockjs-client-url`), so the iframe transports work offline.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumAvailability, launchChromium, servePages, type PageOrigin } from '../helpers/browser.js';
import type { TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { startSockjsTidings } from '../sockjs/helpers.js';

const modules = fileURLToPath(new URL('../../node_modules/', import.meta.url));
const SCRIPTS: Record<string, string> = {
  '/sockjs.min.js': `${modules}sockjs-client/dist/sockjs.min.js`,
  '/stomp.umd.min.js': `${modules}@stomp/stompjs/bundles/stomp.umd.min.js`,
};

describe('sockjs-client + @stomp/stompjs in Chromium', chromiumAvailability('the SockJS browser tests'), () => {
  let t: TidingsProcess;
  let browser: Browser;
  let pages: PageOrigin | undefined;
  let origin: string;

  before(async () => {
    pages = await servePages((req, res) => {
      const file = SCRIPTS[req.url ?? ''];
      if (!file) {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>spring-style</title><script src="/sockjs.min.js"></script><script src="/stomp.umd.min.js"></script>');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    });
    origin = pages.origin;
    t = await startSockjsTidings(['--allowed-origins', origin, '--sockjs-client-url', `${origin}/sockjs.min.js`, '--sockjs-aliases', '/ws-stomp']);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await t?.stop();
    await pages?.close();
  });

  const cases: Array<{ name: string; transports?: string[]; expect: string }> = [
    { name: 'websocket', transports: ['websocket'], expect: 'websocket' },
    { name: 'xhr-streaming', transports: ['xhr-streaming'], expect: 'xhr-streaming' },
    { name: 'xhr-polling', transports: ['xhr-polling'], expect: 'xhr-polling' },
    { name: 'eventsource', transports: ['eventsource'], expect: 'eventsource' },
    { name: 'iframe-htmlfile', transports: ['iframe-htmlfile'], expect: 'iframe-htmlfile' },
    { name: 'jsonp-polling', transports: ['jsonp-polling'], expect: 'jsonp-polling' },
    { name: 'the default list', expect: 'websocket' },
  ];
  for (const c of cases) {
    it(`${c.name}: subscribes to /topic/news, receives publications in order, and SENDs to a JSON-protocol client`, async () => {
      const json = await WsClient.connect(t.wsUrl);
      await json.command('subscribe', { channel: 'news' });
      const page = await browser.newPage();
      try {
        await page.goto(origin);
        const options = c.transports ? { transports: c.transports } : {};
        // a string, not a function: the test runner's transpiler would add helpers the page lacks
        await page.evaluate(`(() => {
          window.received = [];
          window.transportUsed = '';
          window.connected = false;
          const client = new StompJs.Client({
            webSocketFactory: () => {
              const sock = new SockJS(${JSON.stringify(`${t.url}/ws-stomp`)}, null, ${JSON.stringify(options)});
              sock.addEventListener('open', () => { window.transportUsed = sock.transport; });
              return sock;
            },
            reconnectDelay: 0,
          });
          client.onConnect = () => {
            client.watchForReceipt('sub', () => { window.connected = true; });
            client.subscribe('/topic/news', (m) => window.received.push(JSON.parse(m.body)), { receipt: 'sub' });
          };
          window.client = client;
          client.activate();
        })()`);
        await page.waitForFunction('window.connected', undefined, { timeout: 15_000 });
        const tag = `${c.name}-${Date.now()}`;
        for (let i = 1; i <= 5; i++) await t.publish('news', { tag, i });
        await page.waitForFunction(`window.received.filter((m) => m.tag === ${JSON.stringify(tag)}).length === 5`, undefined, { timeout: 10_000 });
        const got = await page.evaluate(`({ received: window.received.filter((m) => m.tag === ${JSON.stringify(tag)}), transportUsed: window.transportUsed })`) as { received: Array<{ i: number }>; transportUsed: string };
        assert.deepEqual(got.received.map((m) => m.i), [1, 2, 3, 4, 5]);
        assert.equal(got.transportUsed, c.expect);

        await page.evaluate(`window.client.publish({ destination: '/topic/news', body: JSON.stringify({ from: ${JSON.stringify(c.name)} }), headers: { 'content-type': 'application/json' } })`);
        await json.until(() => json.pushes('publication').some((p) => JSON.stringify(p.data) === JSON.stringify({ from: c.name })), 5000, 'the STOMP SEND from the page');
        await page.evaluate('window.client.deactivate()');
      } finally {
        await page.close();
        json.close();
      }
    });
  }
});

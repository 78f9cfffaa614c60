/**
 * The stock `sockjs-client` (npm) under `@stomp/stompjs`, in Node, forced onto each transport it
 * has there: STOMP subscribe, API publications in order, SEND reaching a JSON-protocol client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SockJS from 'sockjs-client';
import { makeToken, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { collect, startSockjsTidings, stompOverSockjs, until } from './helpers.js';

describe('sockjs-client + @stomp/stompjs in Node', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startSockjsTidings(['--sockjs-aliases', '/ws-stomp']);
  });
  after(async () => {
    await t?.stop();
  });

  const cases: Array<{ name: string; transports?: string[]; expect: string[] }> = [
    { name: 'websocket', transports: ['websocket'], expect: ['websocket'] },
    { name: 'xhr-streaming', transports: ['xhr-streaming'], expect: ['xhr-streaming'] },
    { name: 'xhr-polling', transports: ['xhr-polling'], expect: ['xhr-polling'] },
    { name: 'eventsource', transports: ['eventsource'], expect: ['eventsource'] },
    { name: 'the default list', expect: ['websocket'] },
  ];
  for (const c of cases) {
    it(`${c.name}: subscribes to /topic/news, receives publications in order, and SENDs to a JSON-protocol client`, async () => {
      const json = await WsClient.connect(t.wsUrl);
      await json.command('subscribe', { channel: 'news' });
      const stomp = await stompOverSockjs(`${t.url}/sockjs`, c.transports);
      try {
        assert.ok(c.expect.includes(stomp.transport), `transport used: ${stomp.transport}`);
        const bodies = collect(stomp.client, '/topic/news');
        // a RECEIPT-less subscribe: a publish round trip through the same session orders it
        await new Promise((r) => setTimeout(r, 300));
        const tag = `${c.name}-${Date.now()}`;
        for (let i = 1; i <= 5; i++) await t.publish('news', { tag, i });
        await until(() => bodies.filter((b) => b.includes(tag)).length === 5, 5000, 'five publications');
        assert.deepEqual(bodies.filter((b) => b.includes(tag)).map((b) => (JSON.parse(b) as { i: number }).i), [1, 2, 3, 4, 5]);

        stomp.client.publish({ destination: '/topic/news', body: JSON.stringify({ from: c.name }), headers: { 'content-type': 'application/json' } });
        await json.until(() => json.pushes('publication').some((p) => JSON.stringify(p.data) === JSON.stringify({ from: c.name })), 5000, 'the STOMP SEND');
      } finally {
        await stomp.client.deactivate();
        json.close();
      }
    });
  }

  it('serves the same endpoint under an alias (/ws-stomp, as in Spring)', async () => {
    const stomp = await stompOverSockjs(`${t.url}/ws-stomp`, ['xhr-streaming']);
    try {
      const bodies = collect(stomp.client, '/topic/alias');
      await new Promise((r) => setTimeout(r, 300));
      await t.publish('alias', { ok: true });
      await until(() => bodies.length === 1, 5000, 'a publication over the alias');
      assert.deepEqual(JSON.parse(bodies[0]!), { ok: true });
    } finally {
      await stomp.client.deactivate();
    }
  });

  it('closes with the Tidings close code: POST /api/disconnect gives 3502 over SockJS', async () => {
    const token = await makeToken('sockjs-user');
    const stomp = await stompOverSockjs(`${t.url}/sockjs`, ['xhr-polling'], { passcode: token });
    const res = await t.api('POST', '/api/disconnect', { user: 'sockjs-user' });
    assert.equal(res.status, 200);
    await until(() => stomp.closes.length > 0, 5000, 'the close');
    assert.equal(stomp.closes[0]![0], 3502);
    await stomp.client.deactivate();
  });

  it('runs the JSON protocol when the first message is not STOMP, with the token from the query', async () => {
    const token = await makeToken('json-over-sockjs');
    const sock = new SockJS(`${t.url}/sockjs?token=${token}`, null, { transports: ['xhr-streaming'] }) as unknown as WebSocket;
    const messages: Array<Record<string, unknown>> = [];
    sock.onmessage = (e: MessageEvent) => {
      for (const line of String(e.data).split('\n')) messages.push(JSON.parse(line) as Record<string, unknown>);
    };
    await new Promise<void>((resolve) => { sock.onopen = () => resolve(); });
    sock.send(JSON.stringify({ id: 1, type: 'connect' }));
    sock.send(JSON.stringify({ id: 2, type: 'subscribe', channel: 'json-news' }));
    await until(() => messages.some((m) => m.id === 2), 5000, 'the subscribe reply');
    assert.equal((messages.find((m) => m.id === 1)?.result as { user: string }).user, 'json-over-sockjs');
    await t.publish('json-news', { n: 1 });
    await until(() => messages.some((m) => m.type === 'publication'), 5000, 'the publication');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => { sock.onclose = resolve; });
    await t.api('POST', '/api/disconnect', { user: 'json-over-sockjs' });
    assert.equal((await closed).code, 3502);
  });

  it('closes with 3500 when the query token is refused', async () => {
    const sock = new SockJS(`${t.url}/sockjs?token=not-a-jwt`, null, { transports: ['xhr-polling'] }) as unknown as WebSocket;
    const e = await new Promise<{ code: number; reason: string }>((resolve) => { sock.onclose = resolve; });
    assert.equal(e.code, 3500);
  });
});

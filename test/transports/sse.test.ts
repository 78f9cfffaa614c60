import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import type { ServerMessage } from '@tidings/protocol';
import { TestProxy } from '../helpers/proxy.js';
import { makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';

/** A stock EventSource (the `eventsource` package) recording every message and event id. */
class Recorder {
  readonly messages: ServerMessage[] = [];
  readonly eventIds: string[] = [];
  opens = 0;
  readonly es: EventSource;
  constructor(url: string, init?: ConstructorParameters<typeof EventSource>[1]) {
    this.es = new EventSource(url, init);
    this.es.onopen = () => { this.opens++; };
    this.es.onmessage = (e) => {
      this.messages.push(JSON.parse(e.data as string) as ServerMessage);
      this.eventIds.push(e.lastEventId);
    };
  }
  of<K extends ServerMessage['type']>(type: K): Array<Extract<ServerMessage, { type: K }>> {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: K }> => m.type === type);
  }
  async until(cond: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const dataOf = (r: Recorder) => r.of('publication').map((p) => p.data);

describe('SSE with a stock EventSource', () => {
  let t: TidingsProcess;
  let proxy: TestProxy;

  before(async () => {
    t = await startTidings();
    proxy = await TestProxy.start(t.port);
  });
  after(async () => {
    await proxy.stop();
    await t.stop();
  });

  it('receives API publications, and after a dropped connection Last-Event-ID brings exactly the missed ones', async () => {
    const r = new Recorder(`${proxy.url}/sse?channel=news&channel=sports`);
    await r.until(() => r.of('subscribed').length === 2, 8000, 'subscribed');
    assert.equal(r.of('connected').length, 1);
    await t.publish('news', 1);
    await t.publish('sports', 'a');
    await r.until(() => r.of('publication').length === 2);
    assert.match(r.eventIds.at(-1)!, /news~\d+~[\w-]+!sports~\d+~[\w-]+|sports~\d+~[\w-]+!news~\d+~[\w-]+/);

    proxy.dropAll();
    await t.publish('news', 2);
    await t.publish('news', 3);
    await t.publish('sports', 'b');
    await r.until(() => r.opens === 2 && r.of('publication').length === 5, 10_000, 'reconnect and replay');
    await t.publish('news', 4);
    await r.until(() => r.of('publication').length === 6);
    assert.deepEqual(dataOf(r), [1, 'a', 2, 3, 'b', 4]);
    const resumed = r.of('subscribed').slice(2);
    assert.deepEqual(resumed.map((s) => s.recovered), [true, true]);
    r.es.close();
  });

  it('after a server restart (memory engine: history gone) sends an explicit not-recovered event', async () => {
    const r = new Recorder(`${t.url}/sse?channel=restart`);
    await r.until(() => r.of('subscribed').length === 1);
    await t.publish('restart', 'before');
    await r.until(() => r.of('publication').length === 1);
    await t.restart();
    await r.until(() => r.of('subscribed').length === 2, 15_000, 'resubscribe after restart');
    const again = r.of('subscribed')[1]!;
    assert.equal(again.recovered, false);
    await t.publish('restart', 'after');
    await r.until(() => r.of('publication').length === 2);
    assert.deepEqual(dataOf(r), ['before', 'after']);
    r.es.close();
  });

  it('takes the token from the query, the Authorization header or the cookie', async () => {
    const token = await makeToken('42');
    const byQuery = new Recorder(`${t.url}/sse?channel=user:42&token=${token}`);
    const byHeader = new Recorder(`${t.url}/sse?channel=user:42`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, Authorization: `Bearer ${token}` } }),
    });
    const byCookie = new Recorder(`${t.url}/sse?channel=user:42`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, Cookie: `tidings_token=${token}` } }),
    });
    for (const r of [byQuery, byHeader, byCookie]) await r.until(() => r.of('subscribed').length === 1);
    assert.equal(byHeader.of('connected')[0]!.user, '42');
    await t.publish('user:42', 'for 42');
    for (const r of [byQuery, byHeader, byCookie]) {
      await r.until(() => r.of('publication').length === 1);
      r.es.close();
    }
  });

  it('sends the retry hint, anti-buffering headers and keepalive events', async () => {
    const fast = await startTidings({ args: ['--ping-interval', '1'] });
    try {
      const res = await fetch(`${fast.url}/sse?channel=news`);
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.match(res.headers.get('cache-control') ?? '', /no-cache/);
      assert.equal(res.headers.get('x-accel-buffering'), 'no');
      const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
      let text = '';
      const deadline = Date.now() + 5000;
      while (!text.includes('event: ping') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
      assert.match(text, /^retry: \d+\n\n/);
      assert.ok(text.includes('\n\nevent: ping\ndata:\n\n'));
      assert.match(text, /"type":"connected"[^\n]*"ping":1[,}]/);
      await reader.cancel();
    } finally {
      await fast.stop();
    }
  });
});

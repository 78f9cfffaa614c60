import assert from 'node:assert/strict';
import { Agent, get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ServerMessage } from '@tidings/protocol';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';

interface PollAnswer { messages: ServerMessage[]; cursor: string }

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

/** One GET /poll over node:http (no connection pooling limits). */
function poll(base: string, query: string): Promise<{ status: number; body: PollAnswer }> {
  return new Promise((resolve, reject) => {
    get(`${base}/poll?${query}`, { agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as PollAnswer }));
    }).on('error', reject);
  });
}

const pubs = (a: PollAnswer) => a.messages.filter((m) => m.type === 'publication');

describe('long and short polling', () => {
  let t: TidingsProcess;

  before(async () => {
    t = await startTidings();
  });
  after(async () => {
    await t.stop();
  });

  it('returns a cursor at once on the first poll, then waits and is released by a publication', async () => {
    const first = await poll(t.url, 'channel=lp');
    assert.equal(first.status, 200);
    assert.equal(first.body.messages[0]?.type, 'subscribed');
    const waiting = poll(t.url, `cursor=${first.body.cursor}&wait=20`);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await t.publish('lp', { n: 1 });
    const released = await waiting;
    assert.ok(Date.now() - started < 2000, 'released by the publication, not the timeout');
    assert.deepEqual(pubs(released.body).map((p) => p.type === 'publication' && p.data), [{ n: 1 }]);
  });

  it('answers at once with what was published since the cursor, and wait=0 is short polling', async () => {
    const start = await poll(t.url, 'channel=sp&wait=0');
    for (let n = 1; n <= 3; n++) await t.publish('sp', n);
    const missed = await poll(t.url, `cursor=${start.body.cursor}&wait=20`);
    assert.deepEqual(pubs(missed.body).map((p) => p.type === 'publication' && p.data), [1, 2, 3]);
    const started = Date.now();
    const empty = await poll(t.url, `cursor=${missed.body.cursor}&wait=0`);
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(empty.body.messages, []);
    assert.equal(empty.body.cursor, missed.body.cursor);
  });

  it('times out empty after `wait` seconds with the same cursor', async () => {
    const start = await poll(t.url, 'channel=idle&wait=0');
    const started = Date.now();
    const res = await poll(t.url, `cursor=${start.body.cursor}&wait=1`);
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 3000, `took ${took} ms`);
    assert.deepEqual(res.body.messages, []);
  });

  it('releases 1,000 concurrent long-pollers with one publication, each with a cursor that continues without gaps', async () => {
    const start = await poll(t.url, 'channel=crowd&wait=0');
    const n = 1000;
    const polls = Array.from({ length: n }, () => poll(t.url, `cursor=${start.body.cursor}&wait=30`));
    await new Promise((r) => setTimeout(r, 1500));
    const started = Date.now();
    await t.publish('crowd', 'go');
    const answers = await Promise.all(polls);
    const took = Date.now() - started;
    assert.equal(answers.length, n);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.deepEqual(pubs(a.body).map((p) => p.type === 'publication' && p.data), ['go']);
    }
    assert.ok(took < 10_000, `all released in ${took} ms`);
    await t.publish('crowd', 'second');
    await t.publish('crowd', 'third');
    const next = await Promise.all(answers.slice(0, 50).map((a) => poll(t.url, `cursor=${a.body.cursor}&wait=5`)));
    for (const a of next) assert.deepEqual(pubs(a.body).map((p) => p.type === 'publication' && p.data), ['second', 'third']);
  });

  it('says recovered: false for a cursor whose epoch is gone', async () => {
    const res = await poll(t.url, 'cursor=gone~5~oldEpoch&wait=5');
    const sub = res.body.messages[0];
    assert.equal(sub?.type, 'subscribed');
    assert.equal(sub?.type === 'subscribed' && sub.recovered, false);
    assert.notEqual(res.body.cursor, 'gone~5~oldEpoch');
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IFrame } from '@stomp/stompjs';
import type { ServerMessage } from '@tidings/protocol';
import { stompJs } from '../stomp/helpers.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

/** JSON text of `[[[…]]]`, `levels` deep: 20,000 levels is 40 KB, under the 64 KiB body limit. */
const deepText = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const DEEP = deepText(20_000);
const CHANNEL = 'open:deep';

type ErrorBody = { error: { code: number; message: string } };

/**
 * Issue 12 item 3: data nested deeper than `maxDepth` (64) is refused with 107 on every way in,
 * before anything is stored, so subscribers are never cut off by a publication nobody can encode.
 */
describe('payload nesting depth (maxDepth)', () => {
  let t: TidingsProcess;
  let subscriber: WsClient;
  /** What the channel's history must hold: the publications that were accepted. */
  const stored: unknown[] = [];

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidings-depth-'));
    const config = join(dir, 'tidings.json');
    writeFileSync(config, JSON.stringify({ namespaces: { open: { publish: true } } }));
    t = await startTidings({ args: ['--config', config] });
    subscriber = await WsClient.connect(t.wsUrl);
    await subscriber.command('subscribe', { channel: CHANNEL });
  });
  after(async () => {
    subscriber.close();
    await t.stop();
  });

  /** The subscriber was never unsubscribed, still receives, and the channel's history holds only good publications. */
  async function nothingStored(): Promise<void> {
    const sent = { good: stored.length };
    await t.publish(CHANNEL, sent);
    stored.push(sent);
    await subscriber.until(() => subscriber.pushes('publication').length === stored.length, 5000, `publication ${stored.length}`);
    assert.deepEqual(subscriber.pushes('publication').map((p) => p.data), stored);
    assert.deepEqual(subscriber.pushes('unsubscribed'), []);
    assert.equal(subscriber.closeCode, undefined);
    const history = await t.api('GET', `/api/history?channel=${CHANNEL}`);
    assert.equal(history.status, 200, JSON.stringify(history.body));
    const pubs = (history.body as { publications: Array<{ data: unknown }> }).publications;
    assert.deepEqual(pubs.map((p) => p.data), stored);
  }

  function assertRefused(res: { status: number; body: unknown }, message: RegExp = /maxDepth/): void {
    assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 200));
    const { error } = res.body as ErrorBody;
    assert.equal(error.code, 107);
    assert.match(error.message, message);
  }

  it('POST /api/publish of data 20,000 levels deep: 400 with 107, nothing stored, the subscriber keeps its subscription', async () => {
    assertRefused(await t.api('POST', '/api/publish', `{"channel":"${CHANNEL}","data":${DEEP}}`));
    await nothingStored();
  });

  it('refuses 65 levels naming the limit, and delivers 64 levels intact', async () => {
    assertRefused(await t.api('POST', '/api/publish', `{"channel":"${CHANNEL}","data":${deepText(65)}}`), /^data nests deeper than 64 levels \(maxDepth\)$/);
    await nothingStored();
    const limit = JSON.parse(deepText(64)) as unknown;
    await t.publish(CHANNEL, limit);
    stored.push(limit);
    await nothingStored();
  });

  it('refuses numbers JSON cannot carry (1e400 parses as Infinity) instead of delivering null', async () => {
    assertRefused(await t.api('POST', '/api/publish', `{"channel":"${CHANNEL}","data":[1e400]}`), /number JSON cannot carry/);
  });

  it('POST /api/broadcast: refused as a whole, nothing stored on any channel', async () => {
    assertRefused(await t.api('POST', '/api/broadcast', `{"channels":["${CHANNEL}","open:other"],"data":${deepText(100)}}`));
    assertRefused(await t.api('POST', '/api/broadcast', `{"channels":["${CHANNEL}","open:other"],"data":${DEEP}}`));
    const other = await t.api('GET', '/api/history?channel=open:other');
    assert.deepEqual((other.body as { publications: unknown[] }).publications, []);
    await nothingStored();
  });

  it('a WebSocket publish: error reply 107, the connection stays', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await assert.rejects(c.command('publish', { channel: CHANNEL, data: JSON.parse(deepText(65)) as unknown }),
      (e: ReplyError) => e.error.code === 107 && /maxDepth/.test(e.error.message));
    const id = 99;
    c.sendRaw(`{"id":${id},"type":"publish","channel":"${CHANNEL}","data":${DEEP}}`);
    await c.until(() => c.messages.some((m) => m.type === 'error' && m.id === id));
    const reply = c.messages.find((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error' && m.id === id)!;
    assert.equal(reply.error.code, 107);
    assert.deepEqual(await c.command('ping'), {});
    c.close();
    await nothingStored();
  });

  it('a WebSocket command whose type is 20,000 levels deep gets 104, not an internal failure', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.sendRaw(`{"id":7,"type":${DEEP}}`);
    await c.until(() => c.messages.some((m) => m.type === 'error' && m.id === 7));
    const reply = c.messages.find((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error' && m.id === 7)!;
    assert.equal(reply.error.code, 104);
    assert.deepEqual(await c.command('ping'), {});
    c.close();
  });

  it('an /emulation publish: 400 with 107 for data too deep, an error reply 107 for data JSON cannot carry', async () => {
    const emulate = async (data: string): Promise<{ status: number; body: unknown }> => {
      const body = `{"commands":[{"id":1,"type":"publish","channel":"${CHANNEL}","data":${data}}]}`;
      const res = await fetch(`${t.url}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, body: await res.json() };
    };
    assertRefused(await emulate(deepText(65)));
    assertRefused(await emulate(DEEP));
    const infinite = await emulate('[1e400]');
    assert.equal(infinite.status, 200);
    const [reply] = (infinite.body as { replies: ServerMessage[] }).replies;
    assert.equal(reply!.type === 'error' && reply!.error.code, 107);
    const limit = await emulate(deepText(64));
    assert.equal((limit.body as { replies: ServerMessage[] }).replies[0]!.type, 'reply');
    stored.push(JSON.parse(deepText(64)));
    await nothingStored();
  });

  it('a STOMP SEND with a JSON body: ERROR with x-code 107, nothing stored', async () => {
    for (const body of [deepText(65), DEEP]) {
      const { client, errors } = await stompJs(t.wsUrl);
      const failed = new Promise<IFrame>((resolve, reject) => {
        client.onStompError = (frame) => { errors.push(frame); resolve(frame); };
        setTimeout(() => reject(new Error('no ERROR frame within 5 s')), 5000).unref();
      });
      client.publish({ destination: `/topic/${CHANNEL}`, body, headers: { 'content-type': 'application/json' } });
      const error = await failed;
      assert.equal(error.headers['x-code'], '107');
      assert.match(error.headers.message ?? '', /maxDepth/);
      await client.deactivate();
    }
    await nothingStored();
  });

  it('POST /api/notifications: 400 with 107, nothing stored in the inbox', async () => {
    assertRefused(await t.api('POST', '/api/notifications', `{"user":"kim","type":"t","payload":${deepText(65)}}`), /^payload nests deeper than 64 levels/);
    assertRefused(await t.api('POST', '/api/notifications', `{"users":["kim","lee"],"type":"t","payload":${DEEP}}`));
    for (const user of ['kim', 'lee']) {
      const list = await t.api('GET', `/api/notifications?user=${user}`);
      assert.equal(list.status, 200);
      assert.deepEqual((list.body as { notifications: unknown[] }).notifications, []);
    }
    const ok = await t.api('POST', '/api/notifications', `{"user":"kim","type":"t","payload":${deepText(64)}}`);
    assert.equal(ok.status, 200, 'a payload at the limit is accepted, though the inbox event wraps it deeper');
  });

  it('POST /api/schedules: a deep publication or notification target is refused and no schedule is stored', async () => {
    assertRefused(await t.api('POST', '/api/schedules', `{"cron":"* * * * *","target":{"channel":"${CHANNEL}","data":${deepText(65)}}}`), /^target\.data nests deeper/);
    assertRefused(await t.api('POST', '/api/schedules', `{"cron":"* * * * *","target":{"channel":"${CHANNEL}","data":${DEEP}}}`));
    assertRefused(await t.api('POST', '/api/schedules', `{"cron":"* * * * *","target":{"notification":{"user":"kim","type":"t","payload":${deepText(65)}}}}`), /maxDepth/);
    const list = await t.api('GET', '/api/schedules');
    assert.deepEqual((list.body as { schedules: unknown[] }).schedules, []);
    await nothingStored();
  });
});

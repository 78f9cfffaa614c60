import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Bystander } from '../helpers/bystander.js';
import { startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { ReplyError, WsClient } from '../helpers/ws-client.js';

/** Every bad input gets its documented code, and a bystander keeps receiving throughout. */
describe('bad input over WebSocket', () => {
  let t: TidingsProcess;
  let bystander: Bystander;

  before(async () => {
    t = await startTidings({ args: ['--max-message-size', '4096', '--connect-timeout', '1'] });
    bystander = await Bystander.start(t);
  });
  after(async () => {
    await t.stop();
  });

  const rejects = (p: Promise<unknown>, code: number) => assert.rejects(p, (e: ReplyError) => e.error.code === code);

  it('closes with 3501 on a frame that is not JSON', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.sendRaw('this is {not json');
    assert.equal(await c.closed(), 3501);
    assert.equal(c.pushes('disconnect')[0]?.reconnect, false);
    await bystander.stillReceives();
  });

  it('closes with 3501 on a command without an id', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.sendRaw(JSON.stringify({ type: 'ping' }));
    assert.equal(await c.closed(), 3501);
    await bystander.stillReceives();
  });

  it('answers 104 to an unknown command and keeps the connection', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await rejects(c.command('teleport'), 104);
    assert.deepEqual(await c.command('ping'), {});
    c.close();
    await bystander.stillReceives();
  });

  it('answers 107 to missing or wrongly typed fields', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await rejects(c.command('subscribe', {}), 107);
    await rejects(c.command('subscribe', { channel: 42 }), 107);
    await rejects(c.command('subscribe', { channel: 'news', since: { offset: 'x', epoch: 'e' } }), 107);
    await rejects(c.command('publish', { channel: 'news' }), 107);
    await rejects(c.command('history', { channel: 'news', limit: -1 }), 107);
    await rejects(c.command('refresh', { token: 5 }), 107);
    await rejects(c.command('connect', { token: 5 }), 107);
    c.close();
    await bystander.stillReceives();
  });

  it('answers 111 to invalid channel names', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await rejects(c.command('subscribe', { channel: '' }), 111);
    await rejects(c.command('subscribe', { channel: 'has space' }), 111);
    await rejects(c.command('subscribe', { channel: 'x'.repeat(256) }), 111);
    await rejects(c.command('subscribe', { channel: 'emoji🙂' }), 111);
    c.close();
    await bystander.stillReceives();
  });

  it('answers 103 to publishing where clients may not', async () => {
    const c = await WsClient.connect(t.wsUrl);
    await rejects(c.command('publish', { channel: 'news', data: 'spam' }), 103);
    c.close();
    await bystander.stillReceives();
    assert.ok(bystander.client.pushes('publication').every((p) => p.data !== 'spam'));
  });

  it('answers 115 to commands before connect and 116 to a second connect', async () => {
    const c = await WsClient.open(t.wsUrl);
    await rejects(c.command('subscribe', { channel: 'news' }), 115);
    await c.command('connect');
    await rejects(c.command('connect'), 116);
    c.close();
  });

  it('closes with 1009 on a frame over the maximum message size', async () => {
    const c = await WsClient.connect(t.wsUrl);
    c.sendRaw(JSON.stringify({ id: 1, type: 'publish', channel: 'news', data: 'x'.repeat(5000) }));
    assert.equal(await c.closed(), 1009);
    await bystander.stillReceives();
  });

  it('closes with 3007 when connect does not come in time', async () => {
    const c = await WsClient.open(t.wsUrl);
    assert.equal(await c.closed(3000), 3007);
    await bystander.stillReceives();
  });

  it('refuses a handshake on an unknown path and a plain GET on /ws', async () => {
    await assert.rejects(WsClient.open(t.wsUrl.replace('/ws', '/nope')), /404/);
    const res = await fetch(`${t.url}/ws`);
    assert.equal(res.status, 426);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, 107);
    await bystander.stillReceives();
  });
});

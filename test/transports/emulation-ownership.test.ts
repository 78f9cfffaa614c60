import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import type { ConnectedMessage, ProtocolError, ServerMessage } from '@tidings/protocol';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';

/** A user's SSE session: every message it was sent, with each event's `id:`. */
class Victim {
  readonly got: ServerMessage[] = [];
  readonly texts: string[] = [];
  readonly ids: string[] = [];
  private readonly es: EventSource;

  constructor(url: string) {
    this.es = new EventSource(url);
    this.es.onmessage = (e) => {
      this.texts.push(e.data as string);
      this.ids.push(e.lastEventId);
      this.got.push(JSON.parse(e.data as string) as ServerMessage);
    };
  }

  get connected(): ConnectedMessage {
    const c = this.got.find((m): m is ConnectedMessage => m.type === 'connected');
    assert.ok(c, 'connected');
    return c;
  }

  data(): unknown[] {
    return this.got.flatMap((m) => (m.type === 'publication' ? [m.data] : []));
  }

  async until(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.got)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.es.close();
  }
}

interface Answer { status: number; replies?: ServerMessage[]; error?: ProtocolError }

async function emulate(base: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${base}/emulation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, ...((await res.json()) as object) };
}

/** Asserts the answer is the one an unknown session gets. */
function assertUnknownSession(answer: Answer, client: string): void {
  assert.equal(answer.status, 404, JSON.stringify(answer));
  assert.equal(answer.replies, undefined);
  assert.equal(answer.error?.code, 114);
  assert.equal(answer.error?.message, `no session ${client} with this secret on any node (it may have closed)`);
}

const forgedSecret = (): string => randomBytes(24).toString('base64url');

describe('/emulation needs the session\'s secret, not just its public client id', () => {
  let t: TidingsProcess;

  before(async () => {
    const config = configFile({ namespaces: { chat: { presence: true, joinLeave: true, publish: true } } });
    t = await startTidings({ args: ['--config', config], env: { TIDINGS_LOG_LEVEL: 'debug' } });
  });
  after(async () => {
    await t.stop();
  });

  /** A victim with one unread notification on `/sse?channel=chat:room`, seen joining by an observer. */
  async function openVictim(user: string, room: string): Promise<{ victim: Victim; observer: WsClient; client: string }> {
    assert.equal((await t.api('POST', '/api/notifications', { user, type: 'news', payload: { title: 'private' } })).status, 200);
    const observer = await WsClient.connect(t.wsUrl);
    await observer.command('subscribe', { channel: room });
    const victim = new Victim(`${t.url}/sse?channel=${room}&token=${await makeToken(user)}`);
    await victim.until(() => victim.got.some((m) => m.type === 'subscribed'), 'subscribed');
    const joined = (): string | undefined => observer.pushes('join').find((j) => j.info.user === user)?.info.client;
    await observer.until(() => joined() !== undefined, 5000, 'the victim\'s join');
    const client = joined()!;
    assert.equal(client, victim.connected.client, 'the client id is public: the join push shows it');
    return { victim, observer, client };
  }

  async function unread(user: string): Promise<number> {
    return ((await t.api('GET', `/api/notifications/unread-count?user=${user}`)).body as { unread: number }).unread;
  }

  it('does not list the victim\'s inbox nor publish as the victim for an anonymous caller (the issue\'s example)', async () => {
    const { victim, observer, client } = await openVictim('victim', 'chat:room');
    const commands = [{ id: 1, type: 'inbox.list' }, { id: 2, type: 'publish', channel: 'chat:room', data: 'forged' }];
    assertUnknownSession(await emulate(t.url, { client, commands }), client);
    assertUnknownSession(await emulate(t.url, { client, secret: forgedSecret(), commands }), client);
    assertUnknownSession(await emulate(t.url, { client, secret: '', commands }), client);
    assertUnknownSession(await emulate(t.url, { client: 'no-such-session', secret: forgedSecret(), commands }), 'no-such-session');
    await t.publish('chat:room', 'marker');
    await observer.until(() => observer.pushes('publication').some((p) => p.data === 'marker'), 5000, 'marker');
    await victim.until(() => victim.data().includes('marker'), 'marker');
    assert.deepEqual(observer.pushes('publication').map((p) => p.data), ['marker'], 'the room did not receive `forged`');
    assert.equal(await unread('victim'), 1);
    victim.close();
    observer.close();
  });

  it('does not mark, delete, unsubscribe or subscribe the victim to user:<victim> without the secret', async () => {
    const { victim, observer, client } = await openVictim('victim2', 'chat:room2');
    const list = (await t.api('GET', '/api/notifications?user=victim2')).body as { notifications: Array<{ id: string }> };
    const id = list.notifications[0]!.id;
    const attacks = [
      [{ id: 1, type: 'inbox.mark', ids: [id], read: true }],
      [{ id: 1, type: 'inbox.mark', all: true, read: true }],
      [{ id: 1, type: 'inbox.delete', ids: [id] }],
      [{ id: 1, type: 'unsubscribe', channel: 'chat:room2' }],
      [{ id: 1, type: 'subscribe', channel: 'user:victim2' }],
    ];
    for (const commands of attacks) {
      assertUnknownSession(await emulate(t.url, { client, commands }), client);
      assertUnknownSession(await emulate(t.url, { client, secret: forgedSecret(), commands }), client);
    }
    assert.equal(await unread('victim2'), 1, 'still unread');
    const after = (await t.api('GET', '/api/notifications?user=victim2')).body as { notifications: Array<{ id: string; readAt?: number }> };
    assert.deepEqual(after.notifications.map((n) => [n.id, n.readAt]), [[id, undefined]], 'still there, unread');
    await t.publish('user:victim2', 'personal');
    await t.publish('chat:room2', 'still subscribed');
    await victim.until(() => victim.data().includes('still subscribed'), 'the room publication');
    assert.deepEqual(victim.got.filter((m) => m.type === 'subscribed').map((m) => m.type === 'subscribed' && m.channel), ['chat:room2']);
    assert.ok(!victim.data().includes('personal'), 'not subscribed to user:victim2');
    assert.equal(observer.pushes('leave').length, 0, 'the victim did not leave the room');
    victim.close();
    observer.close();
  });

  it('never reaches a WebSocket session, whose connect reply carries no secret', async () => {
    const ws = await WsClient.open(t.wsUrl);
    const connect = await ws.command<{ client: string; secret?: string }>('connect', { token: await makeToken('wsuser') });
    assert.equal(connect.secret, undefined);
    await ws.command('subscribe', { channel: 'chat:ws' });
    const observer = await WsClient.connect(t.wsUrl);
    await observer.command('subscribe', { channel: 'chat:ws' });
    const commands = [{ id: 1, type: 'publish', channel: 'chat:ws', data: 'forged' }, { id: 2, type: 'unsubscribe', channel: 'chat:ws' }];
    assertUnknownSession(await emulate(t.url, { client: connect.client, commands }), connect.client);
    assertUnknownSession(await emulate(t.url, { client: connect.client, secret: forgedSecret(), commands }), connect.client);
    await t.publish('chat:ws', 'marker');
    await observer.until(() => observer.pushes('publication').length === 1, 5000, 'marker');
    await ws.until(() => ws.pushes('publication').length === 1, 5000, 'marker on the WebSocket');
    assert.deepEqual(observer.pushes('publication').map((p) => p.data), ['marker']);
    const opened = new WebSocket(`${t.wsUrl}?connect=1&channel=chat:ws`);
    const first = await new Promise<string>((resolve) => opened.once('message', (data: WebSocket.RawData) => resolve(data.toString())));
    const connected = JSON.parse(first.split('\n')[0]!) as ServerMessage;
    assert.equal(connected.type, 'connected');
    assert.equal(connected.type === 'connected' && connected.secret, undefined);
    opened.close();
    for (const c of [ws, observer]) c.close();
  });

  it('runs the owner\'s commands given the secret from its own `connected`, which appears nowhere else', async () => {
    const { victim, observer, client } = await openVictim('owner', 'chat:own');
    const secret = victim.connected.secret;
    assert.match(secret ?? '', /^[A-Za-z0-9_-]{32}$/);
    const other = new Victim(`${t.url}/sse?token=${await makeToken('owner')}`);
    await other.until(() => other.got.length > 0, 'the second session connected');
    assert.notEqual(other.connected.secret, secret, 'each session has its own secret');
    const commands = [{ id: 1, type: 'inbox.list' }, { id: 2, type: 'publish', channel: 'chat:own', data: 'genuine' }];
    assertUnknownSession(await emulate(t.url, { client, secret: other.connected.secret, commands }), client);
    const ok = await emulate(t.url, { client, secret, commands });
    assert.equal(ok.status, 200);
    const [list, published] = ok.replies!;
    assert.ok(list?.type === 'reply' && 'notifications' in list.result);
    assert.deepEqual(list.result.notifications.map((n) => n.payload), [{ title: 'private' }]);
    assert.equal(published?.type, 'reply');
    await observer.until(() => observer.pushes('publication').length === 1, 5000, 'genuine');
    assert.deepEqual(observer.pushes('publication').map((p) => [p.data, p.info?.user]), [['genuine', 'owner']]);
    await victim.until(() => victim.data().includes('genuine'), 'genuine on the stream');

    const presence = await t.api('GET', '/api/presence?channel=chat:own');
    assert.ok(JSON.stringify(presence.body).includes(client));
    const elsewhere = [JSON.stringify(presence.body), JSON.stringify(observer.messages), ...victim.texts.slice(1), ...victim.ids, t.output];
    for (const text of elsewhere) assert.ok(!text.includes(secret!), `the secret leaked into ${text.slice(0, 200)}`);
    assert.ok(victim.texts[0]!.includes(secret!), 'only the session\'s own `connected` carries it');
    victim.close();
    other.close();
    observer.close();
  });
});

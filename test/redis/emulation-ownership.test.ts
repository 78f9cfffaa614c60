import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import type { ConnectedMessage, ProtocolError, ServerMessage } from '@tidings/protocol';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, makeToken, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { until } from '../helpers/until.js';
import { WsClient } from '../helpers/ws-client.js';

interface Answer { status: number; replies?: ServerMessage[]; error?: ProtocolError }

async function emulate(node: TidingsProcess, body: unknown): Promise<Answer> {
  const res = await fetch(`${node.url}/emulation`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, ...((await res.json()) as object) };
}

function assertUnknownSession(answer: Answer): void {
  assert.equal(answer.status, 404, JSON.stringify(answer));
  assert.equal(answer.replies, undefined);
  assert.equal(answer.error?.code, 114);
}

describe('/emulation forwarded to the node that holds the session checks the session\'s secret there', redisAvailability(), () => {
  let redis: RedisProcess;
  /** `a` holds the sessions; requests go to `b`, which forwards them through Redis. */
  let a: TidingsProcess;
  let b: TidingsProcess;

  before(async () => {
    redis = await RedisProcess.start();
    const config = configFile({ namespaces: { chat: { presence: true, joinLeave: true, publish: true } } });
    const args = ['--engine', 'redis', '--redis-url', redis.url, '--config', config];
    const start = (): Promise<TidingsProcess> => startTidings({ args, env: { TIDINGS_LOG_LEVEL: 'debug' } });
    [a, b] = await Promise.all([start(), start()]);
  });
  after(async () => {
    await Promise.all([a, b].map((n) => n.stop()));
    await redis.kill();
  });

  /** A user on `/sse` of node `a`, in `room`, with one unread notification (each node has its own SQLite store: on `a`'s); an observer in the room on node `b`. */
  async function openVictim(user: string, room: string): Promise<{ got: ServerMessage[]; es: EventSource; observer: WsClient; connected: ConnectedMessage }> {
    assert.equal((await a.api('POST', '/api/notifications', { user, type: 'news', payload: { title: 'private' } })).status, 200);
    const observer = await WsClient.connect(b.wsUrl);
    await observer.command('subscribe', { channel: room });
    const got: ServerMessage[] = [];
    const es = new EventSource(`${a.url}/sse?channel=${room}&token=${await makeToken(user)}`);
    es.onmessage = (e) => got.push(JSON.parse(e.data as string) as ServerMessage);
    await until(() => got.some((m) => m.type === 'subscribed'), 5000, 'the victim subscribed');
    await observer.until(() => observer.pushes('join').some((j) => j.info.user === user), 5000, 'the victim\'s join');
    const connected = got.find((m): m is ConnectedMessage => m.type === 'connected')!;
    return { got, es, observer, connected };
  }

  const dataOf = (msgs: ServerMessage[]): unknown[] => msgs.flatMap((m) => (m.type === 'publication' ? [m.data] : []));

  it('runs nothing for a caller with the victim\'s public id and no or a forged secret', async () => {
    const { got, es, observer, connected } = await openVictim('victim', 'chat:room');
    const client = observer.pushes('join').find((j) => j.info.user === 'victim')!.info.client;
    assert.equal(client, connected.client);
    const commands = [
      { id: 1, type: 'inbox.list' },
      { id: 2, type: 'publish', channel: 'chat:room', data: 'forged' },
      { id: 3, type: 'inbox.mark', all: true, read: true },
      { id: 4, type: 'subscribe', channel: 'user:victim' },
      { id: 5, type: 'unsubscribe', channel: 'chat:room' },
    ];
    assertUnknownSession(await emulate(b, { client, commands }));
    assertUnknownSession(await emulate(b, { client, secret: randomBytes(24).toString('base64url'), commands }));
    const list = (await a.api('GET', '/api/notifications?user=victim')).body as { notifications: Array<{ id: string }> };
    assertUnknownSession(await emulate(b, { client, secret: randomBytes(24).toString('base64url'), commands: [{ id: 1, type: 'inbox.delete', ids: [list.notifications[0]!.id] }] }));

    await b.publish('chat:room', 'marker');
    await b.publish('user:victim', 'personal');
    await observer.until(() => dataOf(observer.messages).includes('marker'), 5000, 'marker');
    await until(() => dataOf(got).includes('marker'), 5000, 'the victim still in the room');
    assert.deepEqual(dataOf(observer.messages), ['marker'], 'the room did not receive `forged`');
    assert.ok(!dataOf(got).includes('personal'), 'the victim was not subscribed to user:victim');
    assert.equal(((await a.api('GET', '/api/notifications/unread-count?user=victim')).body as { unread: number }).unread, 1);
    es.close();
    observer.close();
  });

  it('does not reach a WebSocket session on another node', async () => {
    const ws = await WsClient.connect(a.wsUrl, await makeToken('wsuser'));
    const { client } = ws.pushes('reply')[0]!.result as { client: string };
    const commands = [{ id: 1, type: 'inbox.count' }];
    assertUnknownSession(await emulate(b, { client, commands }));
    assertUnknownSession(await emulate(b, { client, secret: randomBytes(24).toString('base64url'), commands }));
    ws.close();
  });

  it('counts a wrong secret as one auth refusal on the node that answered it, not on the owner', async () => {
    const authRefusals = async (node: TidingsProcess): Promise<number> => {
      const line = (await (await fetch(`${node.url}/metrics`)).text()).split('\n').find((l) => l.startsWith('tidings_refusals_total{reason="auth"} '));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const refusedLines = (node: TidingsProcess, from: number): string[] => node.output.slice(from).split('\n').filter((l) => l.includes('"msg":"refused"'));
    const { es, observer, connected } = await openVictim('guessed', 'chat:guess');
    const [beforeA, beforeB, markA, markB] = [await authRefusals(a), await authRefusals(b), a.output.length, b.output.length];
    const guess = randomBytes(24).toString('base64url');
    assertUnknownSession(await emulate(b, { client: connected.client, secret: guess, commands: [{ id: 1, type: 'inbox.count' }] }));
    await until(() => refusedLines(b, markB).length > 0, 5000, 'the refused line on b');
    assert.deepEqual([await authRefusals(a) - beforeA, await authRefusals(b) - beforeB], [0, 1]);
    const lines = refusedLines(b, markB);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /"reason":"auth".*"transport":"\/emulation".*"code":114/);
    assert.deepEqual(refusedLines(a, markA), []);
    for (const node of [a, b]) assert.ok(!node.output.includes(guess) && !node.output.includes(connected.secret!), 'no secret in a log');
    es.close();
    observer.close();
  });

  it('forwards the owner\'s commands, given the secret, and no node logs it', async () => {
    const { got, es, observer, connected } = await openVictim('owner', 'chat:own');
    const { client, secret } = connected;
    assert.ok(secret);
    const res = await emulate(b, { client, secret, commands: [{ id: 1, type: 'inbox.list' }, { id: 2, type: 'publish', channel: 'chat:own', data: 'genuine' }] });
    assert.equal(res.status, 200);
    const [list, published] = res.replies!;
    assert.ok(list?.type === 'reply' && 'notifications' in list.result);
    assert.deepEqual(list.result.notifications.map((n) => n.payload), [{ title: 'private' }]);
    assert.equal(published?.type, 'reply');
    await observer.until(() => dataOf(observer.messages).includes('genuine'), 5000, 'genuine');
    assert.deepEqual(observer.pushes('publication').map((p) => [p.data, p.info?.user, p.info?.client]), [['genuine', 'owner', client]]);
    await until(() => dataOf(got).includes('genuine'), 5000, 'genuine on the owner\'s stream');
    for (const node of [a, b]) assert.ok(!node.output.includes(secret), 'the secret is in no log');
    es.close();
    observer.close();
  });
});

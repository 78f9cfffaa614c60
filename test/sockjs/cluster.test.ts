/**
 * SockJS without sticky sessions: two nodes on one Redis behind a round-robin TCP balancer, every
 * HTTP request on a new connection (so consecutive requests of a session alternate between nodes).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client, type IMessage } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import { Balancer } from '../helpers/balancer.js';
import { RedisProcess, redisAvailability } from '../helpers/redis.js';
import { configFile, startTidings, type TidingsProcess } from '../helpers/tidings.js';
import { WsClient } from '../helpers/ws-client.js';
import { stompOverSockjs, until } from './helpers.js';

const CONNECT = 'CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\u0000';

/** One request on its own connection (no keep-alive): the balancer picks the next node. */
function raw(base: string, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sockjsConnections(node: TidingsProcess): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('tidings_connections{transport="sockjs"} '));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('SockJS on two nodes without sticky sessions', redisAvailability(), () => {
  let redis: RedisProcess;
  let nodes: TidingsProcess[];
  let lb: Balancer;
  const agent = http.globalAgent;

  before(async () => {
    // sockjs-client (Node) uses the global agent: no keep-alive, so each request is a new connection
    http.globalAgent = new http.Agent({ keepAlive: false });
    redis = await RedisProcess.start();
    const config = configFile({ namespaces: { '': { publish: true, historySize: 1000 } } });
    nodes = await Promise.all([0, 1].map(() => startTidings({
      args: ['--engine', 'redis', '--redis-url', redis.url, '--config', config, '--sockjs-heartbeat', '1', '--sockjs-disconnect-delay', '3'],
    })));
    lb = await Balancer.start(nodes.map((n) => Number(new URL(n.url).port)));
  });
  after(async () => {
    http.globalAgent = agent;
    await lb?.stop();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.kill();
  });

  for (const transport of ['xhr-polling', 'xhr-streaming', 'eventsource', 'websocket']) {
    it(`${transport}: subscribes, gets API publications from both nodes in order, SEND reaches a JSON WebSocket client`, async () => {
      const channel = `news-${transport}`;
      const s = await stompOverSockjs(`${lb.url}/sockjs`, [transport]);
      assert.equal(s.transport, transport);
      const got: string[] = [];
      const subscribed = new Promise<void>((resolve) => {
        s.client.subscribe(`/topic/${channel}`, (m: IMessage) => got.push(m.body), { receipt: 'sub' });
        s.client.watchForReceipt('sub', () => resolve());
      });
      await subscribed;
      for (let i = 0; i < 20; i++) await nodes[i % 2]!.publish(channel, i);
      await until(() => got.length >= 20, 10_000, `20 publications over ${transport}`);
      assert.deepEqual(got.map((b) => JSON.parse(b) as number), Array.from({ length: 20 }, (_, i) => i));

      const json = await WsClient.connect(nodes[1]!.wsUrl);
      await json.command('subscribe', { channel });
      s.client.publish({ destination: `/topic/${channel}`, body: JSON.stringify({ from: transport }), headers: { 'content-type': 'application/json' } });
      await json.until(() => json.pushes('publication').length === 1, 5000, 'the SEND at the JSON client');
      assert.deepEqual(json.pushes('publication')[0]!.data, { from: transport });
      assert.deepEqual(s.closes, []);
      json.close();
      await s.client.deactivate();
    });
  }

  it('forged requests never reach a session: wrong server id, a short guessed id, a session held on the other node', async () => {
    const id = 'abcdefgh12345678';
    assert.equal((await raw(lb.url, 'POST', `/sockjs/123/${id}/xhr`)).text, 'o\n');
    // the same session id under another server id is another session: sends are refused on both nodes
    for (let i = 0; i < 2; i++) assert.equal((await raw(lb.url, 'POST', `/sockjs/999/${id}/xhr_send`, JSON.stringify([CONNECT]))).status, 404);
    // the right pair works on both nodes (a STOMP heart-beat EOL after CONNECT)
    assert.equal((await raw(lb.url, 'POST', `/sockjs/123/${id}/xhr_send`, JSON.stringify([CONNECT]))).status, 204);
    for (let i = 0; i < 2; i++) assert.equal((await raw(lb.url, 'POST', `/sockjs/123/${id}/xhr_send`, JSON.stringify(['\n']))).status, 204);
    const poll = await raw(lb.url, 'POST', `/sockjs/123/${id}/xhr`);
    assert.match(poll.text, /^a\["CONNECTED\\n/);
    // a poll under another server id opens a new session and sees nothing of this one
    assert.equal((await raw(lb.url, 'POST', `/sockjs/999/${id}/xhr`)).text, 'o\n');

    // a short id is never forwarded: it works only on the node that holds it
    const short = 'abc';
    assert.equal((await raw(nodes[0]!.url, 'POST', `/sockjs/1/${short}/xhr`)).text, 'o\n');
    assert.equal((await raw(nodes[1]!.url, 'POST', `/sockjs/1/${short}/xhr_send`, JSON.stringify([CONNECT]))).status, 404);
    assert.equal((await raw(nodes[0]!.url, 'POST', `/sockjs/1/${short}/xhr_send`, JSON.stringify([CONNECT]))).status, 204);

    // a guessed long id that no node holds reaches nothing
    assert.equal((await raw(lb.url, 'POST', '/sockjs/123/zzzzzzzzzzzzzzzz/xhr_send', JSON.stringify([CONNECT]))).status, 404);
  });

  it('a node killed mid-session: the client reconnects through the balancer and, resuming from its position, gets what was published meanwhile', async () => {
    const channel = 'recover';
    // the earlier tests' sessions time out (disconnect delay 3 s), so that the count finds this one
    for (let deadline = Date.now() + 10_000; (await Promise.all(nodes.map(sockjsConnections))).some((n) => n > 0);) {
      assert.ok(Date.now() < deadline, 'earlier sessions gone within 10 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const got: Array<{ offset: number; body: number }> = [];
    let epoch = '';
    let connects = 0;
    const client = new Client({
      webSocketFactory: () => new SockJS(`${lb.url}/sockjs`, null, { transports: ['xhr-streaming'] }) as unknown as WebSocket,
      reconnectDelay: 200,
      heartbeatIncoming: 1000,
      heartbeatOutgoing: 0,
      debug: (m: string) => { if (process.env.SOCKJS_DEBUG) console.log(Date.now() % 100000, m.slice(0, 200)); },
    });
    client.onConnect = () => {
      connects++;
      const last = got.at(-1);
      const headers: Record<string, string> = last ? { 'x-since-offset': String(last.offset), 'x-epoch': epoch } : {};
      client.subscribe(`/topic/${channel}`, (m: IMessage) => {
        const offset = Number(m.headers['x-offset']);
        epoch = m.headers['x-epoch'] ?? epoch;
        if (got.length === 0 || offset > got.at(-1)!.offset) got.push({ offset, body: JSON.parse(m.body) as number });
      }, { ...headers, receipt: `sub-${connects}` });
    };
    client.activate();
    await until(() => connects === 1, 10_000, 'connected');
    await new Promise((r) => setTimeout(r, 300));
    const counts = await Promise.all(nodes.map(sockjsConnections));
    const owner = counts.findIndex((n) => n === 1);
    assert.ok(owner >= 0, `one node holds the session (sockjs connections per node: ${counts.join(', ')})`);
    const survivor = nodes[1 - owner]!;
    for (let i = 1; i <= 5; i++) await survivor.publish(channel, i);
    await until(() => got.length === 5, 10_000, 'the first five');

    // another session held by the same node, its stream taken by the survivor (relayed)
    const other = `/sockjs/7/${'q'.repeat(12)}`;
    assert.equal((await raw(nodes[owner]!.url, 'POST', `${other}/xhr`)).text, 'o\n');
    const relayed = raw(survivor.url, 'POST', `${other}/xhr_streaming`);
    await new Promise((r) => setTimeout(r, 300));

    const killedAt = Date.now();
    await nodes[owner]!.kill('SIGKILL');
    for (let i = 6; i <= 10; i++) await survivor.publish(channel, i);
    await until(() => got.length === 10, 20_000, 'the five published while the node was down').catch((err: unknown) => {
      throw new Error(`${String(err)}: ${connects} connects, got offsets ${got.map((g) => g.offset).join(',')}`);
    });
    assert.ok(connects >= 2, 'the client reconnected');
    // the survivor ends the relayed stream once the owner is silent for 2 heartbeats + 3 s
    const ended = await relayed;
    assert.match(ended.text, /\nc\[1002,"Connection interrupted"\]\n$/);
    assert.ok(Date.now() - killedAt < 8000, 'the relayed stream ended within 8 s of the kill');
    assert.deepEqual(got.map((g) => g.body), Array.from({ length: 10 }, (_, i) => i + 1));
    assert.deepEqual(got.map((g) => g.offset), Array.from({ length: 10 }, (_, i) => i + 1));
    await client.deactivate();
  });
});


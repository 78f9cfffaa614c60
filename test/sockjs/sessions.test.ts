/**
 * SockJS session lifetimes in one node (the library): 10k abandoned sessions, some mid-poll,
 * are collected after the disconnect delay with memory bounded, while a live session keeps working.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TidingsNode, createLogger } from '@tidings/server';
import { until } from './helpers.js';

const SESSIONS = 10_000;
/** Seconds: longer than creating the sessions takes on a loaded machine. */
const DELAY = 8;

describe('SockJS sessions', () => {
  let node: TidingsNode;
  let port: number;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });

  before(async () => {
    node = new TidingsNode({ logger: createLogger('silent'), sockjs: { disconnectDelay: DELAY, heartbeat: 1 } });
    port = (await node.listen(0, '127.0.0.1')).port;
  });
  after(async () => {
    agent.destroy();
    await node?.close();
  });

  /** POSTs and resolves with the body. */
  function post(path: string, body = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path, method: 'POST', agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it(`collects ${SESSIONS} abandoned sessions after the disconnect delay, memory bounded`, async () => {
    const live = '/sockjs/0/live-session';
    const started = Date.now();
    assert.equal(await post(`${live}/xhr`), 'o\n');
    assert.equal(await post(`${live}/xhr_send`, JSON.stringify([JSON.stringify({ id: 1, type: 'connect' })])), '');
    assert.match(await post(`${live}/xhr`), /^a\["\{\\"type\\":\\"reply\\",\\"id\\":1/);
    const heapBefore = process.memoryUsage().heapUsed;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < SESSIONS) {
        const i = next++;
        assert.equal(await post(`/sockjs/${i % 1000}/s${i}/xhr`), 'o\n');
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    // some are abandoned mid-poll: the client goes away with a poll open
    for (let i = 0; i < 50; i++) {
      const req = request({ port, host: '127.0.0.1', path: `/sockjs/1/s${i}/xhr`, method: 'POST' });
      req.on('error', () => {});
      req.end();
      setTimeout(() => req.destroy(), 100);
    }
    assert.ok(Date.now() - started < DELAY * 1000, 'creating the sessions took longer than the disconnect delay');
    assert.ok(node.sockjs.size >= SESSIONS, `size ${node.sockjs.size}`);
    assert.equal(node.sockjs.pending, SESSIONS);
    const perSession = (process.memoryUsage().heapUsed - heapBefore) / SESSIONS;
    assert.ok(perSession < 8 * 1024, `${Math.round(perSession)} bytes of heap per session`);

    // the live session keeps polling (the heartbeat answers each poll) and is not collected
    const deadline = Date.now() + (DELAY + 4) * 1000;
    while (Date.now() < deadline && node.sockjs.size > 1) assert.equal(await post(`${live}/xhr`), 'h\n');
    await until(() => node.sockjs.size === 1, 2000, 'abandoned sessions collected');
    assert.equal(node.sockjs.pending, 0);
    assert.equal(await post(`${live}/xhr_send`, JSON.stringify([JSON.stringify({ id: 2, type: 'ping' })])), '');
    assert.match(await post(`${live}/xhr`), /^a\["\{\\"type\\":\\"reply\\",\\"id\\":2/);
  });
});

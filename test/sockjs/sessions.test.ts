/**
 * SockJS session lifetimes in one node (the library): 10k abandoned sessions, some mid-poll,
 * are collected after the disconnect delay with memory bounded, while a live session keeps working.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TidingsNode, createLogger } from '@tidings/server';
import { until } from './helpers.js';

const SESSIONS = 10_000;
/** Seconds: longer than creating the sessions takes on a loaded machine. */
const DELAY = 10;

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
    // pipelined: each socket carries its share of the requests in one write
    const SOCKETS = 20;
    await Promise.all(Array.from({ length: SOCKETS }, (_, k) => new Promise<void>((resolve, reject) => {
      const ids = Array.from({ length: SESSIONS / SOCKETS }, (__, j) => k * (SESSIONS / SOCKETS) + j);
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
        if (text.endsWith('0\r\n\r\n') && (text.match(/\r\n2\r\no\n\r\n/g) ?? []).length === ids.length) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`socket closed after ${(text.match(/HTTP\/1.1 200/g) ?? []).length} answers`)));
      socket.write(ids.map((i) => `POST /sockjs/${i % 1000}/s${i}/xhr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`).join(''));
    })));
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
    await until(() => node.sockjs.size === 1, 2000, 'abandoned sessions collected').catch((e: unknown) => { throw new Error(`${String(e)} size ${node.sockjs.size} pending ${node.sockjs.pending}`); });
    assert.equal(node.sockjs.pending, 0);
    assert.equal(await post(`${live}/xhr_send`, JSON.stringify([JSON.stringify({ id: 2, type: 'ping' })])), '');
    assert.match(await post(`${live}/xhr`), /^a\["\{\\"type\\":\\"reply\\",\\"id\\":2/);
  });
});

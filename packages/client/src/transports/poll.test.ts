import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { ServerMessage } from '@tidings/protocol';
import { pollTransport } from './poll.js';
import type { Transport } from './transport.js';

type Handler = (req: IncomingMessage, url: URL, res: ServerResponse) => void;

async function server(handler: Handler): Promise<{ url: string; close: () => void }> {
  const srv = createServer((req, res) => handler(req, new URL(req.url ?? '/', 'http://x'), res));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => srv.close() };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function open(url: string): { t: Transport; frames: ServerMessage[]; closed: Promise<[number, string]> } {
  const frames: ServerMessage[] = [];
  let t: Transport | undefined;
  const closed = new Promise<[number, string]>((resolve) => {
    t = pollTransport(url, { wait: 1 }).open({
      onOpen: () => t!.send(JSON.stringify({ id: 1, type: 'connect', token: 'e30.eyJzdWIiOiJhbm4ifQ.x' })),
      onFrame: (f) => frames.push(...f.split('\n').map((l) => JSON.parse(l) as ServerMessage)),
      onClose: (code, reason) => resolve([code, reason]),
    });
  });
  return { t: t!, frames, closed };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; !cond(); i++) {
    if (i > 400) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('connect answers with the token\'s user; a jump in the polled offsets asks for a resubscribe', async () => {
  let polls = 0;
  const s = await server((req, url, res) => {
    if (url.pathname === '/emulation') return json(res, 200, { replies: [{ type: 'reply', id: 1, result: {} }] });
    if (url.searchParams.get('wait') === '0') {
      return json(res, 200, { messages: [{ type: 'subscribed', channel: 'x', position: { offset: 1, epoch: 'e1' }, recovered: false }], cursor: 'x~1~e1' });
    }
    polls++;
    const pub = (offset: number): ServerMessage => ({ type: 'publication', channel: 'x', offset, epoch: 'e1', data: offset, time: 0 });
    if (polls === 1) return json(res, 200, { messages: [pub(2), pub(4)], cursor: 'x~4~e1' });
    setTimeout(() => json(res, 200, { messages: [], cursor: url.searchParams.get('cursor') }), 1000);
  });
  const { t, frames } = open(s.url);
  await until(() => frames.length === 1);
  assert.deepEqual(frames[0], { type: 'reply', id: 1, result: { client: '', user: 'ann', version: '1' } });
  t.send(JSON.stringify({ id: 2, type: 'subscribe', channel: 'x' }));
  await until(() => frames.length === 4);
  assert.deepEqual(frames.slice(1).map((f) => f.type), ['reply', 'publication', 'unsubscribed']);
  const notice = frames[3];
  assert.ok(notice?.type === 'unsubscribed' && notice.code === 2500);
  t.close();
  s.close();
});

test('a poll refused for an expired token closes with 3005', async () => {
  const s = await server((req, url, res) => {
    if (url.pathname === '/emulation') return json(res, 200, { replies: [{ type: 'reply', id: 1, result: {} }] });
    if (url.searchParams.get('wait') === '0') return json(res, 200, { messages: [{ type: 'subscribed', channel: 'x', position: { offset: 0, epoch: 'e1' }, recovered: false }], cursor: 'x~0~e1' });
    json(res, 401, { error: { code: 109, message: 'token expired' } });
  });
  const { t, frames, closed } = open(s.url);
  await until(() => frames.length === 1);
  t.send(JSON.stringify({ id: 2, type: 'subscribe', channel: 'x' }));
  assert.deepEqual(await closed, [3005, 'token expired']);
  s.close();
});

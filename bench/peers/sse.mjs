// Plain node:http Server-Sent Events peer: a Set of responses, `res.write` of one event to each.
import { createServer } from 'node:http';
import { arg, handlePublish, ready } from './common.mjs';

const port = Number(arg('--port', '8083'));
const clients = new Set();

const server = createServer((req, res) => {
  if (handlePublish(req, res, broadcast)) return;
  if (req.method === 'GET' && req.url === '/sse') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  res.writeHead(404).end();
});

function broadcast(body) {
  const event = `data: ${body.toString('utf8')}\n\n`;
  for (const res of clients) res.write(event);
}

server.listen(port, '127.0.0.1', () => ready(port));

// Socket.IO 4 peer, WebSocket transport only: `io.emit('m', data)` per broadcast.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { arg, handlePublish, ready } from './common.mjs';

const port = Number(arg('--port', '8082'));
const server = createServer((req, res) => {
  if (handlePublish(req, res, (body) => io.emit('m', JSON.parse(body.toString('utf8'))))) return;
  if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
});
const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

server.listen(port, '127.0.0.1', () => ready(port));

// Socket.IO 4 peer, WebSocket transport only: `io.emit('m', data)` per broadcast. Per-user
// delivery: each client joins the room `user:<id>` it names in its URL (`&user=7`);
// `io.to('user:7').emit('m', data)` for one user, `io.to([...rooms]).emit('m', data)` for many.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { arg, handlePublish, ready, userOf } from './common.mjs';

const port = Number(arg('--port', '8082'));
const server = createServer((req, res) => {
  if (handlePublish(req, res, publish)) return;
  if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
});
const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

io.on('connection', (socket) => {
  const user = userOf(socket.handshake.url);
  if (user !== undefined) void socket.join(`user:${user}`);
});

function publish(body, users) {
  const data = JSON.parse(body.toString('utf8'));
  if (users === undefined) io.emit('m', data);
  else if (users.length === 1) io.to(`user:${users[0]}`).emit('m', data);
  else io.to(users.map((u) => `user:${u}`)).emit('m', data);
}

server.listen(port, '127.0.0.1', () => ready(port));

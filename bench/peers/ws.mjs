// Raw `ws` peer. --mode naive: `ws.send(string)` to every client (ws frames and copies per send).
// --mode frame: the frame is built once per broadcast (ws's Sender.frame) and the same bytes are
// written to every client's socket. --mode map (per-user delivery): a `Map` from user id (`/?user=7`)
// to socket, `ws.send(string)` to each user a message is for.
import { createServer } from 'node:http';
import { Sender, WebSocketServer } from 'ws';
import { arg, handlePublish, ready, userOf } from './common.mjs';

const port = Number(arg('--port', '8081'));
const mode = arg('--mode', 'naive');
if (mode !== 'naive' && mode !== 'frame' && mode !== 'map') throw new Error('--mode naive|frame|map');
const byUser = new Map();

const server = createServer((req, res) => {
  if (handlePublish(req, res, broadcast)) return;
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
if (mode === 'map') {
  wss.on('connection', (ws, req) => {
    const user = userOf(req.url);
    byUser.set(user, ws);
    ws.on('close', () => byUser.delete(user));
  });
}

function broadcast(body, users) {
  if (users !== undefined) {
    const text = body.toString('utf8');
    for (const user of users) byUser.get(user)?.send(text);
    return;
  }
  if (mode === 'naive') {
    const text = body.toString('utf8');
    for (const ws of wss.clients) ws.send(text);
    return;
  }
  const frame = Buffer.concat(Sender.frame(body, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
  for (const ws of wss.clients) if (ws.readyState === 1) ws._socket.write(frame);
}

server.listen(port, '127.0.0.1', () => ready(port));

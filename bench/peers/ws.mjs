// Raw `ws` peer. --mode naive: `ws.send(string)` to every client (ws frames and copies per send).
// --mode frame: the frame is built once per broadcast (ws's Sender.frame) and the same bytes are
// written to every client's socket.
import { createServer } from 'node:http';
import { Sender, WebSocketServer } from 'ws';
import { arg, handlePublish, ready } from './common.mjs';

const port = Number(arg('--port', '8081'));
const mode = arg('--mode', 'naive');
if (mode !== 'naive' && mode !== 'frame') throw new Error('--mode naive|frame');

const server = createServer((req, res) => {
  if (handlePublish(req, res, broadcast)) return;
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });

function broadcast(body) {
  if (mode === 'naive') {
    const text = body.toString('utf8');
    for (const ws of wss.clients) ws.send(text);
    return;
  }
  const frame = Buffer.concat(Sender.frame(body, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
  for (const ws of wss.clients) if (ws.readyState === 1) ws._socket.write(frame);
}

server.listen(port, '127.0.0.1', () => ready(port));

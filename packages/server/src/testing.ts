/** Helpers for the unit tests beside the sources (not part of the server's API). */
import { connect, createServer, type Socket } from 'node:net';

/** A connected TCP pair on loopback: the server's end and the client's; `close` ends both and the listener. */
export async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve));
  const { port } = listener.address() as { port: number };
  const client = connect(port, '127.0.0.1');
  const server = await accepted;
  return { server, client, close: () => { client.destroy(); server.destroy(); listener.close(); } };
}

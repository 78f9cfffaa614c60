// Shared bits of the benchmark peers: argument parsing and the publish endpoint.
// Each peer is what a developer would write with that library in a few lines; none is tuned.

/** `--name value` from argv, or `fallback`. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/**
 * `POST /publish` with the message as the body: calls `broadcast(body, users)` and answers 200
 * once it returns. Returns true when it handled the request. `users` is undefined for a broadcast
 * to every client, or the user ids the message is for (per-user runs): `/publish?to=7` → [7],
 * `/publish?from=0&count=1000` → [0, …, 999].
 */
export function handlePublish(req, res, broadcast) {
  if (req.method !== 'POST' || !(req.url === '/publish' || req.url?.startsWith('/publish?'))) return false;
  const users = req.url === '/publish' ? undefined : usersOf(new URL(req.url, 'http://peer').searchParams);
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    broadcast(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), users);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
    res.end('ok');
  });
  return true;
}

function usersOf(params) {
  const to = params.get('to');
  if (to !== null) return [Number(to)];
  const from = Number(params.get('from'));
  const count = Math.min(Number(params.get('count')), 10000);
  return Array.from({ length: count }, (_, i) => from + i);
}

/** The user id a per-user client names in its URL (`?user=7`), or undefined. */
export function userOf(url) {
  const i = url?.indexOf('user=') ?? -1;
  return i < 0 ? undefined : Number.parseInt(url.slice(i + 5), 10);
}

export function ready(port) {
  process.stdout.write(`listening ${port}\n`);
}

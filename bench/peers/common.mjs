// Shared bits of the benchmark peers: argument parsing and the publish endpoint.
// Each peer is what a developer would write with that library in a few lines; none is tuned.

/** `--name value` from argv, or `fallback`. */
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/**
 * `POST /publish` with the message as the body: calls `broadcast(body)` and answers 200 once it
 * returns. Returns true when it handled the request.
 */
export function handlePublish(req, res, broadcast) {
  if (req.method !== 'POST' || req.url !== '/publish') return false;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    broadcast(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 });
    res.end('ok');
  });
  return true;
}

export function ready(port) {
  process.stdout.write(`listening ${port}\n`);
}

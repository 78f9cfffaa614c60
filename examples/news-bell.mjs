// The page of the news-alert service: a bell with the user's live unread count and the latest
// headlines, as the seed notes' news site shows them. This is the app's own small web server: it
// serves the page, the Tidings browser SDK, and a token for the signed-in user (here a fixed demo
// user; a real app checks its session first). The crawler (news-alerts.mjs) creates the
// notifications; Tidings stores them and pushes the new count to every open page.
//
//   npx tidings serve --api-key secret --jwt-secret "$SECRET" --allowed-origins http://localhost:3000
//   TIDINGS_URL=http://localhost:8080 TIDINGS_JWT_SECRET="$SECRET" node examples/news-bell.mjs
//   open http://localhost:3000/, then run the crawler: the bell counts up without a reload
//
// Settings (environment): TIDINGS_URL, TIDINGS_JWT_SECRET (the server's --jwt-secret), PORT (3000),
// NEWS_USER (the demo user, 43), TIDINGS_API_KEY (optional: `--once` then also prints the count).
// `--once`: start, fetch the page, the SDK and a token from itself, print what it served, exit.
//
// The page loads the SDK from the Tidings server itself (`/client/tidings-fallback.min.js`, served
// with `Access-Control-Allow-Origin: *`), so the app serves no copy of it.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

const once = process.argv.includes('--once');
const tidings = process.env.TIDINGS_URL ?? 'http://localhost:8080';
const secret = process.env.TIDINGS_JWT_SECRET ?? '';
const port = Number(process.env.PORT ?? 3000);
const user = process.env.NEWS_USER ?? '43';
const sdk = `${tidings}/client/tidings-fallback.min.js`;
if (secret === '') {
  console.error('set TIDINGS_JWT_SECRET to the --jwt-secret of the Tidings server');
  process.exit(2);
}

/** An HS256 JWT for `sub`, valid for ten minutes (what the app's backend hands its signed-in user). */
function token(sub) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

const page = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>News alerts</title>
<style>
  body { font: 16px system-ui, sans-serif; margin: 2rem; }
  header { display: flex; justify-content: space-between; align-items: center; max-width: 40rem; }
  #bell { position: relative; background: none; border: 0; cursor: pointer; color: #444; }
  #count { position: absolute; top: -0.3rem; right: -0.6rem; min-width: 1.2rem; padding: 0 0.25rem; border-radius: 0.6rem;
    background: #d33; color: #fff; font-size: 0.75rem; line-height: 1.2rem; text-align: center; }
  #count[data-unread="0"] { display: none; }
  li { margin: 0.4rem 0; }
</style>
<header><h1>News</h1><button id="bell" title="mark all read" aria-label="notifications">
  <svg width="28" height="28" viewBox="0 0 24 24" fill="currentColor" aria-hidden="true">
    <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/>
  </svg><span id="count" data-unread="0">0</span></button></header>
<p id="status">connecting…</p>
<ul id="news"></ul>
<script type="module">
  import { Client } from '${sdk}';
  const count = document.getElementById('count');
  const news = document.getElementById('news');
  const show = (unread) => { count.textContent = String(unread); count.dataset.unread = String(unread); };
  const add = (n, first) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = n.payload.url;
    a.textContent = n.payload.title;
    li.append(a);
    if (first) news.prepend(li); else news.append(li);
  };
  const client = new Client(${JSON.stringify(tidings)}, { getToken: async () => (await fetch('/token')).text() });
  client.inbox.on('unread', ({ unread }) => show(unread));
  client.inbox.on('created', (n) => add(n, true));
  client.on('connected', async (e) => {
    document.getElementById('status').textContent = 'live over ' + e.transport;
    const { notifications } = await client.inbox.list({ limit: 10 });
    news.replaceChildren();
    for (const n of notifications) add(n, false);
    show(await client.inbox.count());
  });
  client.on('disconnected', (e) => { document.getElementById('status').textContent = 'disconnected (' + e.code + ')'; });
  document.getElementById('bell').onclick = () => client.inbox.markAllRead();
  client.connect();
</script>
</html>
`;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://page').pathname;
  if (path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  } else if (path === '/token') {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(token(user));
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
});
await new Promise((resolve) => server.listen(port, resolve));
const url = `http://localhost:${server.address().port}/`;
console.log(`bell page for user ${user} at ${url} (Tidings at ${tidings}; it needs --allowed-origins http://localhost:${server.address().port})`);

if (once) {
  try {
    const got = await Promise.all([url, sdk, `${url}token`].map(async (at) => {
      const res = await fetch(at);
      if (!res.ok) throw new Error(`GET ${at}: ${res.status} ${await res.text()}`);
      return res.text();
    }));
    console.log(`served the page (${got[0].length} bytes), the SDK (${got[1].length} bytes) and a token for user ${user}`);
    if (process.env.TIDINGS_API_KEY) {
      const res = await fetch(`${tidings}/api/notifications/unread-count?user=${encodeURIComponent(user)}`, { headers: { 'X-API-Key': process.env.TIDINGS_API_KEY } });
      if (!res.ok) throw new Error(`unread count: ${res.status} ${await res.text()}`);
      console.log(`the bell shows ${(await res.json()).unread} unread for user ${user}`);
    }
  } finally {
    server.close();
  }
}

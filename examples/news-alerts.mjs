// News alerts, the seed notes' use case: a scheduled job "crawls" a source (here a local JSON
// file of headlines), finds what is new, and notifies the users subscribed to each topic.
// Tidings stores each notification durably, counts it unread and pushes it to the users' devices;
// news-bell.mjs is the page that shows the bell.
//
//   TIDINGS_URL=http://localhost:8080 TIDINGS_API_KEY=secret node examples/news-alerts.mjs [--once] [news.json subscribers.json]
//
// news.json:        [{"id": "a1", "topic": "markets", "title": "KOSPI closes higher", "url": "https://…"}]
// subscribers.json: {"markets": ["42", "43"], "tech": ["43"]}
// Without files it reads examples/data/. It crawls on the cron schedule CRAWL_CRON (every 30 s)
// until stopped; `--once` (or CRAWL_ONCE=1) crawls once and exits, non-zero when a call failed.
// CRAWL_DIGEST_MS=60000 merges each user's headlines per topic within that many ms into one
// notification (a live digest: "50 new articles", the latest 5 listed, one badge bump).
import { readFile } from 'node:fs/promises';
import { Cron } from 'croner';

const args = process.argv.slice(2).filter((a) => a !== '--once');
const data = (name) => new URL(`data/${name}`, import.meta.url);
const [newsFile = data('news.json'), subscribersFile = data('subscribers.json')] = args;
const base = process.env.TIDINGS_URL ?? 'http://localhost:8080';
const apiKey = process.env.TIDINGS_API_KEY ?? '';
const every = process.env.CRAWL_CRON ?? '*/30 * * * * *'; // every 30 seconds
const once = process.argv.includes('--once') || process.env.CRAWL_ONCE === '1';
const digestMs = Number(process.env.CRAWL_DIGEST_MS ?? 0);

async function crawl() {
  const news = JSON.parse(await readFile(newsFile, 'utf8'));
  const subscribers = JSON.parse(await readFile(subscribersFile, 'utf8'));
  let sent = 0;
  for (const item of news) {
    const users = subscribers[item.topic] ?? [];
    if (users.length === 0) continue;
    const res = await fetch(`${base}/api/notifications`, {
      method: 'POST',
      headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        users,
        type: 'news',
        payload: { title: item.title, url: item.url, topic: item.topic },
        // the same headline is never notified twice, however often the job runs
        idempotencyKey: `news:${item.id}`,
        ...(digestMs > 0 ? { digest: { key: `news:${item.topic}`, window: digestMs, mode: 'live', items: 5 } } : {}),
      }),
    });
    if (!res.ok) throw new Error(`notify failed: ${res.status} ${await res.text()}`);
    const { duplicate } = await res.json();
    if (!duplicate) sent += users.length;
  }
  console.log(`crawled ${news.length} headlines, notified ${sent} users`);
}

if (once) await crawl();
else new Cron(every, { protect: true }, () => crawl().catch((err) => console.error(err)));

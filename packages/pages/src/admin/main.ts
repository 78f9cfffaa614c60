/**
 * The admin console page: logs in with the admin password, then shows every node's counters as
 * they come over Tidings itself (live.ts: `$admin:stats`, once a second per node; polling this
 * node's `/admin/api/stats` only while that connection is down), fetches the cluster's channels
 * and schedules every 5 s, and runs the publish, disconnect, presence, history and
 * schedule-cancel actions. Every call goes to `/admin/api/*` with the session cookie;
 * state-changing ones carry the CSRF token.
 */
import { LiveStats, type LiveState } from './live.js';
import { ClusterStats, type Rates, type Stats } from './stats.js';

interface ChannelCount { channel: string; subscribers: number }
interface Channels { channels: ChannelCount[]; answered: string[]; missing: string[]; nodes: { node: string; channels: ChannelCount[] }[] }
interface Schedule { id: string; cron: string; timezone: string; target: { type: string; channel?: string; users?: string[] }; nextRunAt: number | null }
interface ApiError { error?: { code: number; message: string } }

const SAMPLES = 60;
const TOP_CHANNELS = 20;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
let csrf = '';
/** The node serving this page. */
let self = '';
let cluster = new ClusterStats();
const rates: Rates[] = [];
let timers: number[] = [];
/** Channels each node reported in the last cluster fetch, and the nodes that did not answer. */
let channelsOf = new Map<string, number>();
let missing: string[] = [];
const live = new LiveStats({
  token: async () => (await call<{ token: string }>('POST', '/live-token')).token,
  poll: () => call<Stats>('GET', '/stats').catch(() => undefined),
  stats: onStats,
  state: showLive,
});

/** Calls an admin endpoint; resolves with the JSON answer, or throws an Error with the server's message. */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/admin/api${path}`, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json().catch(() => ({}))) as T & ApiError;
  if (res.status === 401) showLogin();
  if (!res.ok) throw new Error(json.error?.message ?? `HTTP ${res.status}`);
  return json;
}

function el(tag: string, text: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className) e.className = className;
  return e;
}

function row(cells: (string | HTMLElement)[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (typeof c === 'string') td.textContent = c;
    else td.append(c);
    tr.append(td);
  }
  return tr;
}

function showLogin(): void {
  live.stop();
  for (const t of timers) clearInterval(t);
  timers = [];
  $('dashboard').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $<HTMLInputElement>('password').focus();
}

function showDashboard(node: string): void {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('logout').hidden = false;
  $('node').textContent = `node ${node}`;
  self = node;
  cluster = new ClusterStats();
  rates.length = 0;
  live.start();
  void refreshCluster();
  timers = [window.setInterval(() => void refreshCluster(), 5000)];
}

/** Says where the numbers come from: over Tidings from every node, or polled from this one. */
function showLive(state: LiveState, reason: string): void {
  const line = $('live');
  line.dataset.state = state;
  line.textContent = state === 'live' ? 'live over Tidings'
    : state === 'connecting' ? 'connecting the live feed…'
      : `live feed down${reason ? ` (${reason})` : ''}: polling this node every second`;
  for (const e of document.querySelectorAll('.scope')) e.textContent = state === 'polling' ? '(this node)' : '(all nodes)';
}

/** A snapshot of one node; the chart moves on with each of this node's (once a second). */
function onStats(s: Stats): void {
  if (!cluster.add(s)) return;
  const totals = cluster.totals();
  const count = Object.values(totals.connections).reduce((a, b) => a + b, 0);
  $('connections-total').textContent = String(count);
  $('subscriptions').textContent = String(totals.subscriptions);
  $('transports').replaceChildren(...Object.entries(totals.connections).map(([t, n]) => row([t, String(n)])));
  $('pub-rate').textContent = totals.rates.pub.toFixed(1);
  $('delivery-rate').textContent = totals.rates.del.toFixed(1);
  drawNodes();
  if (s.node !== self) return;
  rates.push(totals.rates);
  if (rates.length > SAMPLES) rates.shift();
  drawChart();
}

/** One row per node heard from: its own counters, and its channels from the last cluster fetch. */
function drawNodes(): void {
  const heard = cluster.list();
  const rows = heard.map((n) => {
    const tr = row([
      `${n.stats.node}${n.stats.node === self ? ' (this node)' : ''}${n.silent ? ' — silent' : ''}`,
      String(Object.values(n.stats.connections).reduce((a, b) => a + b, 0)), String(n.stats.subscriptions),
      n.rates.pub.toFixed(1), n.rates.del.toFixed(1), String(channelsOf.get(n.stats.node) ?? '—'),
    ]);
    tr.dataset.node = n.stats.node;
    if (n.silent) tr.className = 'error';
    return tr;
  });
  const known = new Set(heard.map((n) => n.stats.node));
  for (const [node, channels] of channelsOf) if (!known.has(node)) rows.push(row([node, '—', '—', '—', '—', String(channels)]));
  for (const node of missing) rows.push(Object.assign(row([`${node} — did not answer`, '—', '—', '—', '—', '—']), { className: 'error' }));
  $('nodes').replaceChildren(...rows);
}

/** Two polylines on a shared scale: the last SAMPLES rates, newest on the right. */
function drawChart(): void {
  const svg = $('chart');
  const W = 600;
  const H = 160;
  const top = Math.max(1, ...rates.map((r) => Math.max(r.pub, r.del)));
  const points = (pick: (r: { pub: number; del: number }) => number): string => rates
    .map((r, i) => `${((W * (i + SAMPLES - rates.length)) / (SAMPLES - 1)).toFixed(1)},${(H - 14 - ((H - 24) * pick(r)) / top).toFixed(1)}`).join(' ');
  const ns = 'http://www.w3.org/2000/svg';
  const line = (cls: string, pts: string): SVGPolylineElement => {
    const p = document.createElementNS(ns, 'polyline');
    p.setAttribute('class', cls);
    p.setAttribute('points', pts);
    return p;
  };
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '4');
  label.setAttribute('y', '12');
  label.textContent = `max ${top.toFixed(1)}/s`;
  svg.replaceChildren(label, line('pub', points((r) => r.pub)), line('del', points((r) => r.del)));
}

async function refreshCluster(): Promise<void> {
  const view = await call<Channels>('GET', '/channels?nodes=1').catch(() => undefined);
  if (view) {
    const top = [...view.channels].sort((a, b) => b.subscribers - a.subscribers).slice(0, TOP_CHANNELS);
    $('channels').replaceChildren(...top.map((c) => row([c.channel, String(c.subscribers)])));
    channelsOf = new Map(view.nodes.map((n) => [n.node, n.channels.length]));
    missing = view.missing;
    drawNodes();
  }
  const list = await call<{ schedules: Schedule[] }>('GET', '/schedules').catch(() => undefined);
  if (list) {
    $('schedules').replaceChildren(...list.schedules.map((s) => {
      const cancel = el('button', 'Cancel', 'danger');
      cancel.addEventListener('click', () => {
        call('DELETE', `/schedules/${encodeURIComponent(s.id)}`).then(() => refreshCluster(), (err: Error) => alert(err.message));
      });
      const target = s.target.type === 'publication' ? `publish to ${s.target.channel ?? ''}` : `notify ${(s.target.users ?? []).length} users`;
      return row([s.id, s.cron, s.timezone, target, s.nextRunAt === null ? '—' : new Date(s.nextRunAt).toISOString(), cancel]);
    }));
  }
}

function onSubmit(id: string, run: () => Promise<void>): void {
  $(id).addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
}

onSubmit('login-form', async () => {
  const res = await fetch('/admin/login', {
    method: 'POST', headers: { 'content-type': 'application/json' }, credentials: 'same-origin',
    body: JSON.stringify({ password: $<HTMLInputElement>('password').value }),
  });
  const json = (await res.json().catch(() => ({}))) as { csrf?: string } & ApiError;
  if (!res.ok || json.csrf === undefined) {
    $('login-error').textContent = json.error?.message ?? `HTTP ${res.status}`;
    return;
  }
  $<HTMLInputElement>('password').value = '';
  $('login-error').textContent = '';
  csrf = json.csrf;
  const session = await call<{ node: string }>('GET', '/session');
  showDashboard(session.node);
});

onSubmit('publish-form', async () => {
  const out = $('publish-result');
  let data: unknown;
  try {
    data = JSON.parse($<HTMLTextAreaElement>('publish-data').value);
  } catch {
    out.textContent = 'the data is not valid JSON';
    return;
  }
  try {
    const r = await call<{ offset: number }>('POST', '/publish', { channel: $<HTMLInputElement>('publish-channel').value, data });
    out.textContent = `published at offset ${r.offset}`;
  } catch (err) {
    out.textContent = (err as Error).message;
  }
});

onSubmit('disconnect-form', async () => {
  const reason = $<HTMLInputElement>('disconnect-reason').value;
  try {
    await call('POST', '/disconnect', { user: $<HTMLInputElement>('disconnect-user').value, ...(reason ? { reason } : {}) });
    $('disconnect-result').textContent = 'disconnected';
  } catch (err) {
    $('disconnect-result').textContent = (err as Error).message;
  }
});

onSubmit('inspect-form', async () => {
  const channel = encodeURIComponent($<HTMLInputElement>('inspect-channel').value);
  $('inspect-error').textContent = '';
  const [presence, history] = await Promise.allSettled([
    call<{ clients: Record<string, { user: string; client: string }> }>('GET', `/presence?channel=${channel}`),
    call<{ publications: { offset: number; data: unknown }[] }>('GET', `/history?channel=${channel}&limit=20`),
  ]);
  const errors: string[] = [];
  if (presence.status === 'fulfilled') $('presence').replaceChildren(...Object.values(presence.value.clients).map((c) => el('li', `${c.user || '(anonymous)'} — ${c.client}`)));
  else errors.push(`presence: ${(presence.reason as Error).message}`);
  if (history.status === 'fulfilled') $('history').replaceChildren(...history.value.publications.map((p) => el('li', `#${p.offset} ${JSON.stringify(p.data)}`)));
  else errors.push(`history: ${(history.reason as Error).message}`);
  $('inspect-error').textContent = errors.join('; ');
});

$('logout').addEventListener('click', () => {
  void fetch('/admin/logout', { method: 'POST', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' }).finally(showLogin);
});

call<{ csrf: string; node: string }>('GET', '/session').then((s) => {
  csrf = s.csrf;
  showDashboard(s.node);
}, showLogin);

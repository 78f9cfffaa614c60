/**
 * The demo page: pick a name (the demo server signs a token for it), then the bell, the chat and
 * the ticker run over one SDK client on the transport the switch names. Switching transports
 * starts a new client; the state line says connecting / connected over which transport, and
 * whether a resubscribe recovered what was missed. `?name=ada&transport=sse` preselects both.
 */
import { Client, type TransportFactory, type TransportName } from '@tidings/client/fallback';
import { Bell } from './bell.js';
import { Chat } from './chat.js';
import { byId } from './dom.js';
import { sockjsTransport } from './sockjs.js';
import { Ticker } from './ticker.js';

const TRANSPORTS = ['websocket', 'stream', 'sse', 'poll', 'sockjs'] as const;
type Choice = (typeof TRANSPORTS)[number];

const state = byId('state');
const nameInput = byId<HTMLInputElement>('name');
const switcher = byId<HTMLSelectElement>('transport');
let token: string | undefined;
let name: string | undefined;
let client: Client | undefined;
let sockjsUsed = '';

const bell = new Bell(() => token);
const chat = new Chat();
const ticker = new Ticker();

/** A token for `who` from the demo server (`POST /demo/token`). */
async function fetchToken(who: string): Promise<string> {
  const res = await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: who }) });
  const body = (await res.json()) as { token?: string; error?: { message: string } };
  if (!res.ok || body.token === undefined) throw new Error(body.error?.message ?? `token refused (${res.status})`);
  token = body.token;
  return body.token;
}

function show(what: 'disconnected' | 'connecting' | 'connected', text: string): void {
  state.dataset.state = what;
  state.textContent = text;
}

function transportOf(choice: Choice): TransportName | TransportFactory {
  return choice === 'sockjs' ? sockjsTransport(`${location.origin}/sockjs`, (t) => { sockjsUsed = t; }) : choice;
}

function start(): void {
  const who = name;
  if (who === undefined) return;
  client?.disconnect();
  const choice = switcher.value as Choice;
  state.dataset.transport = choice;
  delete state.dataset.recovered;
  const c = new Client(location.origin, { transports: [transportOf(choice)], getToken: () => fetchToken(who), maxReconnectDelay: 5000 });
  client = c;
  let recovery = '';
  c.on('connecting', ({ reason }) => {
    recovery = '';
    show('connecting', `connecting over ${choice}…${reason && reason !== 'connect called' ? ` (${reason})` : ''}`);
  });
  c.on('connected', (e) => {
    state.dataset.transport = e.transport;
    show('connected', `connected over ${e.transport}${choice === 'sockjs' && sockjsUsed ? ` (${sockjsUsed})` : ''} as ${e.user}${recovery}`);
  });
  c.on('disconnected', ({ reason }) => show('disconnected', `disconnected: ${reason}`));
  bell.attach(c);
  chat.attach(c);
  ticker.attach(c, ({ recovering, recovered }) => {
    if (!recovering) return;
    recovery = recovered ? ' · ticker recovered: nothing missed' : ' · ticker not recovered: its history is gone';
    state.dataset.recovered = String(recovered);
    if (c.state === 'connected') state.textContent = `${state.textContent?.split(' · ')[0] ?? ''}${recovery}`;
  });
  c.connect();
}

byId('login').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!nameInput.checkValidity()) return;
  name = nameInput.value;
  const url = new URL(location.href);
  url.searchParams.set('name', name);
  history.replaceState(null, '', url);
  start();
});

switcher.addEventListener('change', () => {
  const url = new URL(location.href);
  url.searchParams.set('transport', switcher.value);
  history.replaceState(null, '', url);
  start();
});

const params = new URLSearchParams(location.search);
const preset = params.get('transport');
if (preset !== null && (TRANSPORTS as readonly string[]).includes(preset)) switcher.value = preset;
const presetName = params.get('name');
if (presetName !== null) {
  nameInput.value = presetName;
  if (nameInput.checkValidity()) {
    name = presetName;
    start();
  }
}

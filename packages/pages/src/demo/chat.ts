/**
 * The chat room `chat:lobby`: messages as publications (the server stamps each with its sender's
 * user, `info.user`), the presence list, and join/leave as they happen (the `chat` namespace has
 * presence and join/leave on under `--demo`).
 */
import type { Client, ClientInfo, Publication, Subscription } from '@tidings/client/fallback';
import { byId, el } from './dom.js';

export const CHAT_CHANNEL = 'chat:lobby';
/** Messages kept on screen. */
const KEEP = 200;

export class Chat {
  private readonly messages = byId<HTMLUListElement>('messages');
  private readonly presence = byId<HTMLUListElement>('presence');
  private readonly input = byId<HTMLInputElement>('chat-input');
  private readonly send = byId<HTMLButtonElement>('send');
  /** Who is here: client id → user. */
  private readonly here = new Map<string, string>();
  private subscription: Subscription | undefined;
  private client: Client | undefined;

  constructor() {
    byId('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const text = this.input.value.trim();
      if (text === '' || !this.client) return;
      this.input.value = '';
      void this.client.publish(CHAT_CHANNEL, { text }).catch((err: unknown) => this.event(`not sent: ${String(err)}`));
    });
  }

  attach(client: Client): void {
    this.client = client;
    this.here.clear();
    this.renderPresence();
    const sub = client.subscribe(CHAT_CHANNEL, {
      subscribed: () => {
        this.input.disabled = false;
        this.send.disabled = false;
        void this.loadPresence(sub);
      },
      publication: (p) => this.message(p),
      join: (info) => this.joined(info, true),
      leave: (info) => this.joined(info, false),
    });
    this.subscription = sub;
  }

  private async loadPresence(sub: Subscription): Promise<void> {
    try {
      const { clients } = await sub.presence();
      if (sub !== this.subscription) return;
      this.here.clear();
      for (const info of Object.values(clients)) this.here.set(info.client, info.user);
      this.renderPresence();
    } catch {
      // gone meanwhile; the next `subscribed` asks again
    }
  }

  private joined(info: ClientInfo, present: boolean): void {
    const was = new Set(this.here.values()).has(info.user);
    if (present) this.here.set(info.client, info.user);
    else this.here.delete(info.client);
    const is = new Set(this.here.values()).has(info.user);
    if (was !== is) this.event(`${info.user || 'someone'} ${is ? 'joined' : 'left'}`);
    this.renderPresence();
  }

  private message(p: Publication): void {
    const data = p.data as { text?: unknown };
    const li = el('li');
    li.append(el('span', p.info?.user ?? '?', 'who'), el('span', typeof data.text === 'string' ? data.text : JSON.stringify(p.data)));
    this.append(li);
  }

  private event(text: string): void {
    this.append(el('li', text, 'event'));
  }

  private append(li: HTMLLIElement): void {
    this.messages.append(li);
    while (this.messages.children.length > KEEP) this.messages.firstElementChild?.remove();
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  private renderPresence(): void {
    const users = [...new Set(this.here.values())].sort();
    this.presence.replaceChildren(...users.map((u) => el('li', u)));
  }
}

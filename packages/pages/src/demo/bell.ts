/**
 * The notification bell: the unread badge and the dropdown list of the user's notifications, kept
 * live by the SDK's inbox (`client.inbox`, the channel `inbox:<user>`), so every tab of the same
 * user shows the same badge. Mark one read, mark all read; "Send me a notification" asks the demo
 * server to create one (`POST /demo/notify`).
 */
import type { Client, Notification } from '@tidings/client/fallback';
import { byId, clock, el } from './dom.js';

interface DemoPayload { title?: unknown; body?: unknown }

export class Bell {
  private readonly button = byId<HTMLButtonElement>('bell');
  private readonly badge = byId('badge');
  private readonly panel = byId('inbox-panel');
  private readonly list = byId<HTMLUListElement>('inbox');
  private readonly empty = byId('inbox-empty');
  private readonly unread = byId('unread');
  private readonly notifyButton = byId<HTMLButtonElement>('notify');
  private readonly items = new Map<string, Notification>();
  private client: Client | undefined;

  constructor(private readonly token: () => string | undefined) {
    this.button.addEventListener('click', () => this.toggle());
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        this.toggle(false);
        this.button.focus();
      }
    });
    byId('mark-all').addEventListener('click', () => {
      void this.client?.inbox.markAllRead().catch(() => {});
    });
    this.list.addEventListener('click', (e) => {
      const id = (e.target as HTMLElement).closest<HTMLElement>('button.mark')?.dataset.id;
      if (id !== undefined) void this.client?.inbox.markRead([id]).catch(() => {});
    });
    this.notifyButton.addEventListener('click', () => void this.sendMe());
  }

  /** Follows `client`'s inbox (a new client on every transport switch). */
  attach(client: Client): void {
    this.client = client;
    const inbox = client.inbox;
    inbox.on('unread', ({ unread }) => this.showCount(unread));
    inbox.on('created', (n) => {
      this.items.set(n.id, n);
      this.render();
    });
    inbox.on('updated', (ns) => {
      for (const n of ns) if (this.items.has(n.id)) this.items.set(n.id, n);
      this.render();
    });
    inbox.on('deleted', (ids) => {
      for (const id of ids) this.items.delete(id);
      this.render();
    });
    client.on('connected', () => {
      this.button.disabled = false;
      this.notifyButton.disabled = false;
      void this.reload(client);
    });
  }

  /** The first page of the inbox and the count, after each (re)connect: what happened meanwhile. */
  private async reload(client: Client): Promise<void> {
    try {
      const [{ notifications }, unread] = await Promise.all([client.inbox.list({ limit: 20 }), client.inbox.count()]);
      if (client !== this.client) return;
      this.items.clear();
      for (const n of notifications) this.items.set(n.id, n);
      this.render();
      this.showCount(unread);
    } catch {
      // the connection went away meanwhile; the next `connected` reloads
    }
  }

  private async sendMe(): Promise<void> {
    const token = this.token();
    if (token === undefined) return;
    this.notifyButton.disabled = true;
    try {
      await fetch('/demo/notify', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    } finally {
      this.notifyButton.disabled = false;
    }
  }

  private toggle(open = this.panel.hidden): void {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) byId('mark-all').focus();
  }

  private showCount(unread: number): void {
    this.badge.textContent = unread > 99 ? '99+' : String(unread);
    this.badge.hidden = unread === 0;
    this.unread.textContent = String(unread);
    this.button.setAttribute('aria-label', `Notifications, ${unread} unread`);
  }

  private render(): void {
    const sorted = [...this.items.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, 50);
    this.list.replaceChildren(...sorted.map((n) => {
      const payload = (typeof n.payload === 'object' && n.payload !== null ? n.payload : {}) as DemoPayload;
      const li = el('li', '', n.readAt === undefined ? 'unread' : 'read');
      li.dataset.id = n.id;
      const text = el('div');
      text.append(el('span', typeof payload.title === 'string' ? payload.title : n.type, 'title'), el('span', clock(n.createdAt), 'when'));
      if (typeof payload.body === 'string') text.append(el('span', payload.body, 'when'));
      li.append(text);
      if (n.readAt === undefined) {
        const mark = el('button', 'Mark read', 'mark');
        mark.type = 'button';
        mark.dataset.id = n.id;
        li.append(mark);
      }
      return li;
    }));
    this.empty.hidden = sorted.length > 0;
  }
}

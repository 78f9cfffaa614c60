/// <reference lib="dom" preserve="true" />
/// <reference lib="dom.iterable" preserve="true" />
/// <reference lib="dom.asynciterable" preserve="true" />
import type { Notification } from '@tidings/protocol';
import { Client } from '../client.js';
import { STYLE, ago, bellIcon, defaultFormat, h, type InboxFormatter } from './inbox-view.js';

/** `detail` of the `tidings-inbox-select` event: the notification a user clicked (or pressed Enter on). */
export interface InboxSelectDetail {
  notification: Notification;
}

/** `detail` of the `tidings-inbox-unread` event: the unread count now. */
export interface InboxUnreadDetail {
  unread: number;
}

interface Item {
  notification: Notification;
  li: HTMLLIElement;
  state: HTMLSpanElement;
  time: HTMLTimeElement;
}

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * `<tidings-inbox>`: a bell with the live unread count and a dropdown list of the user's
 * notifications (mark one read, mark all read, load older pages), kept in step with the user's
 * other devices through `inbox:<user>`.
 *
 * Attributes: `url` and `token` (the element then makes and owns a WebSocket `Client`, connected
 * while the element is in the document), `page-size` (1–100, default 10), `label` (default
 * "Notifications"). Property `client`: an existing `Client` to use instead (the element neither
 * connects nor disconnects it). Property `format`: `(notification) => {title, body?}`, text only.
 *
 * Events (bubbling, composed): `tidings-inbox-select` ({@link InboxSelectDetail}),
 * `tidings-inbox-unread` ({@link InboxUnreadDetail}). Errors of the calls are shown in the panel
 * (`::part(error)`), never thrown.
 */
export class TidingsInboxElement extends HTMLElement {
  static readonly observedAttributes = ['url', 'token', 'label'];

  /** Turns a notification into its item's text; set before the list is first opened. */
  format: InboxFormatter = defaultFormat;

  private given: Client | undefined;
  private owned: Client | undefined;
  private active: Client | undefined;
  /** The `url` and `token` the owned client was made with. */
  private madeFor: string | undefined;
  private stops: Array<() => void> = [];
  private readonly items = new Map<string, Item>();
  private cursor: string | undefined;
  private loaded = false;
  private loading = false;
  /** Bumped when the list is thrown away: an answer to an older request is dropped. */
  private generation = 0;
  private unread: number | undefined;

  private readonly root: ShadowRoot;
  private readonly bell = h('button', { type: 'button', part: 'bell', 'aria-expanded': 'false', 'aria-controls': 'panel', 'aria-haspopup': 'dialog' });
  private readonly badge = h('span', { part: 'badge', 'aria-hidden': 'true', hidden: '' });
  private readonly live = h('span', { class: 'sr', part: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly heading = h('h2', { part: 'heading', id: 'heading' });
  private readonly markAll = h('button', { type: 'button', part: 'mark-all', disabled: '' }, 'Mark all read');
  private readonly list = h('ul', { part: 'list', role: 'list', 'aria-labelledby': 'heading' });
  private readonly empty = h('p', { part: 'empty', hidden: '' }, 'No notifications');
  private readonly error = h('p', { part: 'error', role: 'alert', hidden: '' });
  private readonly more = h('button', { type: 'button', part: 'more', hidden: '' }, 'Load more');
  private readonly panel = h('div', { part: 'panel', id: 'panel', role: 'dialog', 'aria-labelledby': 'heading', tabindex: '-1', hidden: '' },
    h('div', { part: 'header' }, this.heading, this.markAll), this.list, this.empty, this.error, this.more);

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.bell.append(bellIcon(), this.badge);
    this.root.append(h('style', {}, STYLE), this.bell, this.live, this.panel);
    this.bell.addEventListener('click', () => (this.panel.hidden ? this.open() : this.close()));
    this.markAll.addEventListener('click', () => this.markAllRead());
    this.more.addEventListener('click', () => void this.loadPage());
    this.root.addEventListener('keydown', (event) => this.onKey(event as KeyboardEvent));
    this.label();
  }

  /** The client in use: the one given, or the one made from `url` and `token`. */
  get client(): Client | undefined {
    return this.active;
  }

  set client(client: Client | undefined) {
    this.given = client;
    if (this.isConnected) this.restart();
  }

  get url(): string | null {
    return this.getAttribute('url');
  }

  set url(value: string | null) {
    this.reflect('url', value);
  }

  get token(): string | null {
    return this.getAttribute('token');
  }

  set token(value: string | null) {
    this.reflect('token', value);
  }

  /** Notifications per page: the `page-size` attribute, 1–100, default 10. */
  get pageSize(): number {
    const n = Number(this.getAttribute('page-size'));
    return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
  }

  set pageSize(value: number) {
    this.setAttribute('page-size', String(value));
  }

  /** The unread count, undefined until first known. */
  get unreadCount(): number | undefined {
    return this.unread;
  }

  get expanded(): boolean {
    return !this.panel.hidden;
  }

  connectedCallback(): void {
    if (!this.active) this.attach();
  }

  disconnectedCallback(): void {
    this.detach();
  }

  attributeChangedCallback(name: string, before: string | null, after: string | null): void {
    if (name === 'label') this.label();
    // attributes set one by one (or seen one by one on upgrade) make one client, not one each
    else if (before !== after && this.isConnected && !this.given && this.madeFor !== `${this.url} ${this.token}`) this.restart();
  }

  /** Opens the list (loading its first page the first time) and moves focus into it. */
  open(): void {
    if (!this.panel.hidden) return;
    this.panel.hidden = false;
    this.bell.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', this.outside, true);
    for (const item of this.items.values()) this.paint(item);
    if (!this.loaded) void this.loadPage();
    this.focusItem(0);
  }

  /** Closes the list; focus returns to the bell unless `focusBell` is false. */
  close(focusBell = true): void {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.bell.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', this.outside, true);
    if (focusBell) this.bell.focus();
  }

  /** Marks every notification of the user read. */
  markAllRead(): void {
    const client = this.active;
    if (!client) return;
    this.run(client.inbox.markAllRead().then(() => {
      const now = Date.now();
      for (const item of this.items.values()) if (item.notification.readAt === undefined) this.update({ ...item.notification, readAt: now });
    }));
  }

  private readonly outside = (event: Event): void => {
    if (!event.composedPath().includes(this)) this.close(false);
  };

  private reflect(name: string, value: string | null): void {
    if (value === null) this.removeAttribute(name);
    else this.setAttribute(name, value);
  }

  private restart(): void {
    this.detach();
    this.attach();
  }

  private attach(): void {
    let client = this.given;
    if (!client) {
      const { url, token } = this;
      if (!url || !token) return;
      client = this.owned = new Client(url, { token });
      this.madeFor = `${url} ${token}`;
      client.connect();
    }
    this.active = client;
    const { inbox } = client;
    let connectedBefore = client.state === 'connected';
    this.stops.push(
      inbox.on('unread', ({ unread }) => this.count(unread)),
      inbox.on('created', (n) => this.created(n)),
      inbox.on('updated', (list) => list.forEach((n) => this.update(n))),
      inbox.on('deleted', (ids) => ids.forEach((id) => this.drop(id))),
      client.on('connected', () => {
        // events missed while disconnected may not all come back: start the list afresh
        if (connectedBefore && this.loaded) this.reload();
        connectedBefore = true;
      }),
    );
    if (inbox.unreadCount !== undefined) this.count(inbox.unreadCount);
    if (this.expanded) void this.loadPage();
  }

  private detach(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.owned?.disconnect();
    this.owned = this.active = this.madeFor = undefined;
    this.close(false);
    this.clear();
    this.unread = undefined;
    this.badge.hidden = this.markAll.disabled = true;
    this.label();
  }

  private clear(): void {
    this.generation++;
    this.loading = this.loaded = false;
    this.cursor = undefined;
    this.items.clear();
    this.list.replaceChildren();
    this.refresh();
  }

  private reload(): void {
    this.clear();
    void this.loadPage();
  }

  private async loadPage(): Promise<void> {
    const client = this.active;
    if (!client || this.loading) return;
    const generation = this.generation;
    this.loading = this.loaded = true;
    this.refresh();
    try {
      const page = await client.inbox.list({ limit: this.pageSize, ...(this.cursor === undefined ? {} : { cursor: this.cursor }) });
      if (generation !== this.generation) return;
      for (const n of page.notifications) if (!this.items.has(n.id)) this.list.append(this.render(n).li);
      this.cursor = page.cursor;
      this.showError(undefined);
    } catch (err) {
      if (generation === this.generation) this.showError(err);
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.refresh();
        if (this.root.activeElement === this.panel) this.focusItem(0);
      }
    }
  }

  private render(notification: Notification): Item {
    const text = this.format(notification);
    const state = h('span', { class: 'sr' });
    const time = h('time', { part: 'time' });
    const button = h('button', { type: 'button', part: 'item-button' }, state, h('span', { part: 'title' }, text.title));
    if (text.body !== undefined) button.append(h('span', { part: 'body' }, text.body));
    button.append(time);
    const li = h('li', { role: 'listitem' }, button);
    const item: Item = { notification, li, state, time };
    button.addEventListener('click', () => this.select(notification.id));
    this.items.set(notification.id, item);
    this.paint(item);
    return item;
  }

  private paint(item: Item): void {
    const { notification } = item;
    const unread = notification.readAt === undefined;
    item.li.setAttribute('part', unread ? 'item unread' : 'item read');
    item.state.textContent = unread ? 'Unread: ' : '';
    item.time.dateTime = new Date(notification.createdAt).toISOString();
    item.time.textContent = ago(notification.createdAt);
  }

  private created(notification: Notification): void {
    if (!this.loaded || this.items.has(notification.id)) return;
    this.list.prepend(this.render(notification).li);
    this.refresh();
  }

  private update(notification: Notification): void {
    const item = this.items.get(notification.id);
    if (!item) return;
    // archived or snoozed on some device: out of the inbox (a woken one shows on the next load)
    if (notification.archivedAt !== undefined || (notification.snoozedUntil ?? 0) > Date.now()) return this.drop(notification.id);
    item.notification = notification;
    this.paint(item);
  }

  private drop(id: string): void {
    const item = this.items.get(id);
    if (!item) return;
    const focused = this.root.activeElement !== null && item.li.contains(this.root.activeElement);
    item.li.remove();
    this.items.delete(id);
    this.refresh();
    if (focused) this.focusItem(0);
  }

  private select(id: string): void {
    const item = this.items.get(id);
    const client = this.active;
    if (!item || !client) return;
    const { notification } = item;
    this.dispatchEvent(new CustomEvent<InboxSelectDetail>('tidings-inbox-select', { detail: { notification }, bubbles: true, composed: true }));
    if (notification.readAt !== undefined) return;
    this.run(client.inbox.markRead([id]).then(() => {
      const now = this.items.get(id)?.notification;
      if (now && now.readAt === undefined) this.update({ ...now, readAt: Date.now() });
    }));
  }

  private run(action: Promise<unknown>): void {
    action.then(() => this.showError(undefined), (err: unknown) => this.showError(err));
  }

  private count(unread: number): void {
    const first = this.unread === undefined;
    if (unread === this.unread) return;
    this.unread = unread;
    this.badge.textContent = unread > 99 ? '99+' : String(unread);
    this.badge.hidden = unread === 0;
    this.markAll.disabled = unread === 0;
    this.label();
    if (!first) this.live.textContent = `${unread} unread ${unread === 1 ? 'notification' : 'notifications'}`;
    this.dispatchEvent(new CustomEvent<InboxUnreadDetail>('tidings-inbox-unread', { detail: { unread }, bubbles: true, composed: true }));
  }

  private label(): void {
    const label = this.getAttribute('label') || 'Notifications';
    const unread = this.unread;
    this.heading.textContent = label;
    this.bell.setAttribute('aria-label', unread === undefined ? label : `${label}, ${unread === 0 ? 'none' : unread} unread`);
  }

  private refresh(): void {
    this.empty.hidden = !this.loaded || this.loading || this.items.size > 0;
    this.more.hidden = this.cursor === undefined;
    this.more.disabled = this.loading;
    this.list.setAttribute('aria-busy', String(this.loading));
  }

  private showError(err: unknown): void {
    this.error.hidden = err === undefined;
    this.error.textContent = err === undefined ? '' : message(err);
  }

  private buttons(): HTMLButtonElement[] {
    return [...this.list.querySelectorAll<HTMLButtonElement>('[part~=item-button]')];
  }

  /** Focuses the item at `index` (negative counts from the end), or the panel when the list is empty. */
  private focusItem(index: number): void {
    const buttons = this.buttons();
    const target = buttons.at(Math.max(-buttons.length, Math.min(index, buttons.length - 1)));
    (target ?? this.panel).focus();
  }

  private onKey(event: KeyboardEvent): void {
    if (event.key === 'Escape' && this.expanded) {
      event.stopPropagation();
      this.close();
      return;
    }
    const buttons = this.buttons();
    const at = buttons.indexOf(this.root.activeElement as HTMLButtonElement);
    if (at === -1) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: -1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    this.focusItem(to === -1 && event.key === 'ArrowUp' ? 0 : to);
  }
}

/** The live ticker `ticker:prices`: the demo server publishes a tick of made-up prices every second. */
import type { Client, Publication } from '@tidings/client/fallback';
import { byId, clock, el } from './dom.js';

export const TICKER_CHANNEL = 'ticker:prices';

interface Quote { symbol: string; price: number; change: number }

export class Ticker {
  private readonly body = byId('ticker');
  private readonly count = byId('ticks');
  private readonly time = byId('tick-time');
  private ticks = 0;
  /** The last tick's offset, to count gaps (ticks neither delivered live nor recovered); 0 before the first. */
  private offset = 0;
  private gaps = 0;

  /** Subscribes `client`; `onSubscribed` hears whether a resubscribe recovered what was missed. */
  attach(client: Client, onSubscribed: (e: { recovering: boolean; recovered: boolean }) => void): void {
    this.ticks = 0;
    this.offset = 0;
    this.gaps = 0;
    this.count.textContent = '0';
    this.count.dataset.gaps = '0';
    client.subscribe(TICKER_CHANNEL, {
      subscribed: (e) => onSubscribed(e),
      publication: (p) => this.tick(p),
    });
  }

  private tick(p: Publication): void {
    const data = p.data as { time?: number; quotes?: Quote[] };
    if (!Array.isArray(data.quotes)) return;
    this.ticks++;
    if (this.offset !== 0 && p.offset !== this.offset + 1) this.count.dataset.gaps = String(++this.gaps);
    this.offset = p.offset;
    this.count.textContent = String(this.ticks);
    this.time.textContent = clock(data.time ?? p.time);
    this.body.replaceChildren(...data.quotes.map((q) => {
      const tr = el('tr');
      const dir = q.change > 0 ? 'up' : q.change < 0 ? 'down' : '';
      tr.append(el('td', q.symbol), el('td', q.price.toFixed(2)), el('td', `${q.change > 0 ? '+' : ''}${q.change.toFixed(2)}`, dir));
      return tr;
    }));
  }
}

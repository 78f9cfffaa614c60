/// <reference lib="dom" preserve="true" />
/**
 * The look of `<tidings-inbox>`: its shadow style sheet, a text-only element builder, what an
 * item says, and relative times. No notification data ever goes through HTML parsing.
 */
import type { Notification } from '@tidings/protocol';

/** The two lines of an item: plain text, never HTML. */
export interface InboxItemText {
  title: string;
  body?: string;
}

/** Turns a notification into the text of its item; set as the element's `format` property. */
export type InboxFormatter = (notification: Notification) => InboxItemText;

function field(payload: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = payload[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * The default text: the payload's `title` (else `text`, else `message`; a string payload is its
 * own title; else the notification's `type`) and its `body`, if any.
 */
export function defaultFormat(notification: Notification): InboxItemText {
  const { payload } = notification;
  const fields = typeof payload === 'object' && payload !== null ? payload as Record<string, unknown> : {};
  const title = field(fields, ['title', 'text', 'message']) ?? (typeof payload === 'string' && payload !== '' ? payload : notification.type);
  const body = field(fields, ['body']);
  return body === undefined ? { title } : { title, body };
}

/** `document.createElement` with attributes and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const UNITS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 31_536_000_000], ['month', 2_592_000_000], ['week', 604_800_000], ['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000],
];
let relative: Intl.RelativeTimeFormat | undefined;

/** `time` (ms since the epoch) relative to `now`, in the page's language: "5 minutes ago", "now". */
export function ago(time: number, now = Date.now()): string {
  relative ??= new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const delta = time - now;
  for (const [unit, size] of UNITS) if (Math.abs(delta) >= size) return relative.format(Math.round(delta / size), unit);
  return relative.format(0, 'second');
}

/** The bell icon (a static SVG path, no data in it). */
export function bellIcon(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('part', 'icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z');
  svg.append(path);
  return svg;
}

const v = (name: string, fallback: string): string => `var(--tidings-inbox-${name},${fallback})`;
const accent = v('accent', '#2563eb');

/** The shadow root's style sheet; every color and size is a `--tidings-inbox-*` custom property. */
export const STYLE = `
:host{position:relative;display:inline-block;font:${v('font', 'inherit')}}
:host([hidden]){display:none}
button{font:inherit;color:inherit;cursor:pointer}
button:focus-visible,[part~=panel]:focus-visible{outline:2px solid ${accent};outline-offset:2px}
[part~=bell]{position:relative;display:inline-flex;align-items:center;justify-content:center;padding:.35em;border:0;border-radius:50%;background:${v('bell-bg', 'transparent')};color:${v('bell-color', 'currentColor')}}
[part~=icon]{width:${v('bell-size', '1.5rem')};height:${v('bell-size', '1.5rem')};fill:currentColor}
[part~=badge]{position:absolute;top:0;right:0;min-width:1.15em;padding:0 .3em;box-sizing:border-box;border-radius:1em;background:${accent};color:${v('accent-text', '#fff')};font-size:.7em;font-weight:700;line-height:1.15em;text-align:center}
[part~=panel]{position:absolute;z-index:${v('z-index', '10')};top:calc(100% + .4em);right:0;width:${v('width', '22rem')};max-width:90vw;max-height:${v('max-height', '26rem')};display:flex;flex-direction:column;color:${v('text', '#111827')};background:${v('bg', '#fff')};border:1px solid ${v('border', '#e5e7eb')};border-radius:${v('radius', '8px')};box-shadow:${v('shadow', '0 10px 30px rgba(0,0,0,.15)')};overflow:hidden;text-align:left}
[part~=panel][hidden],[hidden]{display:none}
[part~=header]{display:flex;align-items:center;justify-content:space-between;gap:.5em;padding:.6em .8em;border-bottom:1px solid ${v('border', '#e5e7eb')}}
[part~=heading]{margin:0;font-size:1em;font-weight:600}
[part~=mark-all],[part~=more]{border:0;background:none;color:${accent};font-size:.85em;padding:.2em .3em}
[part~=mark-all]:disabled{color:${v('muted', '#6b7280')};cursor:default}
[part~=list]{list-style:none;margin:0;padding:0;overflow-y:auto}
[part~=item]{border-bottom:1px solid ${v('border', '#e5e7eb')}}
[part~=item-button]{display:block;width:100%;padding:.6em .8em .6em 1.5em;border:0;background:none;text-align:left;position:relative}
[part~=item-button]:hover{background:${v('hover-bg', '#f9fafb')}}
[part~=unread] [part~=item-button]{background:${v('unread-bg', '#eff6ff')}}
[part~=unread] [part~=item-button]::before{content:"";position:absolute;left:.6em;top:1.05em;width:.45em;height:.45em;border-radius:50%;background:${accent}}
[part~=title]{display:block;font-weight:600}
[part~=body],[part~=time]{display:block;color:${v('muted', '#6b7280')};font-size:.85em;margin-top:.15em}
[part~=empty],[part~=error]{margin:0;padding:1em .8em;color:${v('muted', '#6b7280')}}
[part~=error]{color:${v('error', '#b91c1c')}}
[part~=more]{padding:.6em}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
`;

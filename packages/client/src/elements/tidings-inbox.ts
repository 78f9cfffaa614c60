/// <reference lib="dom" preserve="true" />
/**
 * The `<tidings-inbox>` entry point: the whole WebSocket SDK (as `@tidings/client`) plus the
 * element, defined as `tidings-inbox` when this module is first imported (unless a page already
 * defined that name). Bundled to `dist/browser/tidings-inbox.min.js`, served at
 * `/client/tidings-inbox.min.js`.
 */
import { TidingsInboxElement } from './inbox-element.js';

export * from '../index.js';
export { TidingsInboxElement } from './inbox-element.js';
export type { InboxSelectDetail, InboxUnreadDetail } from './inbox-element.js';
export { defaultFormat } from './inbox-view.js';
export type { InboxFormatter, InboxItemText } from './inbox-view.js';

declare global {
  interface HTMLElementTagNameMap {
    'tidings-inbox': TidingsInboxElement;
  }
}

if (!customElements.get('tidings-inbox')) customElements.define('tidings-inbox', TidingsInboxElement);

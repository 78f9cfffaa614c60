/**
 * Debian's Chromium for the browser tests, driven by playwright-core: whether it is there,
 * launching it headless with the flags this machine's closed network needs, and a page origin of
 * the test's own (another origin than the Tidings server's).
 */
import { existsSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * `describe` options: run when Chromium is installed; otherwise skip loudly, naming `what`.
 * Throws under CI=true, where `.ci/run` installs it.
 */
export function chromiumAvailability(what: string): { skip: string | false } {
  if (existsSync(CHROMIUM)) return { skip: false };
  if (process.env.CI === 'true') throw new Error('chromium is required under CI=true (apt-get install -y chromium)');
  const why = `SKIPPED: Debian chromium not installed (apt-get install -y chromium); ${what} did not run`;
  process.stderr.write(`\n*** ${why} ***\n\n`);
  return { skip: why };
}

/** Launches headless Chromium without background networking (refused on this machine). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A page origin of the test's own: `http://127.0.0.1:<free port>`, answered by `handler`. */
export interface PageOrigin {
  readonly origin: string;
  /** Stops the server (open connections too). */
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 on a free port: the origin a test's pages load from. */
export async function servePages(handler: RequestListener): Promise<PageOrigin> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Debian's Chromium for the browser tests, driven by playwright-core: whether it is there, and
 * launching it headless with the flags this machine's closed network needs.
 */
import { existsSync } from 'node:fs';
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

/** The SockJS settings through `tidings serve`: a custom prefix, refused prefixes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { startSockjsTidings } from './helpers.js';

const bin = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

describe('SockJS settings', () => {
  it('--sockjs-prefix moves the endpoint; --sockjs-jsessionid defaults to off', async () => {
    const t = await startSockjsTidings(['--sockjs-prefix', '/realtime/sockjs']);
    try {
      assert.equal(await (await fetch(`${t.url}/realtime/sockjs`)).text(), 'Welcome to SockJS!\n');
      const info = await fetch(`${t.url}/realtime/sockjs/info`);
      assert.equal((await info.json() as { cookie_needed: boolean }).cookie_needed, false);
      const open = await fetch(`${t.url}/realtime/sockjs/1/abc/xhr`, { method: 'POST' });
      assert.equal(open.headers.get('set-cookie'), null);
      assert.equal((await fetch(`${t.url}/sockjs/info`)).status, 404);
    } finally {
      await t.stop();
    }
  });

  it('refuses a prefix that would cover another endpoint, or is not a path (exit 2)', () => {
    for (const [flag, value] of [['--sockjs-prefix', '/ws'], ['--sockjs-aliases', '/ws-stomp,/api'], ['--sockjs-prefix', 'sockjs']] as const) {
      const r = spawnSync(process.execPath, ['--conditions=tidings-source', '--import', 'tsx', bin, 'serve', flag, value], {
        env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8', timeout: 20_000,
      });
      assert.equal(r.status, 2, `${flag} ${value}: ${r.stderr}`);
      assert.match(r.stderr, /invalid setting sockjs\.(prefix|aliases)\b.*(would cover the \/\w+ endpoint|expected a path)/);
    }
  });
});

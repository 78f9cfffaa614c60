import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { codesMarkdown, withSettings } from '../scripts/gen-docs.js';
import { openApiDocument } from '@tidings/server';
import { startTidings } from './helpers/tidings.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (p: string): string => readFileSync(`${root}${p}`, 'utf8');
const run = promisify(execFile);

/** Fenced ```sh blocks of a markdown file, one string per line of code. */
function shellLines(markdown: string): string[] {
  const out: string[] = [];
  for (const m of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) out.push(...m[1]!.split('\n').filter((l) => l.trim() && !l.startsWith('#')));
  return out;
}

describe('docs tell the truth', () => {
  it('docs/codes.md and the settings table are generated from the current code tables', () => {
    assert.equal(read('docs/codes.md'), codesMarkdown(), 'run: npx tsx --conditions=tidings-source scripts/gen-docs.ts');
    const config = read('docs/configuration.md');
    assert.equal(config, withSettings(config), 'run: npx tsx --conditions=tidings-source scripts/gen-docs.ts');
  });

  it('README states exactly the two commands, and they are the ones package.json runs', () => {
    const lines = shellLines(read('README.md'));
    assert.ok(lines.includes('npm ci && npx tidings serve'));
    assert.ok(lines.includes('npm test'));
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.ok(pkg.scripts.test);
    assert.ok(read('.ci/run').includes('npm test'), '.ci/run calls the README test command');
  });

  it('the README 30-second example works as written (subscriber prints what curl published)', async () => {
    const lines = shellLines(read('README.md'));
    const subscriber = lines.find((l) => l.startsWith('node -e'));
    const publisher = lines.find((l) => l.startsWith('curl -X POST'));
    assert.ok(subscriber && publisher);
    assert.ok(lines.includes('TIDINGS_API_KEY=secret npx tidings serve'));
    const t = await startTidings({ apiKey: 'secret' });
    try {
      const port = (s: string) => s.replaceAll('localhost:8080', `127.0.0.1:${t.port}`);
      const child = spawn('sh', ['-c', port(subscriber)], { cwd: root });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const deadline = Date.now() + 15_000;
      // the example prints publications only: wait until the node has its subscriber on `news`
      const subscribed = async (): Promise<boolean> => {
        const res = await fetch(`${t.url}/api/channels`, { headers: { 'X-API-Key': 'secret' } });
        const { channels } = (await res.json()) as { channels: Array<{ channel: string; subscribers: number }> };
        return channels.some((c) => c.channel === 'news' && c.subscribers > 0);
      };
      while (!(await subscribed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const { stdout } = await run('sh', ['-c', port(publisher)]);
      assert.match(stdout, /"offset":1/);
      while (!out.includes('"type":"publication"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill();
      const pub = out.split('\n').find((l) => l.includes('"type":"publication"'));
      assert.ok(pub, `subscriber printed: ${out}`);
      const msg = JSON.parse(pub) as { channel: string; offset: number; data: unknown };
      assert.equal(msg.channel, 'news');
      assert.equal(msg.offset, 1);
      assert.deepEqual(msg.data, { title: 'Hello' });
    } finally {
      await t.stop();
    }
  });

  it('every endpoint of the OpenAPI document is in docs/api.md', () => {
    const doc = openApiDocument() as { paths: Record<string, unknown> };
    const api = read('docs/api.md');
    for (const path of Object.keys(doc.paths)) assert.ok(api.includes(path), `${path} in docs/api.md`);
  });
});

describe('docs/transports.md curl examples', () => {
  it('every example runs against a real server and prints what it says', async () => {
    const doc = read('docs/transports.md');
    const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 6);
    const t = await startTidings({ apiKey: 'k' });
    const cwd = mkdtempSync(`${tmpdir()}/tidings-docs-`);
    try {
      for (const block of blocks) {
        const expect = /# expect: (.+)/.exec(block)?.[1];
        assert.ok(expect, `block without # expect:\n${block}`);
        const script = block.replaceAll('localhost:8080', `127.0.0.1:${t.port}`);
        // streaming examples end by curl's --max-time (exit 28): judge them by their output
        const stdout = await run('sh', ['-c', script], { cwd, env: { ...process.env, KEY: 'k' }, timeout: 20_000 })
          .then((r) => r.stdout, (err: { stdout?: string }) => err.stdout ?? '');
        assert.ok(stdout.includes(expect), `expected ${expect} from:\n${block}\ngot:\n${stdout}`);
      }
    } finally {
      await t.stop();
    }
  });
});

/**
 * What every publishable package must carry (every directory under packages/, so a new one is
 * held to it too): one version, the root's, on each package and on every dependency between them;
 * the root's license, repository, engines; keywords; exports with types; `files` naming built code
 * only; a README, a LICENSE like the root's, and the version in CHANGELOG.md.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  license?: string;
  type?: string;
  keywords?: string[];
  repository?: { type: string; url: string; directory?: string };
  engines?: { node?: string };
  bin?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const read = (file: string): Manifest => JSON.parse(readFileSync(file, 'utf8')) as Manifest;
const rootManifest = read(join(root, 'package.json'));
const dirs = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
const packages = dirs.map((dir) => ({ dir, manifest: read(join(root, 'packages', dir, 'package.json')) }));
const names = new Set(packages.map((p) => p.manifest.name));

describe('package metadata', () => {
  it('the root is the private tidings-monorepo; packages/cli is the tidings package with the tidings bin', () => {
    assert.equal(rootManifest.name, 'tidings-monorepo');
    assert.equal(rootManifest.private, true);
    const cli = packages.find((p) => p.dir === 'cli')?.manifest;
    assert.equal(cli?.name, 'tidings');
    assert.equal(cli?.bin?.tidings, './bin/tidings.js');
    for (const name of ['@tidings/protocol', '@tidings/stomp', '@tidings/server', '@tidings/redis', '@tidings/client', 'tidings']) assert.ok(names.has(name), name);
  });

  it('one version: every package has the root\'s, and every dependency between them names it exactly', () => {
    for (const { manifest } of packages) {
      assert.equal(manifest.version, rootManifest.version, manifest.name);
      for (const deps of [manifest.dependencies, manifest.peerDependencies, manifest.devDependencies]) {
        for (const [dep, range] of Object.entries(deps ?? {})) {
          if (names.has(dep)) assert.equal(range, rootManifest.version, `${manifest.name} → ${dep}`);
        }
      }
    }
    assert.match(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## \\[${rootManifest.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  });

  for (const { dir, manifest } of packages) {
    it(`${manifest.name} (packages/${dir}) is publishable`, () => {
      assert.notEqual(manifest.private, true);
      assert.ok(manifest.description, 'description');
      assert.equal(manifest.type, 'module');
      assert.equal(manifest.license, 'MIT');
      assert.deepEqual(manifest.repository, { ...rootManifest.repository, directory: `packages/${dir}` });
      assert.equal(manifest.engines?.node, rootManifest.engines?.node);
      assert.ok((manifest.keywords?.length ?? 0) >= 3, 'keywords');
      assert.ok(manifest.files?.includes('dist'), 'files: dist');
      assert.deepEqual(manifest.files?.filter((f) => !f.startsWith('!') && f !== 'dist' && f !== 'bin'), [], 'files: built code only');
      assert.ok(manifest.exports?.['.'], 'exports: .');
      for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) {
        if (typeof entry === 'string') continue;
        const conditions = Object.keys(entry as object);
        assert.equal(conditions.at(-1), 'default', `${subpath}: default last`);
        assert.ok(conditions.includes('types'), `${subpath}: types`);
        assert.ok(conditions.indexOf('types') < conditions.indexOf('default'), `${subpath}: types before default`);
      }
      assert.ok(existsSync(join(root, 'packages', dir, 'README.md')), 'README.md');
      assert.equal(readFileSync(join(root, 'packages', dir, 'LICENSE'), 'utf8'), readFileSync(join(root, 'LICENSE'), 'utf8'), 'LICENSE as the root\'s');
    });
  }
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { builtPages, pagesDir } from './index.js';

describe('@tidings/pages', () => {
  it('names its dist/ folder, and the demo among the built pages (`npm run build`, run by `npm ci`)', () => {
    assert.match(pagesDir, /[/\\]packages[/\\]pages[/\\]dist[/\\]$/);
    assert.ok(builtPages().includes('demo'), builtPages().join(','));
    assert.ok(existsSync(`${pagesDir}demo/main.js`));
  });
});

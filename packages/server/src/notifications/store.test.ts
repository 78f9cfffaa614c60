import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { storeConformance, type StoreFixture } from './conformance.js';
import { digestConformance } from './conformance-digest.js';
import { MemoryStore } from './memory-store.js';
import { MIGRATIONS } from './sqlite-schema.js';
import { SqliteStore } from './sqlite-store.js';

const memory = async (): Promise<StoreFixture> => {
  const store = new MemoryStore();
  return { store, second: async () => store, cleanup: async () => {} };
};
const sqlite = async (): Promise<StoreFixture> => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-store-'));
  const file = join(dir, 'nested', 'tidings.db');
  return { store: new SqliteStore(file), second: async () => new SqliteStore(file), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
};

storeConformance('memory', memory);
storeConformance('sqlite', sqlite);
digestConformance('memory', memory);
digestConformance('sqlite', sqlite);

it('sqlite: migrates once, and what was stored is there after reopening', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-store-'));
  const file = join(dir, 'tidings.db');
  const a = new SqliteStore(file);
  assert.equal(a.version, MIGRATIONS.length);
  const { notifications } = await a.create(['u'], { type: 't', payload: 1 }, { now: 1000 });
  await a.close();
  const b = new SqliteStore(file);
  assert.equal(b.version, MIGRATIONS.length);
  assert.deepEqual((await b.list('u', { limit: 5 }, 2000)).notifications.map((n) => n.id), [notifications[0]!.id]);
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

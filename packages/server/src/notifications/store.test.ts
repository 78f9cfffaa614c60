import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { storeConformance, type StoreFixture } from './conformance.js';
import { storeStateConformance } from './conformance-state.js';
import { preferenceConformance } from './conformance-preferences.js';
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
storeStateConformance('memory', memory);
storeStateConformance('sqlite', sqlite);
preferenceConformance('memory', memory);
preferenceConformance('sqlite', sqlite);
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

it('sqlite: a database made by the first migration keeps its notifications, and they take the new state', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-store-'));
  const file = join(dir, 'old.db');
  const old = new Database(file);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  old.exec(MIGRATIONS[0]!);
  old.prepare('INSERT INTO schema_migrations VALUES (1, 0)').run();
  const insert = old.prepare(`INSERT INTO notifications (id, user_id, type, payload, created_at, visible_at, read_at) VALUES (?, 'u', 'news', ?, ?, ?, ?)`);
  insert.run('a1', '{"n":1}', 1000, 1000, null);
  insert.run('a2', '{"n":2}', 2000, 2000, 2500);
  old.close();
  const store = new SqliteStore(file);
  assert.equal(store.version, MIGRATIONS.length);
  const listed = (await store.list('u', { limit: 10 }, 3000)).notifications;
  assert.deepEqual(listed, [
    { id: 'a2', user: 'u', type: 'news', payload: { n: 2 }, createdAt: 2000, readAt: 2500 },
    { id: 'a1', user: 'u', type: 'news', payload: { n: 1 }, createdAt: 1000 },
  ]);
  assert.equal(await store.unreadCount('u', 3000), 1);
  assert.equal(await store.count('u', { severity: ['info'] }, 3000), 2, 'old rows have no severity: info');
  assert.equal((await store.completeAction('u', 'a2', 'primary', 3000))?.recorded, false, 'no actions, nothing recorded');
  assert.deepEqual((await store.archive('u', ['a1'], true, 3000)).map((n) => n.id), ['a1']);
  assert.equal(await store.unreadCount('u', 3000), 0);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

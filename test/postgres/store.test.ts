import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore, MIGRATIONS } from '@tidings/postgres';
import { StoreUnavailableError } from '@tidings/server';
import { digestConformance } from '@tidings/server/digest-conformance';
import { preferenceConformance } from '@tidings/server/preference-conformance';
import { storeConformance, type StoreFixture } from '@tidings/server/store-conformance';
import { storeStateConformance } from '@tidings/server/store-state-conformance';
import { PostgresProcess, postgresAvailability } from '../helpers/postgres.js';

const availability = postgresAvailability();
let server: PostgresProcess | undefined;
let databases = 0;

/** A store on a database of its own, migrated. */
async function freshStore(): Promise<{ store: PostgresStore; url: string }> {
  const url = await server!.freshDatabase(`conformance_${++databases}`);
  return { store: await PostgresStore.open({ url, poolSize: 8 }), url };
}

describe('PostgreSQL store', { skip: availability.skip }, () => {
  before(async () => {
    server = await PostgresProcess.start();
  });
  after(async () => {
    await server?.destroy();
  });

  const postgres = async (): Promise<StoreFixture> => {
    const { store, url } = await freshStore();
    return { store, second: () => PostgresStore.open({ url, poolSize: 8 }), cleanup: async () => {} };
  };
  storeConformance('postgres', postgres);
  storeStateConformance('postgres', postgres);
  preferenceConformance('postgres', postgres);
  digestConformance('postgres', postgres);

  it('migrates once when three stores start at once on an empty database', async () => {
    const url = await server!.freshDatabase('migrate_race');
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ url })));
    assert.deepEqual(stores.map((s) => s.migrationsApplied.length).sort(), [0, 0, MIGRATIONS.length], 'one store applied every migration, the others none');
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const versions = (await check.query<{ version: number }>('SELECT version FROM tidings_migrations ORDER BY version')).rows.map((r) => r.version);
    await check.end();
    assert.deepEqual(versions, MIGRATIONS.map((_, i) => i + 1));
    const again = await PostgresStore.open({ url });
    assert.deepEqual(again.migrationsApplied, [], 'a restart finds nothing to do');
    await Promise.all([...stores, again].map((s) => s.close()));
  });

  it('keeps the rows of a database made by the first migration, and they take the new state', async () => {
    const url = await server!.freshDatabase('migrate_keep');
    const old = new pg.Client({ connectionString: url });
    await old.connect();
    await old.query('CREATE TABLE tidings_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
    await old.query(MIGRATIONS[0]!);
    await old.query('INSERT INTO tidings_migrations VALUES (1, 0)');
    await old.query(`INSERT INTO notifications (id, user_id, type, payload, created_at, visible_at, read_at)
      VALUES ('a1', 'u', 'news', '{"n":1}', 1000, 1000, NULL), ('a2', 'u', 'news', '{"n":2}', 2000, 2000, 2500)`);
    await old.end();
    const store = await PostgresStore.open({ url });
    assert.deepEqual(store.migrationsApplied, MIGRATIONS.slice(1).map((_, i) => i + 2));
    assert.deepEqual((await store.list('u', { limit: 10 }, 3000)).notifications, [
      { id: 'a2', user: 'u', type: 'news', payload: { n: 2 }, createdAt: 2000, readAt: 2500 },
      { id: 'a1', user: 'u', type: 'news', payload: { n: 1 }, createdAt: 1000 },
    ]);
    assert.equal(await store.unreadCount('u', 3000), 1);
    assert.equal(await store.count('u', { severity: ['info'] }, 3000), 2, 'old rows have no severity: info');
    assert.deepEqual((await store.archive('u', ['a1'], true, 3000)).map((n) => n.id), ['a1']);
    assert.equal(await store.unreadCount('u', 3000), 0);
    await store.close();
  });

  it('cancels a statement over the statement timeout with StoreUnavailableError, and the pool goes on', async () => {
    const url = await server!.freshDatabase('slow');
    const store = await PostgresStore.open({ url, statementTimeout: 300 });
    const { notifications } = await store.create(['s'], { type: 't', payload: 1 }, { now: 1000 });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT * FROM notifications FOR UPDATE');
    const started = Date.now();
    await assert.rejects(store.mark('s', [notifications[0]!.id], { read: true }, 2000), StoreUnavailableError);
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 3000, `cancelled after the timeout, not before or much later: ${waited} ms`);
    await locker.query('ROLLBACK');
    await locker.end();
    assert.equal((await store.mark('s', [notifications[0]!.id], { read: true }, 2000)).length, 1);
    await store.close();
  });

  it('answers StoreUnavailableError while PostgreSQL is stopped, and works again when it returns', async () => {
    const url = await server!.freshDatabase('outage');
    const changes: boolean[] = [];
    const watched = await PostgresStore.open({ url, connectTimeout: 1000, onStatus: (up) => changes.push(up) });
    await watched.create(['d'], { type: 't', payload: 1 }, { now: 1000 });
    await server!.stop();
    await assert.rejects(watched.unreadCount('d', 2000), StoreUnavailableError);
    await assert.rejects(watched.create(['d'], { type: 't', payload: 2 }, { now: 1000 }), StoreUnavailableError);
    await server!.start();
    assert.equal(await watched.unreadCount('d', 2000), 1, 'the pool reconnected by itself');
    assert.deepEqual(changes, [false, true]);
    await watched.close();
  });
});

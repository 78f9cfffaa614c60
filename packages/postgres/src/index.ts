export { PostgresStore, isUnavailable, type PostgresStoreOptions } from './store.js';
export { MIGRATION_LOCK, migrate } from './migrate.js';
export { MIGRATIONS } from './schema.js';

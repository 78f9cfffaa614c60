/**
 * Schema migrations, applied in order on open and recorded in `schema_migrations`.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     type TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     visible_at INTEGER NOT NULL,
     deliver_at INTEGER,
     expire_at INTEGER,
     seen_at INTEGER,
     read_at INTEGER,
     announced INTEGER NOT NULL DEFAULT 1
   );
   CREATE INDEX notifications_inbox ON notifications (user_id, visible_at DESC, id DESC);
   CREATE INDEX notifications_unread ON notifications (user_id, visible_at) WHERE read_at IS NULL;
   CREATE INDEX notifications_due ON notifications (visible_at) WHERE announced = 0;
   CREATE INDEX notifications_expiry ON notifications (expire_at) WHERE expire_at IS NOT NULL;
   CREATE TABLE idempotency (
     key TEXT PRIMARY KEY,
     hash TEXT NOT NULL,
     result TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE schedules (
     id TEXT PRIMARY KEY,
     cron TEXT NOT NULL,
     timezone TEXT NOT NULL,
     target TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     next_run_at INTEGER,
     last_run_at INTEGER,
     lease_owner TEXT,
     lease_until INTEGER
   );
   CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;`,
  // inbox state: tags (a JSON array) and severity; archive; snooze with its wake lease
  `ALTER TABLE notifications ADD COLUMN tags TEXT;
   ALTER TABLE notifications ADD COLUMN severity TEXT;
   ALTER TABLE notifications ADD COLUMN archived_at INTEGER;
   ALTER TABLE notifications ADD COLUMN snoozed_until INTEGER;
   ALTER TABLE notifications ADD COLUMN wake_owner TEXT;
   ALTER TABLE notifications ADD COLUMN wake_until INTEGER;
   CREATE INDEX notifications_snoozed ON notifications (snoozed_until) WHERE snoozed_until IS NOT NULL;
   CREATE INDEX notifications_active ON notifications (user_id, visible_at DESC, id DESC) WHERE archived_at IS NULL;`,
  // preferences and actions: a table of user choices, and a notification's buttons and completion
  `CREATE TABLE notification_preferences (
     user_id TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('type', 'tag')),
     name TEXT NOT NULL,
     muted INTEGER NOT NULL,
     PRIMARY KEY (user_id, kind, name)
   ) WITHOUT ROWID;
   ALTER TABLE notifications ADD COLUMN actions TEXT;
   ALTER TABLE notifications ADD COLUMN completed_action TEXT;
   ALTER TABLE notifications ADD COLUMN completed_at INTEGER;
   ALTER TABLE notifications ADD COLUMN completed_reported INTEGER;`,
  // digests and throttles (./digest.ts): the open digest per user and key, and throttle counters
  `ALTER TABLE notifications ADD COLUMN digest TEXT;
   CREATE TABLE digests (
     user_id TEXT NOT NULL,
     key TEXT NOT NULL,
     notification_id TEXT NOT NULL,
     closes_at INTEGER NOT NULL,
     PRIMARY KEY (user_id, key)
   );
   CREATE TABLE throttles (
     user_id TEXT NOT NULL,
     key TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     count INTEGER NOT NULL,
     PRIMARY KEY (user_id, key)
   );
   CREATE INDEX digests_closing ON digests (closes_at);
   CREATE INDEX throttles_ending ON throttles (ends_at);`,
];

/**
 * Schema migrations, applied in order at start and recorded in `tidings_migrations`.
 * Never edit a released migration: append a new one. Times are bigint milliseconds since the
 * Unix epoch; ids sort bytewise (`COLLATE "C"`), as the inbox cursor expects.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (
     id text COLLATE "C" PRIMARY KEY,
     user_id text NOT NULL,
     type text NOT NULL,
     payload text NOT NULL,
     created_at bigint NOT NULL,
     visible_at bigint NOT NULL,
     deliver_at bigint,
     expire_at bigint,
     seen_at bigint,
     read_at bigint,
     announced boolean NOT NULL DEFAULT true
   );
   CREATE INDEX notifications_inbox ON notifications (user_id, visible_at DESC, id DESC);
   CREATE INDEX notifications_unread ON notifications (user_id, visible_at) WHERE read_at IS NULL;
   CREATE INDEX notifications_due ON notifications (visible_at) WHERE NOT announced;
   CREATE INDEX notifications_expiry ON notifications (expire_at) WHERE expire_at IS NOT NULL;
   CREATE TABLE idempotency (
     key text PRIMARY KEY,
     hash text NOT NULL,
     result text NOT NULL,
     created_at bigint NOT NULL
   );
   CREATE INDEX idempotency_age ON idempotency (created_at);
   CREATE TABLE schedules (
     id text COLLATE "C" PRIMARY KEY,
     cron text NOT NULL,
     timezone text NOT NULL,
     target text NOT NULL,
     created_at bigint NOT NULL,
     next_run_at bigint,
     last_run_at bigint,
     lease_owner text,
     lease_until bigint
   );
   CREATE INDEX schedules_due ON schedules (next_run_at) WHERE next_run_at IS NOT NULL;`,
  // inbox state: tags and severity; archive; snooze with its wake lease
  `ALTER TABLE notifications ADD COLUMN tags text[], ADD COLUMN severity text, ADD COLUMN archived_at bigint,
     ADD COLUMN snoozed_until bigint, ADD COLUMN wake_owner text, ADD COLUMN wake_until bigint;
   CREATE INDEX notifications_snoozed ON notifications (snoozed_until) WHERE snoozed_until IS NOT NULL;
   CREATE INDEX notifications_active ON notifications (user_id, visible_at DESC, id DESC) WHERE archived_at IS NULL;
   CREATE INDEX notifications_tags ON notifications USING gin (tags);`,
  // preferences and actions: a table of user choices, and a notification's buttons and completion
  `CREATE TABLE notification_preferences (
     user_id text NOT NULL,
     kind text COLLATE "C" NOT NULL CHECK (kind IN ('type', 'tag')),
     name text COLLATE "C" NOT NULL,
     muted boolean NOT NULL,
     PRIMARY KEY (user_id, kind, name)
   );
   ALTER TABLE notifications ADD COLUMN actions text;
   ALTER TABLE notifications ADD COLUMN completed_action text;
   ALTER TABLE notifications ADD COLUMN completed_at bigint;
   ALTER TABLE notifications ADD COLUMN completed_reported boolean;`,
  // digests and throttles (@tidings/server's notifications/digest.ts): the open digest per user and key, and throttle counters
  `ALTER TABLE notifications ADD COLUMN digest text;
   CREATE TABLE digests (
     user_id text NOT NULL,
     key text NOT NULL,
     notification_id text COLLATE "C" NOT NULL,
     closes_at bigint NOT NULL,
     PRIMARY KEY (user_id, key)
   );
   CREATE TABLE throttles (
     user_id text NOT NULL,
     key text NOT NULL,
     started_at bigint NOT NULL,
     ends_at bigint NOT NULL,
     count integer NOT NULL,
     PRIMARY KEY (user_id, key)
   );
   CREATE INDEX digests_closing ON digests (closes_at);
   CREATE INDEX throttles_ending ON throttles (ends_at);`,
];

-- Upgrade 1: brings a mod_notify database made before the outbox (no
-- notification_outbox table) up to date, keeping every row. Apply it once,
-- in one transaction:
--     sqlite3 /var/lib/notify/notify.db < build/schema/sqlite-upgrade-1.sql
-- Notifications stored unsent before it are not queued by it (they may be
-- old); to queue them, see README, "Delivery".
BEGIN;

ALTER TABLE notification_deliveries ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notification_deliveries ADD COLUMN updated_at TEXT;
UPDATE notification_deliveries SET updated_at = created_at;
CREATE INDEX notification_deliveries_provider_id ON notification_deliveries(provider, provider_id);

-- What the module still has to deliver (SPEC section 11). state: pending,
-- sending, sent, failed. route: the create Location the notification came
-- through, whose provider settings the worker uses.
CREATE TABLE notification_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL UNIQUE REFERENCES notifications(id),
    channel         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    locked_until    TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    route           TEXT
);
CREATE INDEX notification_outbox_due ON notification_outbox(state, next_attempt_at);

-- What happened to a delivery afterwards, from the providers' webhooks
-- (SPEC section 12).
CREATE TABLE delivery_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES notification_deliveries(id),
    event       TEXT    NOT NULL,
    occurred_at TEXT    NOT NULL,
    detail      TEXT,
    created_at  TEXT    NOT NULL,
    UNIQUE (delivery_id, event, occurred_at)
);

COMMIT;

-- Upgrade 1: brings a mod_notify database made before the outbox (no
-- notification_outbox table) up to date, keeping every row. Apply it once,
-- in one transaction:
--     psql -d notify -f build/schema/pgsql-upgrade-1.sql
-- Notifications stored unsent before it are not queued by it (they may be
-- old); to queue them, see README, "Delivery".
BEGIN;

ALTER TABLE notification_deliveries ADD COLUMN attempt integer NOT NULL DEFAULT 1;
ALTER TABLE notification_deliveries ADD COLUMN updated_at timestamptz;
UPDATE notification_deliveries SET updated_at = created_at;
CREATE INDEX notification_deliveries_provider_id ON notification_deliveries(provider, provider_id);

-- What the module still has to deliver (SPEC section 11). state: pending,
-- sending, sent, failed. route: the create Location the notification came
-- through, whose provider settings the worker uses.
CREATE TABLE notification_outbox (
    id              bigserial   PRIMARY KEY,
    notification_id bigint      NOT NULL UNIQUE REFERENCES notifications(id),
    channel         text        NOT NULL,
    state           text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    locked_until    timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    route           text
);
CREATE INDEX notification_outbox_due ON notification_outbox(state, next_attempt_at);

-- What happened to a delivery afterwards, from the providers' webhooks
-- (SPEC section 12).
CREATE TABLE delivery_events (
    id          bigserial   PRIMARY KEY,
    delivery_id bigint      NOT NULL REFERENCES notification_deliveries(id),
    event       text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    detail      text,
    created_at  timestamptz NOT NULL,
    UNIQUE (delivery_id, event, occurred_at)
);

COMMIT;

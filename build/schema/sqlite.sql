-- mod_notify schema for SQLite (3.35 or newer: the module uses RETURNING).
-- Times are TEXT 'YYYY-MM-DDTHH:MM:SSZ' (UTC); flags are 0/1 integers;
-- tokens are stored only as the lowercase hex SHA-256 of the token.
PRAGMA journal_mode = WAL;

CREATE TABLE api_services (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT    NOT NULL UNIQUE,
    deployed  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_routes (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    method           TEXT    NOT NULL,
    path             TEXT    NOT NULL,
    api_service_id   INTEGER REFERENCES api_services(id),
    deployed         INTEGER NOT NULL DEFAULT 0,
    sensitive_params INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_applications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    token_sha256 TEXT    NOT NULL UNIQUE,
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT    NOT NULL
);

CREATE TABLE users (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT
);

CREATE TABLE clients   (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id));
CREATE TABLE employees (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id));
CREATE TABLE liaisons  (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL REFERENCES users(id));
CREATE INDEX clients_user_id   ON clients(user_id);
CREATE INDEX employees_user_id ON employees(user_id);
CREATE INDEX liaisons_user_id  ON liaisons(user_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    token_sha256 TEXT    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT    NOT NULL,
    remember_me  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE notifications (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    "key"                     TEXT,
    status                    TEXT,
    email_from                TEXT,
    email_subject             TEXT,
    email_technician          TEXT,
    user_id                   TEXT,
    olio_id                   TEXT,
    tour_id                   TEXT,
    client_id                 TEXT,
    email_to                  TEXT,
    email_cc                  TEXT,
    email_bcc                 TEXT,
    email_body                TEXT,
    notifyable_type           TEXT,
    notifyable_id             INTEGER,
    updated_at_fm             TEXT,
    created_at_fm             TEXT,
    processed_at              TEXT,
    processed_at_fm           TEXT,
    updated_in                TEXT,
    processed                 INTEGER NOT NULL DEFAULT 0,
    notification_type         TEXT,
    phone_from                TEXT,
    phone_to                  TEXT,
    media_url                 TEXT,
    extension                 TEXT,
    created_at                TEXT    NOT NULL,
    updated_at                TEXT    NOT NULL,
    created_by_application_id INTEGER REFERENCES api_applications(id),
    created_by_session_id     INTEGER REFERENCES sessions(id)
);
CREATE INDEX notifications_notifyable ON notifications(notifyable_type, notifyable_id);
CREATE INDEX notifications_unprocessed ON notifications(notification_type, processed);

CREATE TABLE notification_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES notifications(id),
    channel         TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    recipient       TEXT,
    recipient_type  TEXT,
    status          TEXT    NOT NULL,
    provider_id     TEXT,
    reject_reason   TEXT,
    error           TEXT,
    created_at      TEXT    NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 1,
    updated_at      TEXT
);
CREATE INDEX notification_deliveries_notification ON notification_deliveries(notification_id);
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

CREATE TABLE idempotency_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    principal      TEXT    NOT NULL,
    idem_key       TEXT    NOT NULL,
    request_sha256 TEXT    NOT NULL,
    http_status    INTEGER,
    response_body  TEXT,
    created_at     TEXT    NOT NULL,
    UNIQUE (principal, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);

INSERT INTO api_services (name, deployed) VALUES ('notifications', 1);
INSERT INTO api_routes (name, method, path, api_service_id, deployed, sensitive_params)
    SELECT 'notifications.create', 'POST', '/api/v1/notifications/create', id, 1, 0
    FROM api_services WHERE name = 'notifications';

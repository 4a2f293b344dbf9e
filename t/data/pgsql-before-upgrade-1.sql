-- The schema as it was before upgrade 1 (commit b69f876): t/webhook.t
-- fills a database made from it, then applies build/schema/*-upgrade-1.sql.
-- mod_notify schema for PostgreSQL (11 or newer).
-- Times are timestamptz; flags are 0/1 integers; ids are bigint;
-- tokens are stored only as the lowercase hex SHA-256 of the token.

CREATE TABLE api_services (
    id        bigserial PRIMARY KEY,
    name      text     NOT NULL UNIQUE,
    deployed  integer  NOT NULL DEFAULT 0
);

CREATE TABLE api_routes (
    id               bigserial PRIMARY KEY,
    name             text    NOT NULL UNIQUE,
    method           text    NOT NULL,
    path             text    NOT NULL,
    api_service_id   bigint  REFERENCES api_services(id),
    deployed         integer NOT NULL DEFAULT 0,
    sensitive_params integer NOT NULL DEFAULT 0
);

CREATE TABLE api_applications (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL,
    token_sha256 text        NOT NULL UNIQUE,
    active       integer     NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL
);

CREATE TABLE users (
    id    bigserial PRIMARY KEY,
    email text
);

CREATE TABLE clients   (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id));
CREATE TABLE employees (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id));
CREATE TABLE liaisons  (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id));
CREATE INDEX clients_user_id   ON clients(user_id);
CREATE INDEX employees_user_id ON employees(user_id);
CREATE INDEX liaisons_user_id  ON liaisons(user_id);

CREATE TABLE sessions (
    id           bigserial   PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users(id),
    token_sha256 text        NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    remember_me  integer     NOT NULL DEFAULT 0
);

CREATE TABLE notifications (
    id                        bigserial   PRIMARY KEY,
    "key"                     text,
    status                    text,
    email_from                text,
    email_subject             text,
    email_technician          text,
    user_id                   text,
    olio_id                   text,
    tour_id                   text,
    client_id                 text,
    email_to                  text,
    email_cc                  text,
    email_bcc                 text,
    email_body                text,
    notifyable_type           text,
    notifyable_id             bigint,
    updated_at_fm             timestamptz,
    created_at_fm             timestamptz,
    processed_at              timestamptz,
    processed_at_fm           timestamptz,
    updated_in                text,
    processed                 integer     NOT NULL DEFAULT 0,
    notification_type         text,
    phone_from                text,
    phone_to                  text,
    media_url                 text,
    extension                 text,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    created_by_application_id bigint      REFERENCES api_applications(id),
    created_by_session_id     bigint      REFERENCES sessions(id)
);
CREATE INDEX notifications_notifyable ON notifications(notifyable_type, notifyable_id);
CREATE INDEX notifications_unprocessed ON notifications(notification_type, processed);

CREATE TABLE notification_deliveries (
    id              bigserial   PRIMARY KEY,
    notification_id bigint      NOT NULL REFERENCES notifications(id),
    channel         text        NOT NULL,
    provider        text        NOT NULL,
    recipient       text,
    recipient_type  text,
    status          text        NOT NULL,
    provider_id     text,
    reject_reason   text,
    error           text,
    created_at      timestamptz NOT NULL
);
CREATE INDEX notification_deliveries_notification ON notification_deliveries(notification_id);

CREATE TABLE idempotency_keys (
    id             bigserial   PRIMARY KEY,
    principal      text        NOT NULL,
    idem_key       text        NOT NULL,
    request_sha256 text        NOT NULL,
    http_status    integer,
    response_body  text,
    created_at     timestamptz NOT NULL,
    UNIQUE (principal, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);

INSERT INTO api_services (name, deployed) VALUES ('notifications', 1);
INSERT INTO api_routes (name, method, path, api_service_id, deployed, sensitive_params)
    SELECT 'notifications.create', 'POST', '/api/v1/notifications/create', id, 1, 0
    FROM api_services WHERE name = 'notifications';

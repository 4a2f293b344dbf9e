/* notify_sql.h */
#include <string.h>

#include <apr_strings.h>

#include "notify_params.h"
#include "notify_sql.h"

/* Rows due: pending and due, or sending but abandoned (their lock
 * expired), of the routes this host knows (its routes, one per line, as
 * one argument; or no route kept); each claim counts an attempt. */
#define CLAIM_SQL(known_route, lock)                                           \
    "UPDATE notification_outbox SET state = 'sending', "                       \
    "attempts = attempts + 1, locked_until = " SQL_TIME                        \
    ", updated_at = " SQL_TIME " WHERE id IN (SELECT id FROM "                 \
    "notification_outbox WHERE ((state = 'pending' AND next_attempt_at "       \
    "<= " SQL_TIME ") OR (state = 'sending' AND locked_until <= " SQL_TIME     \
    ")) AND (route IS NULL OR " known_route ") ORDER BY next_attempt_at "      \
    "LIMIT " SQL_INT lock ") RETURNING id, notification_id, channel, "         \
    "attempts, route"

static const char *placeholder(notify_kind_e kind)
{
    switch (kind) {
    case NOTIFY_K_BIGINT:
        return SQL_ID;
    case NOTIFY_K_FLAG:
        return SQL_INT;
    case NOTIFY_K_DATETIME:
        return SQL_TIME;
    default:
        return "%s";
    }
}

static const char *insert_sql(apr_pool_t *p)
{
    const char *cols = "", *vals = "";
    int i;

    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        const notify_param_def *d = notify_param((notify_param_e)i);
        if (d->flags & NOTIFY_F_REQUEST) {
            continue;
        }
        cols = apr_pstrcat(p, cols, "\"", d->name, "\", ", NULL);
        vals = apr_pstrcat(p, vals, placeholder(d->kind), ", ", NULL);
    }
    return apr_pstrcat(
        p, "INSERT INTO notifications (", cols,
        "created_at, updated_at, created_by_application_id, "
        "created_by_session_id) VALUES (",
        vals, SQL_TIME ", " SQL_TIME ", " SQL_ID ", " SQL_ID ") RETURNING id",
        NULL);
}

/* PostgreSQL: the notification and its outbox row in one statement (a
 * data-modifying WITH), atomic without BEGIN and COMMIT: one round trip
 * where a transaction takes four. SQLite has no INSERT inside WITH: it
 * never prepares this (statements after an upgrade are prepared on first
 * use), and runs the two INSERTs in one transaction. */
static const char *insert_with_outbox_sql(apr_pool_t *p)
{
    return apr_pstrcat(
        p, "WITH n AS (", insert_sql(p),
        ") INSERT INTO notification_outbox (notification_id, channel, state, "
        "attempts, next_attempt_at, locked_until, created_at, updated_at, "
        "route) SELECT id, %s, %s, " SQL_INT ", " SQL_TIME ", " SQL_TIME
        ", " SQL_TIME ", " SQL_TIME ", %s FROM n RETURNING notification_id, id",
        NULL);
}

/* The claim: a single statement only one claimant can win. PostgreSQL
 * locks the rows it takes and skips those another host is taking; SQLite
 * runs it in the database's write turn (one writer). */
static const char *claim_sql(const char *driver)
{
    return strcmp(driver, "sqlite3") == 0
               ? CLAIM_SQL("instr(char(10) || %s || char(10), char(10) || "
                           "route || char(10)) > 0",
                           "")
               : CLAIM_SQL("route = ANY (string_to_array(%s, E'\\n'))",
                           " FOR UPDATE SKIP LOCKED");
}

/* Every stored column of a notification, in the parameter table's order. */
static const char *load_sql(apr_pool_t *p)
{
    const char *cols = "";
    int i;

    for (i = 0; i < NOTIFY_P_COUNT; i++) {
        const notify_param_def *d = notify_param((notify_param_e)i);
        if (!(d->flags & NOTIFY_F_REQUEST)) {
            cols = apr_pstrcat(p, cols, "\"", d->name, "\", ", NULL);
        }
    }
    return apr_pstrcat(p, "SELECT ", cols,
                       "created_at, updated_at, created_by_application_id, "
                       "created_by_session_id FROM notifications WHERE id = ",
                       SQL_ID, NULL);
}

const notify_statement *notify_sql_statements(apr_pool_t *p, const char *driver)
{
    const notify_statement table[] = {
        {SQL_APP,
         "SELECT id FROM api_applications "
         "WHERE token_sha256 = %s AND active = 1",
         0},
        {SQL_SESSION,
         "SELECT s.id, s.user_id, s.created_at, s.last_used_at, "
         "s.remember_me, "
         "CASE WHEN EXISTS (SELECT 1 FROM clients c "
         "WHERE c.user_id = s.user_id) "
         "OR EXISTS (SELECT 1 FROM employees e WHERE e.user_id = s.user_id) "
         "OR EXISTS (SELECT 1 FROM liaisons l WHERE l.user_id = s.user_id) "
         "THEN 1 ELSE 0 END "
         "FROM sessions s WHERE s.token_sha256 = %s",
         0},
        {SQL_TOUCH,
         "UPDATE sessions SET last_used_at = " SQL_TIME " WHERE id = " SQL_ID,
         0},
        {SQL_ROUTE,
         "SELECT r.deployed, r.sensitive_params, s.id, s.deployed "
         "FROM api_routes r LEFT JOIN api_services s "
         "ON s.id = r.api_service_id WHERE r.name = %s",
         0},
        {SQL_INSERT, insert_sql(p), 0},
        {SQL_DELIVERY,
         "INSERT INTO notification_deliveries (notification_id, channel, "
         "provider, recipient, recipient_type, status, provider_id, "
         "reject_reason, error, created_at, attempt, updated_at) VALUES "
         "(" SQL_ID ", %s, %s, %s, %s, %s, %s, %s, %s, " SQL_TIME ", " SQL_INT
         ", " SQL_TIME ")",
         1},
        {SQL_PROCESSED,
         "UPDATE notifications SET processed = 1, "
         "processed_at = " SQL_TIME ", updated_at = " SQL_TIME
         " WHERE id = " SQL_ID,
         0},
        /* The unique constraint decides who owns a key, never a read. */
        {SQL_IDEM_CLAIM,
         "INSERT INTO idempotency_keys (principal, idem_key, "
         "request_sha256, created_at) VALUES (%s, %s, %s, " SQL_TIME ") "
         "ON CONFLICT (principal, idem_key) DO NOTHING RETURNING id",
         0},
        {SQL_IDEM_GET,
         "SELECT id, request_sha256, http_status, response_body, created_at, "
         "COALESCE(length(response_body), 0) FROM idempotency_keys "
         "WHERE principal = %s AND idem_key = %s",
         0},
        {SQL_IDEM_ANSWER,
         "UPDATE idempotency_keys SET http_status = " SQL_INT
         ", response_body = %s WHERE id = " SQL_ID,
         0},
        {SQL_IDEM_RELEASE,
         "DELETE FROM idempotency_keys WHERE id = " SQL_ID
         " AND COALESCE(http_status, 0) = CAST(" SQL_INT " AS INTEGER)"
         " AND COALESCE(length(response_body), 0) = CAST(" SQL_ID
         " AS INTEGER)",
         0},
        {SQL_IDEM_PURGE,
         "DELETE FROM idempotency_keys WHERE id IN (SELECT id FROM "
         "idempotency_keys WHERE created_at < " SQL_TIME " LIMIT 500)",
         0},
        {SQL_LOAD, load_sql(p), 0},
        {SQL_OUTBOX_INSERT,
         "INSERT INTO notification_outbox (notification_id, channel, state, "
         "attempts, next_attempt_at, locked_until, created_at, updated_at, "
         "route) VALUES (" SQL_ID ", %s, %s, " SQL_INT ", " SQL_TIME
         ", " SQL_TIME ", " SQL_TIME ", " SQL_TIME ", %s) RETURNING id",
         1},
        {SQL_INSERT_WITH_OUTBOX, insert_with_outbox_sql(p), 1},
        {SQL_OUTBOX_CLAIM, claim_sql(driver), 1},
        /* Only the attempt that claimed it ends it: a row taken again
         * after its lock expired belongs to the newer attempt. */
        {SQL_OUTBOX_DONE,
         "UPDATE notification_outbox SET state = %s, next_attempt_at "
         "= " SQL_TIME
         ", locked_until = NULL, last_error = %s, updated_at = " SQL_TIME
         " WHERE id = " SQL_ID " AND attempts = " SQL_INT,
         1},
        /* SPEC 12: the delivery an event is about (the recipient too, when
         * the provider names it). */
        {SQL_EVENT_MATCH,
         "SELECT id FROM notification_deliveries WHERE provider = %s AND "
         "provider_id = %s AND (%s IS NULL OR lower(recipient) = lower(%s)) "
         "ORDER BY id DESC LIMIT 1",
         1},
        {SQL_EVENT_INSERT,
         "INSERT INTO delivery_events (delivery_id, event, occurred_at, "
         "detail, created_at) VALUES (" SQL_ID ", %s, " SQL_TIME
         ", %s, " SQL_TIME ") ON CONFLICT (delivery_id, event, occurred_at) DO "
         "NOTHING RETURNING id",
         1},
        /* An event without a time of its own: once per delivery. */
        {SQL_EVENT_INSERT_ONCE,
         "INSERT INTO delivery_events (delivery_id, event, occurred_at, "
         "detail, created_at) SELECT " SQL_ID ", %s, " SQL_TIME ", %s, " SQL_TIME
         " WHERE NOT EXISTS (SELECT 1 FROM delivery_events WHERE delivery_id "
         "= " SQL_ID " AND event = %s) ON CONFLICT (delivery_id, event, "
         "occurred_at) DO NOTHING RETURNING id",
         1},
        {SQL_EVENT_STATUS,
         "UPDATE notification_deliveries SET status = %s, "
         "updated_at = " SQL_TIME " WHERE id = " SQL_ID,
         1},
        /* SPEC 14: the outbox figures of notify-status. */
        {SQL_OUTBOX_STATS,
         "SELECT state, COUNT(*), MIN(created_at) FROM notification_outbox "
         "WHERE state IN ('pending', 'sending', 'failed') GROUP BY state",
         1},
        {NULL, NULL, 0}};

    return apr_pmemdup(p, table, sizeof(table));
}

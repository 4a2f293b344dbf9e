/* Every SQL statement the module runs, by label: one table, portable
 * between SQLite and PostgreSQL but for the outbox's claim (SPEC 11), which
 * each driver words its own way. Times are bound as RFC 3339 text, which
 * both read. */
#ifndef NOTIFY_SQL_H
#define NOTIFY_SQL_H

#include "notify_db.h"

#define SQL_APP "notify_app"
#define SQL_SESSION "notify_session"
#define SQL_TOUCH "notify_touch"
#define SQL_ROUTE "notify_route"
#define SQL_INSERT "notify_insert"
#define SQL_DELIVERY "notify_delivery"
#define SQL_PROCESSED "notify_processed"
#define SQL_IDEM_CLAIM "notify_idem_claim"
#define SQL_IDEM_GET "notify_idem_get"
#define SQL_IDEM_ANSWER "notify_idem_answer"
#define SQL_IDEM_RELEASE "notify_idem_release"
#define SQL_IDEM_PURGE "notify_idem_purge"

/* Placeholders carry the column's type: PostgreSQL has no implicit cast
 * from the varchar of a plain %s to bigint or timestamptz (SQLite binds
 * them all as text and lets column affinity convert). */
#define SQL_TIME "%pDz"
#define SQL_ID "%lld"
#define SQL_INT "%d"

#define SQL_LOAD "notify_load"
#define SQL_OUTBOX_INSERT "notify_outbox_insert"
#define SQL_INSERT_WITH_OUTBOX "notify_insert_with_outbox"
#define SQL_OUTBOX_CLAIM "notify_outbox_claim"
#define SQL_OUTBOX_DONE "notify_outbox_done"
#define SQL_EVENT_MATCH "notify_event_match"
#define SQL_EVENT_INSERT "notify_event_insert"
#define SQL_EVENT_INSERT_ONCE "notify_event_insert_once"
#define SQL_EVENT_STATUS "notify_event_status"
#define SQL_OUTBOX_STATS "notify_outbox_stats"

/* The statements for a driver (apr_dbd_name: "sqlite3", "pgsql", ...),
 * ending with {NULL, NULL}; built in p. */
const notify_statement *notify_sql_statements(apr_pool_t *p,
                                              const char *driver);

#endif

/* Everything the module reads and writes in SQL: one table of labelled
 * statements, portable between SQLite and PostgreSQL, and the operations
 * of the create path on them (notify_db.h does the talking). Each lookup
 * returns APR_SUCCESS with "found" or "not found" in its result, and an
 * error only when the database could not answer. APR-only. */
#ifndef NOTIFY_STORE_H
#define NOTIFY_STORE_H

#include "notify_db.h"
#include "notify_params.h"
#include "notify_types.h"

/* The statements, ending with {NULL, NULL}; built once in p (the INSERT
 * follows the parameter table). */
const notify_statement *notify_store_statements(apr_pool_t *p);

/* The active application whose token hashes to sha; *app_id 0 if none. */
apr_status_t notify_store_find_app(notify_db *db, apr_pool_t *p,
                                   const char *sha, apr_int64_t *app_id);

typedef struct {
    apr_int64_t id; /* 0: no such session */
    apr_int64_t user_id;
    const char *created_at; /* as stored */
    const char *last_used_at;
    int remember_me;
    int has_role; /* a clients, employees or liaisons row */
} notify_session_row;

apr_status_t notify_store_find_session(notify_db *db, apr_pool_t *p,
                                       const char *sha, notify_session_row *s);

apr_status_t notify_store_touch_session(notify_db *db, apr_pool_t *p,
                                        apr_int64_t id, const char *now);

typedef struct {
    int found;
    int route_deployed;
    int sensitive;
    int service_found;
    int service_deployed;
} notify_route_row;

apr_status_t notify_store_find_route(notify_db *db, apr_pool_t *p,
                                     const char *name, notify_route_row *rt);

/* The answer an Idempotency-Key keeps, rendered inside the transaction
 * that stores it, once the row ids are known. A provisional answer is kept
 * without its HTTP code: the request is still running (repeats get 409),
 * and only if it never replaces it (its process died) is it replayed. */
typedef struct {
    apr_int64_t claim_id; /* 0: no key */
    const char *(*render)(void *baton, int *http);
    void *baton;
    int provisional;
} notify_idem_answer;

/* Stores one notification atomically; row->id is set. With an answer to
 * keep, it is stored in the same transaction, and the transaction fails
 * when the claim is no longer there (taken over): then nothing is
 * written. */
apr_status_t notify_store_create(notify_db *db, apr_pool_t *p,
                                 const notify_values *v, notify_row *row,
                                 const notify_principal *who,
                                 const notify_idem_answer *answer);

/* One delivery attempt of a notification, recorded in one transaction:
 * a notification_deliveries row per recipient; accepted: processed = 1,
 * processed_at = updated_at = now; refused: the dev team's system-error
 * notification dev (dev_row gets its id); and the final answer of the
 * Idempotency-Key, if any. */
typedef struct {
    apr_int64_t notification_id;
    const notify_proof *proof;
    int accepted;
    const char *now;
    const notify_values *dev; /* NULL: none */
    notify_row *dev_row;
    const notify_principal *who;
} notify_delivery_record;

apr_status_t notify_store_delivery(notify_db *db, apr_pool_t *p,
                                   const notify_delivery_record *rec,
                                   const notify_idem_answer *answer);

/* Keeps answer (its final one) with its key, alone: when the write it
 * belongs with could not be made. */
apr_status_t notify_store_idem_keep(notify_db *db, apr_pool_t *p,
                                    const notify_idem_answer *answer);

typedef struct {
    apr_int64_t id; /* 0: no such key */
    const char *request_sha256;
    int http_status;           /* 0: no final answer kept yet */
    const char *response_body; /* with http_status 0: a provisional one */
    apr_int64_t body_length;   /* of response_body, as the database counts */
    const char *created_at;
} notify_idem_row;

/* Claims (principal, key): *id is the new row, or 0 when the key is
 * already there (the unique constraint decided). Committed at once, so
 * concurrent repeats see the claim. */
apr_status_t notify_store_idem_claim(notify_db *db, apr_pool_t *p,
                                     const char *principal, const char *key,
                                     const char *request_sha256,
                                     const char *now, apr_int64_t *id);

apr_status_t notify_store_idem_get(notify_db *db, apr_pool_t *p,
                                   const char *principal, const char *key,
                                   notify_idem_row *row);

/* Frees a key whose request wrote nothing, or an expired one. Only a row
 * still in the state it was read in is deleted (same id, answer code and
 * answer length), so two requests taking over one key cannot both
 * succeed. *deleted: 0 or 1. */
apr_status_t notify_store_idem_release(notify_db *db, apr_pool_t *p,
                                       const notify_idem_row *seen,
                                       int *deleted);

/* Deletes up to 500 keys created before `before`. */
apr_status_t notify_store_idem_purge(notify_db *db, apr_pool_t *p,
                                     const char *before);

#endif

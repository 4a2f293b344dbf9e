/* What the module reads and writes in SQL (the statements are in
 * notify_sql.c; notify_db.h does the talking): the create path, the
 * outbox and the attempts. Each lookup returns APR_SUCCESS with "found"
 * or "not found" in its result, and an error only when the database could
 * not answer. APR-only. */
#ifndef NOTIFY_STORE_H
#define NOTIFY_STORE_H

#include <apr_tables.h>

#include "notify_db.h"
#include "notify_metrics.h"
#include "notify_params.h"
#include "notify_types.h"

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

/* The outbox row a notification to deliver gets in its own transaction
 * (SPEC 11): queued, pending and due now; or, when the request makes the
 * first attempt itself, sending, attempt 1 counted, locked until it must
 * have ended. */
typedef struct {
    const char *channel;
    const char *state;
    int attempts;
    const char *next_attempt_at;
    const char *locked_until;
    const char *route; /* the create Location, for the worker */
    apr_int64_t id;    /* set when stored */
} notify_outbox_new;

/* Stores one notification atomically; row->id is set. With an answer to
 * keep, or an outbox row, all of it is one transaction (on PostgreSQL an
 * outbox row alone goes with its notification in one statement); the
 * transaction fails, writing nothing, when a claimed key is no longer
 * there (taken over). */
apr_status_t notify_store_create(notify_db *db, apr_pool_t *p,
                                 const notify_values *v, notify_row *row,
                                 const notify_principal *who,
                                 const notify_idem_answer *answer,
                                 notify_outbox_new *outbox);

/* One attempt of a notification, recorded in one transaction: a
 * notification_deliveries row per recipient (with the attempt's number);
 * the outbox row's new state, if the attempt still owns it; accepted:
 * processed = 1, processed_at = updated_at = now; the dev team's
 * system-error notifications (up to two); the key's final answer. */
typedef struct {
    apr_int64_t notification_id;
    apr_int64_t outbox_id;
    int attempt; /* its number: 1 for the first */
    const notify_proof *proof;
    int accepted;
    const char *state;           /* the outbox's: sent, pending, failed */
    const char *next_attempt_at; /* pending: when */
    const char *last_error;
    const char *now;
    const notify_values *dev[2]; /* NULL-terminated */
    notify_row *dev_row[2];
    const notify_principal *who;
} notify_attempt_record;

apr_status_t notify_store_attempt(notify_db *db, apr_pool_t *p,
                                  const notify_attempt_record *rec,
                                  const notify_idem_answer *answer);

/* The outbox row's part of rec alone: when the rest could not be written,
 * this at least keeps a sent notification from being sent again. */
apr_status_t notify_store_outbox_mark(notify_db *db, apr_pool_t *p,
                                      const notify_attempt_record *rec);

/* An outbox row the worker claimed. */
typedef struct {
    apr_int64_t id;
    apr_int64_t notification_id;
    const char *channel;
    int attempts; /* with the one just claimed */
    const char *route;
} notify_outbox_row;

/* Claims up to max rows due at now (pending and due, or sending with an
 * expired lock) of the routes (one per line) this host can deliver (or
 * of no route), with one write only one claimant wins: each becomes
 * sending until locked_until, its attempt counted. *rows: what was
 * claimed (notify_outbox_row). */
apr_status_t notify_store_outbox_claim(notify_db *db, apr_pool_t *p,
                                       const char *now,
                                       const char *locked_until,
                                       const char *routes, int max,
                                       apr_array_header_t **rows);

/* Keeps answer (its final one) with its key, alone: when the write it
 * belongs with could not be made. */
apr_status_t notify_store_idem_keep(notify_db *db, apr_pool_t *p,
                                    const notify_idem_answer *answer);

/* The outbox figures (pending, sending, failed, oldest pending) at now. */
apr_status_t notify_store_outbox_stats(notify_db *db, apr_pool_t *p,
                                       apr_time_t now, notify_outbox_stats *o);

/* A stored notification, for an attempt: *found 0 when there is none. */
apr_status_t notify_store_load(notify_db *db, apr_pool_t *p, apr_int64_t id,
                               notify_values *v, notify_row *row,
                               notify_principal *who, int *found);

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

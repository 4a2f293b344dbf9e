/* Idempotency-Key (SPEC sections 6 and 9): the key's form, what a repeat
 * gets, and the claim that decides, across processes and hosts sharing a
 * database, which request owns a key. */
#ifndef NOTIFY_IDEM_H
#define NOTIFY_IDEM_H

#include <apr_time.h>

#include "notify_store.h"

/* 1 to 255 bytes of 0x21 to 0x7E. */
int notify_idem_key_valid(const char *key);

typedef enum {
    NOTIFY_IDEM_CLAIMED,     /* this request owns the key */
    NOTIFY_IDEM_REPLAY,      /* send the kept answer again */
    NOTIFY_IDEM_REUSED,      /* the key came with another body: 422 */
    NOTIFY_IDEM_IN_PROGRESS, /* the first request is still running: 409 */
    NOTIFY_IDEM_TAKE_OVER    /* expired, or its request died: free it */
} notify_idem_verdict_e;

typedef struct {
    apr_int64_t window;          /* NotifyIdempotencyWindow, seconds */
    apr_int64_t abandoned_after; /* a claim with no answer kept is given
                                    up after this many seconds */
} notify_idem_policy;

/* What a repeat of a key held in row gets. The window comes first: after
 * it the key is free whatever it holds. A claim that kept no answer
 * belongs to a request that died before its create committed (the create
 * keeps an answer in its own transaction), so after abandoned_after it is
 * free too. A provisional answer (no HTTP code) is the request's while it
 * runs, and replayed once abandoned_after has passed. */
notify_idem_verdict_e notify_idem_judge(const notify_idem_row *row,
                                        const char *request_sha256,
                                        apr_time_t now,
                                        const notify_idem_policy *pol);

typedef struct {
    notify_idem_verdict_e verdict; /* never TAKE_OVER */
    apr_int64_t claim_id;          /* NOTIFY_IDEM_CLAIMED */
    notify_idem_row kept;          /* NOTIFY_IDEM_REPLAY (http_status 0:
                                      the provisional answer) */
} notify_idem_outcome;

/* Claims (principal, key) for a request whose body hashes to
 * request_sha256, or says why not. Keys taken over are freed and claimed
 * again, a few rounds at most. */
apr_status_t notify_idem_claim(notify_db *db, apr_pool_t *p,
                               const char *principal, const char *key,
                               const char *request_sha256, apr_time_t now,
                               const notify_idem_policy *pol,
                               notify_idem_outcome *out);

/* Whether expired keys are due a purge (at most once per `every` per
 * process, whose last purge time is *last). */
int notify_idem_purge_due(volatile apr_time_t *last, apr_time_t now,
                          apr_interval_time_t every);

#endif

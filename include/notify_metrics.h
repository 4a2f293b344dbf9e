/* The module's counters (SPEC section 14): answers by status, delivery
 * attempts by provider and outcome, provider latency as a histogram. They
 * live in one notify_metrics block that httpd's glue places in shared
 * memory before the children fork, so every child adds to the same
 * figures (atomic 64-bit adds). Rendered as JSON or in the Prometheus
 * text format, with the outbox figures read from the database. */
#ifndef NOTIFY_METRICS_H
#define NOTIFY_METRICS_H

#include <apr_pools.h>
#include <apr_time.h>

#include "notify_provider.h"
#include "notify_status.h"

/* Providers counted (notify_delivery.c lists them). */
#define NOTIFY_METRICS_PROVIDERS 4
/* Upper bounds of the latency buckets, in milliseconds; one more bucket
 * (+Inf) follows. */
#define NOTIFY_METRICS_BUCKETS 10
extern const unsigned notify_metrics_bounds_ms[NOTIFY_METRICS_BUCKETS];

typedef enum {
    NOTIFY_OUTCOME_ACCEPTED, /* the provider accepted */
    NOTIFY_OUTCOME_REJECTED, /* refused for good (no retry) */
    NOTIFY_OUTCOME_ERROR,    /* failed, to be retried */
    NOTIFY_OUTCOME_COUNT
} notify_outcome_e;

typedef struct {
    apr_uint64_t attempts[NOTIFY_OUTCOME_COUNT];
    apr_uint64_t buckets[NOTIFY_METRICS_BUCKETS + 1]; /* not cumulative */
    apr_uint64_t latency_us;                          /* sum */
} notify_provider_metrics;

typedef struct {
    apr_uint64_t requests[NOTIFY_STATUS_COUNT];
    apr_uint64_t replayed; /* Idempotency-Key replays (status kept) */
    notify_provider_metrics providers[NOTIFY_METRICS_PROVIDERS];
} notify_metrics;

/* The outbox as the database says, read when the figures are asked for. */
typedef struct {
    int read; /* 0: the database could not be read */
    apr_int64_t pending, sending, failed;
    apr_int64_t oldest_pending_age; /* seconds; -1: nothing pending */
} notify_outbox_stats;

/* Where this process counts (NULL, the default: nowhere). Set once, before
 * any thread exists. */
void notify_metrics_attach(notify_metrics *m);
notify_metrics *notify_metrics_attached(void);

/* An answer with status st (NOTIFY_STATUS_COUNT: a replay). */
void notify_metrics_request(notify_status_e st);

/* An attempt through prov that ended with verdict after latency. */
void notify_metrics_attempt(const notify_provider *prov,
                            notify_attempt_e verdict,
                            apr_interval_time_t latency);

/* The outbox figures from rows of (state, count, oldest created_at). */
void notify_outbox_stats_add(notify_outbox_stats *o, const char *state,
                             apr_int64_t count, const char *oldest,
                             apr_time_t now);

/* m and o as JSON, and in the Prometheus text format (version 0.0.4). */
char *notify_metrics_json(apr_pool_t *p, const notify_metrics *m,
                          const notify_outbox_stats *o);
char *notify_metrics_prometheus(apr_pool_t *p, const notify_metrics *m,
                                const notify_outbox_stats *o);

/* Totals, for server-status. */
apr_uint64_t notify_metrics_requests_total(const notify_metrics *m);
apr_uint64_t notify_metrics_attempts_total(const notify_metrics *m,
                                           notify_outcome_e outcome);

#endif

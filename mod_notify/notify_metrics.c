/* notify_metrics.h */
#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <jansson.h>

#include "notify_datetime.h"
#include "notify_delivery.h"
#include "notify_metrics.h"

const unsigned notify_metrics_bounds_ms[NOTIFY_METRICS_BUCKETS] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};

static const char *const outcome_names[NOTIFY_OUTCOME_COUNT] = {
    "accepted", "rejected", "error"};

/* The process's block: set before the threads exist, read-only after. */
static notify_metrics *attached;

void notify_metrics_attach(notify_metrics *m)
{
    attached = m;
}

notify_metrics *notify_metrics_attached(void)
{
    return attached;
}

void notify_metrics_request(notify_status_e st)
{
    if (!attached) {
        return;
    }
    if (st >= NOTIFY_STATUS_COUNT) {
        apr_atomic_inc64(&attached->replayed);
    }
    else {
        apr_atomic_inc64(&attached->requests[st]);
    }
}

/* The provider's place in the block, or -1. */
static int provider_slot(const notify_provider *prov)
{
    apr_size_t i, n = notify_delivery_provider_count();

    for (i = 0; i < n && i < NOTIFY_METRICS_PROVIDERS; i++) {
        if (notify_delivery_provider_at(i) == prov) {
            return (int)i;
        }
    }
    return -1;
}

void notify_metrics_attempt(const notify_provider *prov,
                            notify_attempt_e verdict,
                            apr_interval_time_t latency)
{
    notify_provider_metrics *pm;
    notify_outcome_e outcome;
    int slot = provider_slot(prov), b;

    if (!attached || slot < 0) {
        return;
    }
    pm = &attached->providers[slot];
    outcome = verdict == NOTIFY_ATTEMPT_ACCEPTED    ? NOTIFY_OUTCOME_ACCEPTED
              : verdict == NOTIFY_ATTEMPT_PERMANENT ? NOTIFY_OUTCOME_REJECTED
                                                    : NOTIFY_OUTCOME_ERROR;
    apr_atomic_inc64(&pm->attempts[outcome]);
    if (latency < 0) {
        latency = 0;
    }
    for (b = 0; b < NOTIFY_METRICS_BUCKETS; b++) {
        /* A bucket holds the calls that took at most its bound. */
        if ((apr_uint64_t)latency <= (apr_uint64_t)notify_metrics_bounds_ms[b] * 1000) {
            break;
        }
    }
    apr_atomic_inc64(&pm->buckets[b]);
    apr_atomic_add64(&pm->latency_us, (apr_uint64_t)latency);
}

void notify_outbox_stats_add(notify_outbox_stats *o, const char *state,
                             apr_int64_t count, const char *oldest,
                             apr_time_t now)
{
    apr_time_t t;

    if (!state) {
        return;
    }
    if (strcmp(state, "pending") == 0) {
        o->pending += count;
        if (oldest && notify_datetime_to_time(oldest, strlen(oldest), &t)) {
            apr_int64_t age = apr_time_sec(now - t);
            if (age < 0) {
                age = 0;
            }
            if (age > o->oldest_pending_age) {
                o->oldest_pending_age = age;
            }
        }
    }
    else if (strcmp(state, "sending") == 0) {
        o->sending += count;
    }
    else if (strcmp(state, "failed") == 0) {
        o->failed += count;
    }
}

apr_uint64_t notify_metrics_requests_total(const notify_metrics *m)
{
    apr_uint64_t n = apr_atomic_read64((apr_uint64_t *)&m->replayed);
    int i;

    for (i = 0; i < NOTIFY_STATUS_COUNT; i++) {
        n += apr_atomic_read64((apr_uint64_t *)&m->requests[i]);
    }
    return n;
}

apr_uint64_t notify_metrics_attempts_total(const notify_metrics *m,
                                           notify_outcome_e outcome)
{
    apr_uint64_t n = 0;
    int i;

    for (i = 0; i < NOTIFY_METRICS_PROVIDERS; i++) {
        n += apr_atomic_read64(
            (apr_uint64_t *)&m->providers[i].attempts[outcome]);
    }
    return n;
}

/* A consistent-enough copy of the block (each figure read atomically). */
static void snapshot(const notify_metrics *m, notify_metrics *out)
{
    const apr_uint64_t *from = (const apr_uint64_t *)m;
    apr_uint64_t *to = (apr_uint64_t *)out;
    apr_size_t i;

    for (i = 0; i < sizeof(*m) / sizeof(apr_uint64_t); i++) {
        to[i] = apr_atomic_read64((apr_uint64_t *)&from[i]);
    }
}

static const char *bound_text(apr_pool_t *p, int b)
{
    if (b >= NOTIFY_METRICS_BUCKETS) {
        return "+Inf";
    }
    return apr_psprintf(p, "%u.%03u", notify_metrics_bounds_ms[b] / 1000,
                        notify_metrics_bounds_ms[b] % 1000);
}

static apr_size_t providers_shown(void)
{
    apr_size_t n = notify_delivery_provider_count();

    return n < NOTIFY_METRICS_PROVIDERS ? n : NOTIFY_METRICS_PROVIDERS;
}

char *notify_metrics_json(apr_pool_t *p, const notify_metrics *m,
                          const notify_outbox_stats *o)
{
    notify_metrics s;
    json_t *root = json_object(), *req = json_object(), *dels = json_array();
    char *text, *out;
    apr_size_t i;
    int k;

    snapshot(m, &s);
    for (k = 0; k < NOTIFY_STATUS_COUNT; k++) {
        json_object_set_new(req, notify_status((notify_status_e)k)->name,
                            json_integer((json_int_t)s.requests[k]));
    }
    json_object_set_new(root, "requests", req);
    json_object_set_new(root, "requests_replayed",
                        json_integer((json_int_t)s.replayed));
    for (i = 0; i < providers_shown(); i++) {
        const notify_provider *prov = notify_delivery_provider_at(i);
        const notify_provider_metrics *pm = &s.providers[i];
        json_t *d = json_object(), *lat = json_object(), *bk = json_object();
        apr_uint64_t cum = 0, count = 0;

        json_object_set_new(d, "channel", json_string(prov->channel));
        json_object_set_new(d, "provider", json_string(prov->name));
        for (k = 0; k < NOTIFY_OUTCOME_COUNT; k++) {
            json_object_set_new(d, outcome_names[k],
                                json_integer((json_int_t)pm->attempts[k]));
        }
        for (k = 0; k <= NOTIFY_METRICS_BUCKETS; k++) {
            cum += pm->buckets[k];
            json_object_set_new(bk, bound_text(p, k),
                                json_integer((json_int_t)cum));
        }
        count = cum;
        json_object_set_new(lat, "count", json_integer((json_int_t)count));
        json_object_set_new(lat, "sum_seconds",
                            json_real((double)pm->latency_us / 1e6));
        json_object_set_new(lat, "buckets", bk);
        json_object_set_new(d, "latency", lat);
        json_array_append_new(dels, d);
    }
    json_object_set_new(root, "deliveries", dels);
    if (o && o->read) {
        json_t *ob = json_object();
        json_object_set_new(ob, "pending", json_integer(o->pending));
        json_object_set_new(ob, "sending", json_integer(o->sending));
        json_object_set_new(ob, "failed", json_integer(o->failed));
        json_object_set_new(ob, "oldest_pending_age_seconds",
                            o->oldest_pending_age < 0
                                ? json_null()
                                : json_integer(o->oldest_pending_age));
        json_object_set_new(root, "outbox", ob);
    }
    else {
        json_object_set_new(root, "outbox", json_null());
    }
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) {
        return NULL;
    }
    out = apr_pstrdup(p, text);
    free(text);
    return out;
}

/* Prometheus text format 0.0.4: a HELP and a TYPE line per metric, then
 * its samples. */
static void family(apr_pool_t *p, char **out, const char *name,
                   const char *type, const char *help)
{
    *out = apr_psprintf(p, "%s# HELP %s %s\n# TYPE %s %s\n", *out, name, help,
                        name, type);
}

char *notify_metrics_prometheus(apr_pool_t *p, const notify_metrics *m,
                                const notify_outbox_stats *o)
{
    notify_metrics s;
    char *out = "";
    apr_size_t i;
    int k;

    snapshot(m, &s);
    family(p, &out, "notify_requests_total", "counter",
           "Answers sent since httpd started, by status.");
    for (k = 0; k < NOTIFY_STATUS_COUNT; k++) {
        out = apr_psprintf(p, "%snotify_requests_total{status=\"%s\"} %" APR_UINT64_T_FMT "\n",
                           out, notify_status((notify_status_e)k)->name,
                           s.requests[k]);
    }
    family(p, &out, "notify_requests_replayed_total", "counter",
           "Idempotency-Key replays since httpd started.");
    out = apr_psprintf(p, "%snotify_requests_replayed_total %" APR_UINT64_T_FMT "\n",
                       out, s.replayed);
    family(p, &out, "notify_delivery_attempts_total", "counter",
           "Delivery attempts since httpd started, by channel, provider and "
           "outcome.");
    for (i = 0; i < providers_shown(); i++) {
        const notify_provider *prov = notify_delivery_provider_at(i);
        for (k = 0; k < NOTIFY_OUTCOME_COUNT; k++) {
            out = apr_psprintf(
                p,
                "%snotify_delivery_attempts_total{channel=\"%s\",provider=\"%s\","
                "outcome=\"%s\"} %" APR_UINT64_T_FMT "\n",
                out, prov->channel, prov->name, outcome_names[k],
                s.providers[i].attempts[k]);
        }
    }
    family(p, &out, "notify_provider_latency_seconds", "histogram",
           "How long provider calls took.");
    for (i = 0; i < providers_shown(); i++) {
        const notify_provider *prov = notify_delivery_provider_at(i);
        const notify_provider_metrics *pm = &s.providers[i];
        const char *labels = apr_psprintf(p, "channel=\"%s\",provider=\"%s\"",
                                          prov->channel, prov->name);
        apr_uint64_t cum = 0;

        for (k = 0; k <= NOTIFY_METRICS_BUCKETS; k++) {
            cum += pm->buckets[k];
            out = apr_psprintf(
                p,
                "%snotify_provider_latency_seconds_bucket{%s,le=\"%s\"} "
                "%" APR_UINT64_T_FMT "\n",
                out, labels, bound_text(p, k), cum);
        }
        out = apr_psprintf(
            p,
            "%snotify_provider_latency_seconds_sum{%s} %" APR_UINT64_T_FMT
            ".%06" APR_UINT64_T_FMT "\n"
            "notify_provider_latency_seconds_count{%s} %" APR_UINT64_T_FMT "\n",
            out, labels, pm->latency_us / 1000000, pm->latency_us % 1000000,
            labels, cum);
    }
    family(p, &out, "notify_outbox_up", "gauge",
           "1 when the outbox figures below were read from the database.");
    out = apr_psprintf(p, "%snotify_outbox_up %d\n", out, o && o->read);
    if (o && o->read) {
        family(p, &out, "notify_outbox_pending", "gauge",
               "Outbox rows waiting for an attempt.");
        out = apr_psprintf(p, "%snotify_outbox_pending %" APR_INT64_T_FMT "\n",
                           out, o->pending);
        family(p, &out, "notify_outbox_sending", "gauge",
               "Outbox rows an attempt has claimed.");
        out = apr_psprintf(p, "%snotify_outbox_sending %" APR_INT64_T_FMT "\n",
                           out, o->sending);
        family(p, &out, "notify_outbox_failed", "gauge",
               "Outbox rows given up on.");
        out = apr_psprintf(p, "%snotify_outbox_failed %" APR_INT64_T_FMT "\n",
                           out, o->failed);
        family(p, &out, "notify_outbox_oldest_pending_age_seconds", "gauge",
               "Age of the oldest pending outbox row (0: none).");
        out = apr_psprintf(p,
                           "%snotify_outbox_oldest_pending_age_seconds %" APR_INT64_T_FMT "\n",
                           out,
                           o->oldest_pending_age < 0 ? 0 : o->oldest_pending_age);
    }
    return out;
}

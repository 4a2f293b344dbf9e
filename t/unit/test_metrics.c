/* The counters of notify-status (notify_metrics.c): what is counted where,
 * the latency buckets, the JSON and Prometheus renderings, and the outbox
 * figures read from a real SQLite database (notify_store.c). */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "notify_delivery.h"
#include "notify_mandrill.h"
#include "notify_metrics.h"
#include "notify_store.h"
#include "notify_twilio.h"
#include "testdb.h"

Suite *metrics_suite(void);

static apr_pool_t *pool;
static notify_metrics block;
/* 2026-11-27T10:00:00Z */
static const apr_time_t NOW = APR_INT64_C(1795773600) * APR_USEC_PER_SEC;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&block, 0, sizeof(block));
    notify_metrics_attach(&block);
}

static void teardown(void)
{
    notify_metrics_attach(NULL);
    apr_pool_destroy(pool);
}

static int slot_of(const notify_provider *prov)
{
    apr_size_t i;

    for (i = 0; i < notify_delivery_provider_count(); i++) {
        if (notify_delivery_provider_at(i) == prov) {
            return (int)i;
        }
    }
    return -1;
}

START_TEST(requests_by_status)
{
    notify_metrics_request(NOTIFY_INVALID_PARAM);
    notify_metrics_request(NOTIFY_INVALID_PARAM);
    notify_metrics_request(NOTIFY_ACTION_SUCCESSFUL);
    notify_metrics_request(NOTIFY_STATUS_COUNT); /* a replay */
    ck_assert_uint_eq(block.requests[NOTIFY_INVALID_PARAM], 2);
    ck_assert_uint_eq(block.requests[NOTIFY_ACTION_SUCCESSFUL], 1);
    ck_assert_uint_eq(block.replayed, 1);
    ck_assert_uint_eq(notify_metrics_requests_total(&block), 4);
    /* Detached: nothing is counted, nothing breaks. */
    notify_metrics_attach(NULL);
    notify_metrics_request(NOTIFY_INVALID_PARAM);
    notify_metrics_attempt(&notify_mandrill_provider, NOTIFY_ATTEMPT_ACCEPTED,
                           1000);
    ck_assert_uint_eq(block.requests[NOTIFY_INVALID_PARAM], 2);
    ck_assert_uint_eq(notify_metrics_attempts_total(&block,
                                                    NOTIFY_OUTCOME_ACCEPTED),
                      0);
}
END_TEST

START_TEST(attempts_and_buckets)
{
    int m = slot_of(&notify_mandrill_provider);
    int t = slot_of(&notify_twilio_provider);
    notify_provider_metrics *pm;

    ck_assert_int_ge(m, 0);
    ck_assert_int_ge(t, 0);
    ck_assert_int_ne(m, t);
    /* 30 ms: the first bucket; exactly 50 ms too (a bound is inclusive);
     * 700 ms: the 1 s one; two minutes: +Inf. */
    notify_metrics_attempt(&notify_mandrill_provider, NOTIFY_ATTEMPT_ACCEPTED,
                           30 * 1000);
    notify_metrics_attempt(&notify_mandrill_provider, NOTIFY_ATTEMPT_ACCEPTED,
                           50 * 1000);
    notify_metrics_attempt(&notify_mandrill_provider,
                           NOTIFY_ATTEMPT_PERMANENT, 700 * 1000);
    notify_metrics_attempt(&notify_mandrill_provider,
                           NOTIFY_ATTEMPT_RETRYABLE,
                           apr_time_from_sec(120));
    notify_metrics_attempt(&notify_twilio_provider, NOTIFY_ATTEMPT_RETRYABLE,
                           -5); /* a clock step: taken as 0 */
    pm = &block.providers[m];
    ck_assert_uint_eq(pm->attempts[NOTIFY_OUTCOME_ACCEPTED], 2);
    ck_assert_uint_eq(pm->attempts[NOTIFY_OUTCOME_REJECTED], 1);
    ck_assert_uint_eq(pm->attempts[NOTIFY_OUTCOME_ERROR], 1);
    ck_assert_uint_eq(pm->buckets[0], 2);
    ck_assert_uint_eq(notify_metrics_bounds_ms[4], 1000);
    ck_assert_uint_eq(pm->buckets[4], 1);
    ck_assert_uint_eq(pm->buckets[NOTIFY_METRICS_BUCKETS], 1);
    ck_assert_uint_eq(pm->latency_us,
                      30000 + 50000 + 700000 + APR_UINT64_C(120000000));
    ck_assert_uint_eq(block.providers[t].attempts[NOTIFY_OUTCOME_ERROR], 1);
    ck_assert_uint_eq(block.providers[t].buckets[0], 1);
    ck_assert_uint_eq(notify_metrics_attempts_total(&block,
                                                    NOTIFY_OUTCOME_ERROR),
                      2);
}
END_TEST

START_TEST(outbox_figures)
{
    notify_outbox_stats o;

    memset(&o, 0, sizeof(o));
    o.oldest_pending_age = -1;
    notify_outbox_stats_add(&o, "pending", 3, "2026-11-27T09:00:00Z", NOW);
    notify_outbox_stats_add(&o, "pending", 1, "2026-11-27 08:00:00+00", NOW);
    notify_outbox_stats_add(&o, "sending", 2, "2026-11-27T09:59:00Z", NOW);
    notify_outbox_stats_add(&o, "failed", 5, NULL, NOW);
    notify_outbox_stats_add(&o, "sent", 9, "2026-11-27T01:00:00Z", NOW);
    notify_outbox_stats_add(&o, NULL, 9, NULL, NOW);
    ck_assert_int_eq(o.pending, 4);
    ck_assert_int_eq(o.sending, 2);
    ck_assert_int_eq(o.failed, 5);
    ck_assert_int_eq(o.oldest_pending_age, 7200);
}
END_TEST

START_TEST(outbox_from_the_database)
{
    notify_db db;
    notify_outbox_stats o;

    testdb_connect(pool, testdb_create(pool, "metrics"), NULL, &db);
    ck_assert_int_eq(notify_store_outbox_stats(&db, pool, NOW, &o),
                     APR_SUCCESS);
    ck_assert_int_eq(o.read, 1);
    ck_assert_int_eq(o.pending + o.sending + o.failed, 0);
    ck_assert_int_eq(o.oldest_pending_age, -1);
    testdb_exec(&db,
                "INSERT INTO notifications (id, \"key\", processed, created_at, "
                "updated_at) VALUES (1, 'a', 0, '2026-11-27T09:00:00Z', "
                "'2026-11-27T09:00:00Z'), (2, 'b', 0, '2026-11-27T09:30:00Z', "
                "'2026-11-27T09:30:00Z'), (3, 'c', 0, '2026-11-27T09:30:00Z', "
                "'2026-11-27T09:30:00Z'), (4, 'd', 1, '2026-11-27T09:30:00Z', "
                "'2026-11-27T09:30:00Z')");
    testdb_exec(&db,
                "INSERT INTO notification_outbox (notification_id, channel, "
                "state, attempts, created_at, updated_at) VALUES "
                "(1, 'email', 'pending', 0, '2026-11-27T09:00:00Z', "
                "'2026-11-27T09:00:00Z'), "
                "(2, 'email', 'pending', 0, '2026-11-27T09:30:00Z', "
                "'2026-11-27T09:30:00Z'), "
                "(3, 'sms', 'failed', 8, '2026-11-27T09:30:00Z', "
                "'2026-11-27T09:30:00Z'), "
                "(4, 'sms', 'sent', 1, '2026-11-27T09:30:00Z', "
                "'2026-11-27T09:30:00Z')");
    ck_assert_int_eq(notify_store_outbox_stats(&db, pool, NOW, &o),
                     APR_SUCCESS);
    ck_assert_int_eq(o.pending, 2);
    ck_assert_int_eq(o.sending, 0);
    ck_assert_int_eq(o.failed, 1);
    ck_assert_int_eq(o.oldest_pending_age, 3600);
    /* A database that cannot be read says so. */
    testdb_exec(&db, "DROP TABLE notification_outbox");
    ck_assert_int_ne(notify_store_outbox_stats(&db, pool, NOW, &o),
                     APR_SUCCESS);
    ck_assert_int_eq(o.read, 0);
}
END_TEST

START_TEST(json_rendering)
{
    notify_outbox_stats o = {1, 2, 0, 1, 3600};
    int m = slot_of(&notify_mandrill_provider);
    json_t *root, *d, *bk;
    json_error_t err;
    const char *text;

    notify_metrics_request(NOTIFY_MISSING_PARAM);
    notify_metrics_attempt(&notify_mandrill_provider, NOTIFY_ATTEMPT_ACCEPTED,
                           200 * 1000);
    text = notify_metrics_json(pool, &block, &o);
    ck_assert_ptr_nonnull(text);
    root = json_loads(text, 0, &err);
    ck_assert_msg(root != NULL, "%s", err.text);
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(root, "requests"),
                                           "missing-param")),
        1);
    ck_assert_int_eq(json_object_size(json_object_get(root, "requests")),
                     NOTIFY_STATUS_COUNT);
    d = json_array_get(json_object_get(root, "deliveries"), (size_t)m);
    ck_assert_str_eq(json_string_value(json_object_get(d, "provider")),
                     "mandrill");
    ck_assert_str_eq(json_string_value(json_object_get(d, "channel")), "email");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "accepted")), 1);
    bk = json_object_get(json_object_get(d, "latency"), "buckets");
    /* cumulative: 0 below 250 ms, 1 from there on */
    ck_assert_int_eq(json_integer_value(json_object_get(bk, "0.100")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(bk, "0.250")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(bk, "+Inf")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(root, "outbox"), "pending")),
                     2);
    ck_assert_int_eq(
        json_integer_value(json_object_get(json_object_get(root, "outbox"),
                                           "oldest_pending_age_seconds")),
        3600);
    json_decref(root);
    /* Not read: outbox null. */
    o.read = 0;
    root = json_loads(notify_metrics_json(pool, &block, &o), 0, &err);
    ck_assert(json_is_null(json_object_get(root, "outbox")));
    json_decref(root);
}
END_TEST

/* The sample line of metric name with labels, or NULL. */
static const char *sample(const char *text, const char *name_labels)
{
    const char *at = text;
    apr_size_t n = strlen(name_labels);

    while ((at = strstr(at, name_labels)) != NULL) {
        if ((at == text || at[-1] == '\n') && at[n] == ' ') {
            return at + n + 1;
        }
        at += n;
    }
    return NULL;
}

START_TEST(prometheus_rendering)
{
    notify_outbox_stats o = {1, 2, 1, 3, 42};
    const char *text, *v;
    char *copy, *line, *last;

    notify_metrics_request(NOTIFY_INVALID_PARAM);
    notify_metrics_request(NOTIFY_INVALID_PARAM);
    notify_metrics_attempt(&notify_twilio_provider, NOTIFY_ATTEMPT_PERMANENT,
                           apr_time_from_sec(3));
    text = notify_metrics_prometheus(pool, &block, &o);
    v = sample(text, "notify_requests_total{status=\"invalid-param\"}");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(atoi(v), 2);
    v = sample(text, "notify_delivery_attempts_total{channel=\"sms\","
                     "provider=\"twilio\",outcome=\"rejected\"}");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(atoi(v), 1);
    v = sample(text, "notify_provider_latency_seconds_bucket{channel=\"sms\","
                     "provider=\"twilio\",le=\"2.500\"}");
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(atoi(v), 0);
    v = sample(text, "notify_provider_latency_seconds_bucket{channel=\"sms\","
                     "provider=\"twilio\",le=\"5.000\"}");
    ck_assert_int_eq(atoi(v), 1);
    v = sample(text, "notify_provider_latency_seconds_sum{channel=\"sms\","
                     "provider=\"twilio\"}");
    ck_assert_str_eq(apr_pstrndup(pool, v, 8), "3.000000");
    ck_assert_int_eq(atoi(sample(text, "notify_outbox_up")), 1);
    ck_assert_int_eq(atoi(sample(text, "notify_outbox_failed")), 3);
    ck_assert_int_eq(
        atoi(sample(text, "notify_outbox_oldest_pending_age_seconds")), 42);
    /* Every line: a comment, or name{labels} value, prefixed notify_. */
    copy = apr_pstrdup(pool, text);
    for (line = apr_strtok(copy, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        ck_assert_msg(strncmp(line, "# HELP notify_", 14) == 0 ||
                          strncmp(line, "# TYPE notify_", 14) == 0 ||
                          (strncmp(line, "notify_", 7) == 0 &&
                           strchr(line, ' ') != NULL),
                      "bad line: %s", line);
    }
    o.read = 0;
    text = notify_metrics_prometheus(pool, &block, &o);
    ck_assert_int_eq(atoi(sample(text, "notify_outbox_up")), 0);
    ck_assert_ptr_null(sample(text, "notify_outbox_pending"));
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, requests_by_status);
    tcase_add_test(tc, attempts_and_buckets);
    tcase_add_test(tc, outbox_figures);
    tcase_add_test(tc, outbox_from_the_database);
    tcase_add_test(tc, json_rendering);
    tcase_add_test(tc, prometheus_rendering);
    suite_add_tcase(s, tc);
    return s;
}

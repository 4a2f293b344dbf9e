/* The outbox's worker (notify_worker.c) on a real SQLite database, with
 * Mandrill played by an HTTP server in a thread of the test. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>
#include <curl/curl.h>

#include "mock_http.h"
#include "notify_create.h"
#include "notify_worker.h"
#include "testdb.h"

Suite *worker_suite(void);

static apr_pool_t *pool;
static notify_db conn;
static mock_http *mock;
static notify_settings cfg;
static notify_worker_env env;
static int down;

static apr_status_t open_db(void *baton, notify_db **db, const char **why)
{
    (void)baton;
    (void)why;
    *db = &conn;
    return APR_SUCCESS;
}

static void close_db(void *baton, notify_db *db)
{
    (void)baton;
    (void)db;
}

static const notify_settings *settings(void *baton, const char *route)
{
    (void)baton;
    (void)route;
    return &cfg;
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    curl_global_init(CURL_GLOBAL_ALL);
    testdb_connect(pool, testdb_create(pool, "worker"), NULL, &conn);
    mock = mock_http_start(pool);
    memset(&cfg, 0, sizeof(cfg));
    cfg.mandrill_key = "md-KEY";
    cfg.mandrill_url = mock_http_url(mock, "/send.json");
    cfg.mandrill_timeout = 5;
    cfg.delivery_attempts = 3;
    cfg.backoff_min = 30;
    cfg.backoff_max = 3600;
    memset(&env, 0, sizeof(env));
    env.db_open = open_db;
    env.db_close = close_db;
    env.http = notify_http_create(pool, 4);
    env.settings = settings;
    env.lock_for = apr_time_from_sec(65);
    env.batch = 8;
    env.down = &down;
    env.routes = "/r";
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *scalar(const char *sql)
{
    return testdb_scalar(&conn, pool, sql);
}

/* An email notification queued for the worker (as a queued create leaves
 * it); returns its id. */
static apr_int64_t queue(const char *key)
{
    notify_values v;
    notify_row row = {0, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    notify_principal who = {0, 0};
    notify_outbox_new ob = {"email", "pending", 0, "2026-11-27T10:00:00Z",
                            NULL,    "/r",      0};

    memset(&v, 0, sizeof(v));
    v.val[NOTIFY_P_KEY] = key;
    v.val[NOTIFY_P_NOTIFICATION_TYPE] = "email";
    v.val[NOTIFY_P_EMAIL_FROM] = "ops@x.co";
    v.val[NOTIFY_P_EMAIL_SUBJECT] = "Hi";
    v.val[NOTIFY_P_EMAIL_TO] = "jane@x.co";
    v.val[NOTIFY_P_PROCESSED] = "0";
    ck_assert_int_eq(
        notify_store_create(&conn, pool, &v, &row, &who, NULL, &ob),
        APR_SUCCESS);
    return row.id;
}

static int pass(void)
{
    int claimed = -1;

    ck_assert_int_eq(notify_worker_run(pool, &env, &claimed), APR_SUCCESS);
    return claimed;
}

/* The next attempt is due now. */
static void due_now(void)
{
    testdb_exec(&conn, "UPDATE notification_outbox SET next_attempt_at = "
                       "'2000-01-01T00:00:00Z' WHERE state = 'pending'");
}

#define SENT "[{\"email\":\"jane@x.co\",\"status\":\"sent\",\"_id\":\"m1\"}]"

START_TEST(sends_the_queue)
{
    queue("a");
    queue("b");
    mock_http_answer(mock, 200, SENT);
    ck_assert_int_eq(pass(), 2);
    ck_assert_int_eq(mock_http_requests(mock), 2);
    ck_assert_str_eq(scalar("SELECT group_concat(state || attempts) FROM "
                            "notification_outbox"),
                     "sent1,sent1");
    ck_assert_str_eq(scalar("SELECT group_concat(processed) FROM "
                            "notifications"),
                     "1,1");
    ck_assert_str_eq(scalar("SELECT group_concat(attempt || status) FROM "
                            "notification_deliveries"),
                     "1sent,1sent");
    ck_assert_msg(
        strstr(mock_http_last_body(mock, pool), "\"attempt\":\"1\"") != NULL,
        "%s", mock_http_last_body(mock, pool));
    /* nothing more is due */
    ck_assert_int_eq(pass(), 0);
    ck_assert_int_eq(mock_http_requests(mock), 2);
}
END_TEST

START_TEST(retries_after_backoff)
{
    queue("a");
    mock_http_answer(mock, 503, "<html>busy</html>");
    ck_assert_int_eq(pass(), 1);
    ck_assert_str_eq(scalar("SELECT state || attempts || (next_attempt_at > "
                            "updated_at) || (last_error LIKE '%503%') FROM "
                            "notification_outbox"),
                     "pending111");
    /* not due before its backoff */
    ck_assert_int_eq(pass(), 0);
    due_now();
    mock_http_answer(mock, 200, SENT);
    ck_assert_int_eq(pass(), 1);
    ck_assert_str_eq(scalar("SELECT state || attempts FROM "
                            "notification_outbox"),
                     "sent2");
    ck_assert_str_eq(scalar("SELECT group_concat(attempt || status) FROM "
                            "notification_deliveries"),
                     "1error,2sent");
    ck_assert_msg(
        strstr(mock_http_last_body(mock, pool), "\"attempt\":\"2\"") != NULL,
        "%s", mock_http_last_body(mock, pool));
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications WHERE "
                            "notification_type = 'system-error'"),
                     "0");
}
END_TEST

START_TEST(gives_up_after_the_last_attempt)
{
    int i;

    queue("a");
    mock_http_answer(mock, 503, "busy");
    for (i = 0; i < 3; i++) {
        due_now();
        ck_assert_int_eq(pass(), 1);
    }
    due_now();
    ck_assert_int_eq(pass(), 0);
    ck_assert_int_eq(mock_http_requests(mock), 3);
    ck_assert_str_eq(scalar("SELECT state || attempts FROM "
                            "notification_outbox"),
                     "failed3");
    ck_assert_str_eq(scalar("SELECT \"key\" || notifyable_type || "
                            "notifyable_id FROM notifications WHERE "
                            "notification_type = 'system-error'"),
                     "delivery-failedNotification1");
}
END_TEST

START_TEST(permanent_failure_at_once)
{
    queue("a");
    mock_http_answer(mock, 200,
                     "[{\"email\":\"jane@x.co\",\"status\":\"rejected\"}]");
    ck_assert_int_eq(pass(), 1);
    due_now();
    ck_assert_int_eq(pass(), 0);
    ck_assert_int_eq(mock_http_requests(mock), 1);
    ck_assert_str_eq(scalar("SELECT state FROM notification_outbox"), "failed");
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications WHERE "
                            "\"key\" = 'delivery-failed'"),
                     "1");
}
END_TEST

/* A row whose lock expired is taken again; if that was its last attempt,
 * whether it was sent is unknown: it fails without a further send. */
START_TEST(interrupted_attempts)
{
    queue("a");
    queue("b");
    testdb_exec(&conn, "UPDATE notification_outbox SET state = 'sending', "
                       "locked_until = '2000-01-01T00:00:00Z', attempts = "
                       "CASE WHEN id = 1 THEN 1 ELSE 3 END");
    mock_http_answer(mock, 200, SENT);
    ck_assert_int_eq(pass(), 2);
    ck_assert_int_eq(mock_http_requests(mock), 1);
    ck_assert_str_eq(scalar("SELECT group_concat(state || attempts) FROM "
                            "notification_outbox ORDER BY id"),
                     "sent2,failed4");
    ck_assert_str_eq(scalar("SELECT email_body LIKE '%interrupted%' FROM "
                            "notifications WHERE \"key\" = "
                            "'delivery-failed'"),
                     "1");
}
END_TEST

/* The settings come from the row's route: a provider no longer
 * configured there is retried (fixing it drains the queue), not lost. */
START_TEST(unconfigured_route_waits)
{
    queue("a");
    cfg.mandrill_key = NULL;
    ck_assert_int_eq(pass(), 1);
    ck_assert_int_eq(mock_http_requests(mock), 0);
    ck_assert_str_eq(scalar("SELECT state || (last_error LIKE '%no provider%')"
                            " FROM notification_outbox"),
                     "pending1");
    cfg.mandrill_key = "md-KEY";
    mock_http_answer(mock, 200, SENT);
    due_now();
    ck_assert_int_eq(pass(), 1);
    ck_assert_str_eq(scalar("SELECT state FROM notification_outbox"), "sent");
}
END_TEST

Suite *worker_suite(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("outbox");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, sends_the_queue);
    tcase_add_test(tc, retries_after_backoff);
    tcase_add_test(tc, gives_up_after_the_last_attempt);
    tcase_add_test(tc, permanent_failure_at_once);
    tcase_add_test(tc, interrupted_attempts);
    tcase_add_test(tc, unconfigured_route_waits);
    suite_add_tcase(s, tc);
    return s;
}

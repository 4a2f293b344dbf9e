/* The whole create path (notify_create.c) on a real SQLite database, with
 * Mandrill played by an HTTP server in a thread of the test. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>

#include "mock_http.h"
#include "notify_create.h"
#include "notify_crypto.h"
#include "testdb.h"

Suite *create_suite(void);

#define TOKEN "app-token-1"

static apr_pool_t *pool;
static notify_db conn;
static mock_http *mock;
static notify_http *http;
static notify_settings cfg;
static notify_env env;
static volatile int held;    /* connections the create holds now */
static volatile int held_at; /* ... when Mandrill got the request */
static volatile apr_time_t last_purge;

static apr_status_t open_db(void *baton, notify_db **db, const char **why)
{
    (void)baton;
    (void)why;
    held++;
    *db = &conn;
    return APR_SUCCESS;
}

static void close_db(void *baton, notify_db *db)
{
    (void)baton;
    (void)db;
    held--;
}

static void on_request(void *baton)
{
    (void)baton;
    held_at = held;
}

static void setup(void)
{
    char sha[65];

    apr_pool_create(&pool, NULL);
    curl_global_init(CURL_GLOBAL_ALL);
    testdb_connect(pool, testdb_create(pool, "create"), NULL, &conn);
    notify_sha256_hex(TOKEN, strlen(TOKEN), sha);
    testdb_exec(&conn, apr_pstrcat(pool,
                                   "INSERT INTO api_applications (name, "
                                   "token_sha256, active, created_at) VALUES "
                                   "('t', '",
                                   sha, "', 1, '2026-01-01T00:00:00Z')", NULL));
    mock = mock_http_start(pool);
    mock_http_on_request(mock, on_request, NULL);
    http = notify_http_create(pool, 4);
    memset(&cfg, 0, sizeof(cfg));
    cfg.route_registry = 1;
    cfg.route_name = "notifications.create";
    cfg.route_cache_seconds = 5;
    cfg.session_max_age = 604800;
    cfg.session_idle_timeout = 259200;
    cfg.session_touch_interval = 60;
    cfg.max_body = 1048576;
    cfg.idempotency_window = 86400;
    cfg.mandrill_key = "md-KEY";
    cfg.mandrill_url = mock_http_url(mock, "/send.json");
    cfg.mandrill_timeout = 5;
    cfg.delivery_attempts = 8;
    cfg.backoff_min = 30;
    cfg.backoff_max = 3600;
    cfg.route = "/api/v1/notifications/create";
    memset(&env, 0, sizeof(env));
    env.db_open = open_db;
    env.db_close = close_db;
    env.http = http;
    env.routes = notify_route_cache_create(pool);
    env.last_purge = &last_purge;
    held = 0;
    held_at = -1;
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* One create through every step, as the handler runs it. */
static notify_answer run(const char *body, const char *idem_key)
{
    notify_create c;

    notify_create_init(&c, pool, &cfg, &env);
    if (notify_create_identify(&c, "server notifications.create")) {
        notify_create_process(&c, NOTIFY_CT_JSON, body, strlen(body), idem_key);
    }
    notify_create_finish(&c);
    ck_assert_int_eq(held, 0);
    return c.answer;
}

static json_t *doc_of(const notify_answer *a)
{
    json_t *doc = json_loadb(a->body, a->len, 0, NULL);

    ck_assert_msg(doc != NULL, "not JSON: %.*s", (int)a->len, a->body);
    return doc;
}

static const char *status_of(json_t *doc)
{
    return json_string_value(json_object_get(doc, "status"));
}

static const char *scalar(const char *sql)
{
    return testdb_scalar(&conn, pool, sql);
}

#define EMAIL                                                                  \
    "{\"token\":\"" TOKEN "\",\"notification_type\":\"email\","                \
    "\"email_from\":\"ops@x.co\",\"email_subject\":\"Hi\","                    \
    "\"email_to\":\"jane@x.co, bob@x.co\",\"view\":\"default-with-proof\"}"

START_TEST(plain_create)
{
    notify_answer a = run("{\"token\":\"" TOKEN "\",\"key\":\"k\","
                          "\"user_id\":123456789012345678901234}",
                          NULL);
    json_t *doc = doc_of(&a), *n;

    ck_assert_int_eq(a.http, 200);
    ck_assert_str_eq(status_of(doc), "action-successful");
    n = json_object_get(json_object_get(doc, "data"), "notification");
    ck_assert_str_eq(json_string_value(json_object_get(n, "user_id")),
                     "123456789012345678901234");
    ck_assert_str_eq(scalar("SELECT user_id FROM notifications"),
                     "123456789012345678901234");
    json_decref(doc);
    ck_assert_int_eq(mock_http_requests(mock), 0);
}
END_TEST

/* A database that cannot answer is a 500, never "invalid-token". */
START_TEST(lookup_failure_is_a_crash)
{
    notify_answer a;
    json_t *doc;

    testdb_exec(&conn, "DROP TABLE sessions");
    a = run("{\"token\":\"not-an-app\"}", NULL);
    doc = doc_of(&a);
    ck_assert_int_eq(a.http, 500);
    ck_assert_str_eq(status_of(doc), "application-crash");
    json_decref(doc);
}
END_TEST

START_TEST(accepted_email)
{
    notify_answer a;
    json_t *doc, *proof;

    mock_http_answer(mock, 200,
                     "[{\"email\":\"jane@x.co\",\"status\":\"sent\","
                     "\"_id\":\"m1\"},{\"email\":\"bob@x.co\","
                     "\"status\":\"queued\",\"_id\":\"m2\"}]");
    a = run(EMAIL, NULL);
    doc = doc_of(&a);
    ck_assert_str_eq(status_of(doc), "action-successful");
    proof = json_object_get(json_object_get(doc, "data"), "proof");
    ck_assert_int_eq(json_array_size(json_object_get(proof, "recipients")), 2);
    ck_assert_str_eq(scalar("SELECT processed FROM notifications"), "1");
    ck_assert_str_eq(scalar("SELECT count(*) FROM notification_deliveries"),
                     "2");
    /* SPEC 11: the outbox row, written with the notification, is sent */
    ck_assert_str_eq(json_string_value(json_object_get(proof, "state")),
                     "sent");
    ck_assert_int_eq(json_integer_value(json_object_get(proof, "attempts")), 1);
    ck_assert(json_is_null(json_object_get(proof, "next_attempt_at")));
    ck_assert_str_eq(scalar("SELECT state || attempts || route FROM "
                            "notification_outbox"),
                     "sent1/api/v1/notifications/create");
    /* No database connection was held while Mandrill took its time. */
    ck_assert_int_eq(held_at, 0);
    ck_assert_msg(strstr(mock_http_last_body(mock, pool),
                         "\"notification_id\":\"1\"") != NULL,
                  "%s", mock_http_last_body(mock, pool));
    json_decref(doc);
}
END_TEST

/* Entries without a status, or not objects: each recipient failed; the
 * answer says so with the stored notification, a repeat replays it, and
 * Mandrill is asked once. */
START_TEST(malformed_answer_is_a_failure)
{
    notify_answer a, again;
    json_t *doc, *data;

    mock_http_answer(mock, 200, "[{\"email\":\"jane@x.co\"},7]");
    a = run(EMAIL, "key-1");
    doc = doc_of(&a);
    ck_assert_int_eq(a.http, 500);
    ck_assert_str_eq(status_of(doc), "mandrill-email-failed");
    data = json_object_get(doc, "data");
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(data, "notification"), "processed")),
                     0);
    ck_assert_ptr_nonnull(json_object_get(data, "proof"));
    ck_assert_str_eq(scalar("SELECT group_concat(status) FROM "
                            "notification_deliveries"),
                     "error,error");
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications WHERE "
                            "notification_type = 'system-error' AND "
                            "\"key\" = 'mandrill-email-failed'"),
                     "1");
    /* retryable: pending again, due after the backoff */
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(data, "proof"), "state")),
                     "pending");
    ck_assert_str_eq(scalar("SELECT state || attempts || (next_attempt_at > "
                            "created_at) || ifnull(last_error, '-') FROM "
                            "notification_outbox"),
                     "pending11Mandrill accepted no recipient");
    again = run(EMAIL, "key-1");
    ck_assert(again.replayed);
    ck_assert_int_eq(again.http, 500);
    ck_assert_int_eq(again.len, a.len);
    ck_assert(memcmp(again.body, a.body, a.len) == 0);
    ck_assert_int_eq(mock_http_requests(mock), 1);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "2");
    json_decref(doc);
}
END_TEST

/* Mandrill accepted, then recording that failed: the answer never says
 * that nothing was stored, and a repeat sends nothing twice. */
START_TEST(unrecorded_delivery)
{
    notify_answer a, again;
    json_t *doc;

    mock_http_answer(mock, 200,
                     "[{\"email\":\"jane@x.co\",\"status\":\"sent\"},"
                     "{\"email\":\"bob@x.co\",\"status\":\"sent\"}]");
    testdb_exec(&conn, "CREATE TRIGGER boom BEFORE INSERT ON "
                       "notification_deliveries BEGIN "
                       "SELECT RAISE(ABORT, 'boom'); END");
    a = run(EMAIL, "key-2");
    doc = doc_of(&a);
    ck_assert_int_eq(a.http, 500);
    ck_assert_str_eq(status_of(doc), "application-crash");
    ck_assert_ptr_null(
        strstr(json_string_value(json_object_get(doc, "message")),
               "nothing was stored"));
    ck_assert_int_eq(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(doc, "data"), "notification"),
            "id")),
        1);
    again = run(EMAIL, "key-2");
    ck_assert(again.replayed);
    ck_assert_int_eq(again.len, a.len);
    ck_assert(memcmp(again.body, a.body, a.len) == 0);
    ck_assert_int_eq(mock_http_requests(mock), 1);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "1");
    json_decref(doc);
}
END_TEST

/* While the first request of a key is delivering, a repeat is told to
 * wait (409): it never gets the provisional answer of a request still
 * alive. The mock's thread plays the second caller as Mandrill is asked
 * (the first request holds no connection then). */
typedef struct {
    apr_pool_t *p;
    notify_answer answer;
} second_caller;

static void repeat_while_delivering(void *baton)
{
    second_caller *s = baton;
    notify_create c;

    notify_create_init(&c, s->p, &cfg, &env);
    notify_create_process(&c, NOTIFY_CT_JSON, EMAIL, strlen(EMAIL), "key-3");
    notify_create_finish(&c);
    s->answer = c.answer;
}

START_TEST(repeat_while_delivering_waits)
{
    second_caller second;
    notify_answer a, again;

    memset(&second, 0, sizeof(second));
    apr_pool_create(&second.p, pool);
    mock_http_answer(mock, 200,
                     "[{\"email\":\"jane@x.co\",\"status\":\"sent\"},"
                     "{\"email\":\"bob@x.co\",\"status\":\"sent\"}]");
    mock_http_on_request(mock, repeat_while_delivering, &second);
    a = run(EMAIL, "key-3");
    ck_assert_int_eq(a.http, 200);
    ck_assert_int_eq(second.answer.http, 409);
    ck_assert_str_eq(second.answer.retry_after, "1");
    /* once the first is done, a repeat replays its answer */
    mock_http_on_request(mock, NULL, NULL);
    again = run(EMAIL, "key-3");
    ck_assert(again.replayed);
    ck_assert_int_eq(again.http, 200);
    ck_assert_int_eq(mock_http_requests(mock), 1);
}
END_TEST

/* Queued: answered at once, the outbox row pending and due, nothing sent
 * by the request. */
START_TEST(queued_create)
{
    notify_answer a;
    json_t *doc, *proof;

    cfg.delivery_queued = 1;
    a = run(EMAIL, NULL);
    doc = doc_of(&a);
    ck_assert_int_eq(a.http, 200);
    proof = json_object_get(json_object_get(doc, "data"), "proof");
    ck_assert_str_eq(json_string_value(json_object_get(proof, "state")),
                     "queued");
    ck_assert_int_eq(json_integer_value(json_object_get(proof, "attempts")), 0);
    ck_assert(json_is_string(json_object_get(proof, "next_attempt_at")));
    ck_assert_int_eq(json_array_size(json_object_get(proof, "recipients")), 0);
    ck_assert_str_eq(scalar("SELECT state || attempts FROM "
                            "notification_outbox"),
                     "pending0");
    ck_assert_int_eq(mock_http_requests(mock), 0);
    json_decref(doc);
}
END_TEST

/* Every recipient rejected: failed at once, the dev team told twice (the
 * failed status, and delivery-failed). */
START_TEST(permanent_failure)
{
    notify_answer a;

    mock_http_answer(mock, 200,
                     "[{\"email\":\"jane@x.co\",\"status\":\"rejected\"},"
                     "{\"email\":\"bob@x.co\",\"status\":\"invalid\"}]");
    a = run(EMAIL, NULL);
    ck_assert_int_eq(a.http, 500);
    ck_assert_str_eq(scalar("SELECT state FROM notification_outbox"), "failed");
    ck_assert_str_eq(scalar("SELECT group_concat(\"key\") FROM notifications "
                            "WHERE notification_type = 'system-error'"),
                     "mandrill-email-failed,delivery-failed");
}
END_TEST

START_TEST(idempotency_answers)
{
    notify_answer a, b;
    json_t *doc;

    a = run("{\"token\":\"" TOKEN "\",\"key\":\"one\"}", "k");
    ck_assert_int_eq(a.http, 200);
    b = run("{\"token\":\"" TOKEN "\",\"key\":\"two\"}", "k");
    doc = doc_of(&b);
    ck_assert_int_eq(b.http, 422);
    ck_assert_str_eq(status_of(doc), "idempotency-key-reused");
    json_decref(doc);
    /* a claim still in flight */
    testdb_exec(&conn, "UPDATE idempotency_keys SET http_status = NULL, "
                       "response_body = NULL");
    b = run("{\"token\":\"" TOKEN "\",\"key\":\"one\"}", "k");
    ck_assert_int_eq(b.http, 409);
    ck_assert_str_eq(b.retry_after, "1");
    b = run("{\"token\":\"" TOKEN "\",\"key\":\"one\"}", "bad key");
    doc = doc_of(&b);
    ck_assert_int_eq(b.http, 400);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "param")),
                     "Idempotency-Key");
    json_decref(doc);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "1");
}
END_TEST

Suite *create_suite(void)
{
    Suite *s = suite_create("create");
    TCase *tc = tcase_create("path");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, plain_create);
    tcase_add_test(tc, lookup_failure_is_a_crash);
    tcase_add_test(tc, accepted_email);
    tcase_add_test(tc, malformed_answer_is_a_failure);
    tcase_add_test(tc, unrecorded_delivery);
    tcase_add_test(tc, repeat_while_delivering_waits);
    tcase_add_test(tc, queued_create);
    tcase_add_test(tc, permanent_failure);
    tcase_add_test(tc, idempotency_answers);
    suite_add_tcase(s, tc);
    return s;
}

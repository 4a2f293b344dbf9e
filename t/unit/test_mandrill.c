/* Mandrill (notify_mandrill.c): the request built from a notification,
 * and every kind of answer read into a proof and a verdict. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "notify_mandrill.h"

Suite *mandrill_suite(void);

static apr_pool_t *pool;
static notify_values v;
static apr_array_header_t *rcpts;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&v, 0, sizeof(v));
    v.val[NOTIFY_P_EMAIL_FROM] = "Ops <ops@x.co>";
    v.val[NOTIFY_P_EMAIL_SUBJECT] = "Hi";
    v.val[NOTIFY_P_EMAIL_TO] = "Jane <jane@x.co>, bob@x.co";
    v.val[NOTIFY_P_EMAIL_BCC] = "audit@x.co";
    v.val[NOTIFY_P_EMAIL_BODY] = "<p>x</p>";
    v.val[NOTIFY_P_PROCESSED] = "0";
    rcpts = notify_mandrill_recipients(pool, &v);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static notify_attempt outcome(long status, const char *body)
{
    notify_http_result res = {status, body, strlen(body), NULL, 0};
    notify_attempt a;

    memset(&a, 0, sizeof(a));
    notify_mandrill_outcome(pool, APR_SUCCESS, &res, rcpts, &a);
    return a;
}

START_TEST(request_body)
{
    apr_size_t len;
    const char *body =
        notify_mandrill_request(pool, "KEY", &v, rcpts, 42, 3, &len);
    json_t *doc = json_loadb(body, len, 0, NULL), *msg;

    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "key")), "KEY");
    msg = json_object_get(doc, "message");
    ck_assert_str_eq(json_string_value(json_object_get(msg, "from_email")),
                     "ops@x.co");
    ck_assert_str_eq(json_string_value(json_object_get(msg, "from_name")),
                     "Ops");
    ck_assert_int_eq(json_array_size(json_object_get(msg, "to")), 3);
    ck_assert_str_eq(
        json_string_value(json_object_get(
            json_array_get(json_object_get(msg, "to"), 2), "type")),
        "bcc");
    /* SPEC 5: every message can be traced back */
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(msg, "metadata"), "notification_id")),
                     "42");
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(msg, "metadata"), "attempt")),
                     "3");
    json_decref(doc);
}
END_TEST

START_TEST(accepted_matched_by_address)
{
    /* entries in another order than sent, one of them queued */
    notify_attempt a = outcome(
        200, "[{\"email\":\"audit@x.co\",\"status\":\"rejected\","
             "\"_id\":\"3\",\"reject_reason\":\"spam\"},"
             "{\"email\":\"BOB@x.co\",\"status\":\"queued\",\"_id\":\"2\"},"
             "{\"email\":\"jane@x.co\",\"status\":\"sent\",\"_id\":\"1\"}]");

    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_ACCEPTED);
    ck_assert_int_eq(a.proof.count, 3);
    ck_assert_str_eq(a.proof.recipients[0].recipient, "jane@x.co");
    ck_assert_str_eq(a.proof.recipients[0].provider_id, "1");
    ck_assert_str_eq(a.proof.recipients[1].status, "queued");
    ck_assert_str_eq(a.proof.recipients[2].type, "bcc");
    ck_assert_str_eq(a.proof.recipients[2].reject_reason, "spam");
    ck_assert_str_eq(a.proof.channel, "email");
}
END_TEST

/* SPEC 9: a 200 whose entries carry no status, or are not objects, is a
 * failure of each recipient: never a NULL status to store. */
START_TEST(malformed_entries_fail_each)
{
    notify_attempt a = outcome(200, "[{\"email\":\"jane@x.co\"},42,"
                                    "\"bob@x.co\",null]");
    int i;

    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(a.proof.count, 3);
    for (i = 0; i < 3; i++) {
        ck_assert_str_eq(a.proof.recipients[i].status, "error");
        ck_assert_ptr_nonnull(a.proof.recipients[i].error);
    }
    ck_assert_ptr_nonnull(a.reason);
    a = outcome(200, "[]");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_str_eq(a.proof.recipients[1].status, "error");
}
END_TEST

START_TEST(verdicts)
{
    notify_http_result down = {0, NULL, 0, "Connection refused", 0};
    notify_attempt a;

    /* every recipient rejected or invalid: a retry changes nothing */
    a = outcome(200, "[{\"email\":\"jane@x.co\",\"status\":\"rejected\"},"
                     "{\"email\":\"bob@x.co\",\"status\":\"invalid\"},"
                     "{\"email\":\"audit@x.co\",\"status\":\"rejected\"}]");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_PERMANENT);
    a = outcome(500, "{\"status\":\"error\",\"name\":\"ValidationError\","
                     "\"message\":\"bad\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_PERMANENT);
    /* fixing the key drains the queue */
    a = outcome(500, "{\"status\":\"error\",\"name\":\"Invalid_Key\","
                     "\"message\":\"Invalid API key\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_msg(strstr(a.reason, "Invalid_Key") != NULL, "%s", a.reason);
    ck_assert_str_eq(a.proof.recipients[2].status, "error");
    a = outcome(503, "<html>busy</html>");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    a = outcome(200, "not json");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    a = outcome(200, "{\"unexpected\":1}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    memset(&a, 0, sizeof(a));
    notify_mandrill_outcome(pool, APR_EGENERAL, &down, rcpts, &a);
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_int_eq(a.proof.count, 3);
    ck_assert_msg(strstr(a.proof.recipients[0].error, "refused") != NULL, "%s",
                  a.proof.recipients[0].error);
}
END_TEST

Suite *mandrill_suite(void)
{
    Suite *s = suite_create("mandrill");
    TCase *tc = tcase_create("answers");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, request_body);
    tcase_add_test(tc, accepted_matched_by_address);
    tcase_add_test(tc, malformed_entries_fail_each);
    tcase_add_test(tc, verdicts);
    suite_add_tcase(s, tc);
    return s;
}

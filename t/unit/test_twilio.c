/* Twilio (notify_twilio.c, notify_twilio_callback.c): the request built
 * from a notification, every kind of answer read into a proof and a
 * verdict, the status callback read as an event and recorded once, and
 * the rules SMS adds to validation (notify_params.c). */
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "notify_decode.h"
#include "notify_form.h"
#include "notify_twilio.h"
#include "testdb.h"

Suite *twilio_suite(void);

static apr_pool_t *pool;
static notify_values v;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&v, 0, sizeof(v));
    v.val[NOTIFY_P_NOTIFICATION_TYPE] = "sms";
    v.val[NOTIFY_P_PHONE_TO] = "+15557654321";
    v.val[NOTIFY_P_EMAIL_BODY] = "On my way & 5 min = 100% sure";
    v.val[NOTIFY_P_PROCESSED] = "0";
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
    notify_twilio_outcome(pool, APR_SUCCESS, &res, "+15557654321", &a);
    return a;
}

START_TEST(request_form)
{
    apr_size_t len;
    const char *body;
    apr_array_header_t *f;

    ck_assert_str_eq(notify_twilio_messages_url(
                         pool, "https://api.twilio.com/2010-04-01/", "AC1"),
                     "https://api.twilio.com/2010-04-01/Accounts/AC1/"
                     "Messages.json");
    /* phone_from absent: the configured sender; no media, no callback */
    body = notify_twilio_request(pool, &v, "+15550001111", NULL, &len);
    ck_assert_str_eq(body, "To=%2B15557654321&From=%2B15550001111&Body=On%20my%"
                           "20way%20%26%205%20min%20%3D%20100%25%20sure");
    ck_assert_uint_eq(len, strlen(body));
    /* round trip through the form parser the callbacks use */
    v.val[NOTIFY_P_PHONE_FROM] = "+15550009999";
    v.val[NOTIFY_P_MEDIA_URL] = "https://x.co/a.jpg?b=1&c=2";
    body = notify_twilio_request(pool, &v, "+15550001111",
                                 "https://n.example/cb", &len);
    f = notify_form_parse(pool, body, len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->nelts, 5);
    ck_assert_str_eq(notify_form_get(f, "From")->value, "+15550009999");
    ck_assert_str_eq(notify_form_get(f, "Body")->value,
                     "On my way & 5 min = 100% sure");
    ck_assert_str_eq(notify_form_get(f, "MediaUrl")->value,
                     "https://x.co/a.jpg?b=1&c=2");
    ck_assert_str_eq(notify_form_get(f, "StatusCallback")->value,
                     "https://n.example/cb");
}
END_TEST

START_TEST(accepted)
{
    notify_attempt a =
        outcome(201, "{\"sid\":\"SM123\",\"status\":\"queued\",\"to\":\"x\"}");

    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_ACCEPTED);
    ck_assert_str_eq(a.proof.channel, "sms");
    ck_assert_str_eq(a.proof.provider, "twilio");
    ck_assert_int_eq(a.proof.count, 1);
    ck_assert_str_eq(a.proof.recipients[0].recipient, "+15557654321");
    ck_assert_str_eq(a.proof.recipients[0].status, "queued");
    ck_assert_str_eq(a.proof.recipients[0].provider_id, "SM123");
    ck_assert_ptr_null(a.proof.recipients[0].error);
    ck_assert_ptr_null(a.reason);
    a = outcome(201, "{\"sid\":\"SM1\",\"status\":\"accepted\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_ACCEPTED);
    a = outcome(201, "{\"sid\":\"SM1\",\"status\":\"sent\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_ACCEPTED);
}
END_TEST

START_TEST(verdicts)
{
    notify_http_result down = {0, NULL, 0, "Connection refused", 0};
    notify_attempt a = outcome(
        400, "{\"code\":21211,\"message\":\"The 'To' number is not valid.\","
             "\"status\":400}");

    /* a 4xx other than 429 is refused the same way again */
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_PERMANENT);
    ck_assert_str_eq(a.reason, "Twilio error (HTTP 400): 21211: The 'To' "
                               "number is not valid.");
    ck_assert_str_eq(a.proof.recipients[0].status, "error");
    ck_assert_str_eq(a.proof.recipients[0].error, a.reason);
    a = outcome(401, "{\"code\":20003,\"message\":\"Authenticate\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_PERMANENT);
    a = outcome(429, "{\"code\":20429,\"message\":\"Too Many Requests\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    a = outcome(500, "{\"code\":20500,\"message\":\"Internal\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    a = outcome(503, "<html>down</html>");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_str_eq(a.reason, "Twilio answered HTTP 503");
    /* 201 that is not an accepted message: retried */
    a = outcome(201, "{\"sid\":\"SM1\",\"status\":\"failed\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_str_eq(a.proof.recipients[0].provider_id, "SM1");
    a = outcome(201, "{\"status\":\"queued\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    a = outcome(201, "[]");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    a = outcome(200, "{\"sid\":\"SM1\",\"status\":\"queued\"}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    /* a code too big for an int, a message that is not a string */
    a = outcome(400, "{\"code\":9223372036854775807,\"message\":7}");
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_PERMANENT);
    ck_assert_str_eq(a.reason, "Twilio error (HTTP 400): "
                               "9223372036854775807: (no message)");
    memset(&a, 0, sizeof(a));
    notify_twilio_outcome(pool, APR_EGENERAL, &down, "+15557654321", &a);
    ck_assert_int_eq(a.verdict, NOTIFY_ATTEMPT_RETRYABLE);
    ck_assert_str_eq(a.reason, "Twilio unreachable: Connection refused");
}
END_TEST

static apr_array_header_t *form(const char *body)
{
    apr_array_header_t *f = notify_form_parse(pool, body, strlen(body));

    ck_assert_ptr_nonnull(f);
    return f;
}

START_TEST(callback_event)
{
    notify_delivery_event e;

    ck_assert_int_eq(
        notify_twilio_event(pool,
                            form("MessageSid=SM1&MessageStatus=delivered&To="
                                 "%2B1555&ErrorCode="),
                            &e),
        1);
    ck_assert_str_eq(e.event, "delivered");
    ck_assert_str_eq(e.provider_id, "SM1");
    ck_assert_ptr_null(e.recipient);
    ck_assert_int_eq(e.occurred_at, 0);
    ck_assert_str_eq(e.status, "delivered");
    ck_assert_str_eq(e.detail, "{\"ErrorCode\":\"\",\"MessageSid\":\"SM1\","
                               "\"MessageStatus\":\"delivered\",\"To\":"
                               "\"+1555\"}");
    ck_assert_int_eq(notify_twilio_event(
                         pool, form("MessageSid=SM1&MessageStatus=read"), &e),
                     1);
    ck_assert_ptr_null(e.status); /* recorded only */
    ck_assert_int_eq(notify_twilio_event(pool, form("MessageStatus=sent"), &e),
                     0);
    ck_assert_int_eq(
        notify_twilio_event(pool, form("MessageSid=SM1&MessageStatus="), &e),
        0);
}
END_TEST

START_TEST(callback_recorded_once)
{
    notify_db db;
    apr_array_header_t *batch =
        apr_array_make(pool, 1, sizeof(notify_delivery_event));
    notify_delivery_event *e = apr_array_push(batch);
    int matched = -1;

    testdb_connect(pool, testdb_create(pool, "twilio"), NULL, &db);
    testdb_exec(&db, "INSERT INTO notifications (id, processed, created_at, "
                     "updated_at) VALUES (1, 1, 'now', 'now')");
    testdb_exec(&db, "INSERT INTO notification_deliveries (notification_id, "
                     "channel, provider, recipient, status, provider_id, "
                     "created_at) VALUES "
                     "(1, 'sms', 'twilio', '+1555', 'queued', 'SM1', 'now')");
    ck_assert_int_eq(notify_twilio_event(
                         pool, form("MessageSid=SM1&MessageStatus=sent"), e),
                     1);
    ck_assert_int_eq(notify_webhook_record(&db, pool, "twilio", batch,
                                           "2026-11-27T10:00:00Z", &matched),
                     APR_SUCCESS);
    ck_assert_int_eq(matched, 1);
    ck_assert_str_eq(testdb_scalar(&db, pool,
                                   "SELECT status FROM notification_deliveries"),
                     "sent");
    /* Twilio calling again, later: the same event, not recorded twice */
    testdb_exec(&db, "UPDATE notification_deliveries SET status = 'x'");
    ck_assert_int_eq(notify_webhook_record(&db, pool, "twilio", batch,
                                           "2026-11-27T10:05:00Z", &matched),
                     APR_SUCCESS);
    ck_assert_str_eq(
        testdb_scalar(&db, pool,
                      "SELECT count(*) || ' ' || min(occurred_at) FROM "
                      "delivery_events"),
        "1 2026-11-27T10:00:00Z");
    ck_assert_str_eq(testdb_scalar(&db, pool,
                                   "SELECT status FROM notification_deliveries"),
                     "x");
    /* a later status is an event of its own */
    ck_assert_int_eq(
        notify_twilio_event(pool, form("MessageSid=SM1&MessageStatus=delivered"),
                            e),
        1);
    ck_assert_int_eq(notify_webhook_record(&db, pool, "twilio", batch,
                                           "2026-11-27T10:06:00Z", &matched),
                     APR_SUCCESS);
    ck_assert_str_eq(testdb_scalar(&db, pool,
                                   "SELECT group_concat(event) FROM "
                                   "(SELECT event FROM delivery_events "
                                   "ORDER BY id)"),
                     "sent,delivered");
    ck_assert_str_eq(testdb_scalar(&db, pool,
                                   "SELECT status FROM notification_deliveries"),
                     "delivered");
}
END_TEST

static notify_status_e validate(const char *json, int from_configured,
                                notify_error *err)
{
    notify_input in;
    notify_values out;
    notify_rules rules = {from_configured};

    memset(err, 0, sizeof(*err));
    ck_assert_int_eq(notify_decode_json(pool, json, strlen(json), &in, err),
                     NOTIFY_ACTION_SUCCESSFUL);
    return notify_validate_for(pool, &in, &rules, &out, err);
}

START_TEST(sms_rules)
{
    notify_error err;
    char *long_text = apr_palloc(pool, 2 * 1601 + 64);
    int i;

    ck_assert_int_eq(validate("{\"notification_type\":\"sms\"}", 0, &err),
                     NOTIFY_MISSING_PARAM);
    ck_assert_str_eq(err.param, "phone_to");
    ck_assert_int_eq(validate("{\"notification_type\":\"sms\",\"phone_to\":"
                              "\"+15551234567\"}",
                              0, &err),
                     NOTIFY_MISSING_PARAM);
    ck_assert_str_eq(err.param, "email_body");
    ck_assert_int_eq(validate("{\"notification_type\":\"sms\",\"phone_to\":"
                              "\"+15551234567\",\"email_body\":\"hi\"}",
                              0, &err),
                     NOTIFY_MISSING_PARAM);
    ck_assert_str_eq(err.param, "phone_from");
    ck_assert_int_eq(validate("{\"notification_type\":\"sms\",\"phone_to\":"
                              "\"+15551234567\",\"email_body\":\"hi\"}",
                              1, &err),
                     NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_int_eq(
        validate("{\"notification_type\":\"sms\",\"processed\":1}", 0, &err),
        NOTIFY_ACTION_SUCCESSFUL);
    /* 1600 characters of two bytes each pass, 1601 do not */
    strcpy(long_text, "{\"notification_type\":\"sms\",\"phone_to\":\"+1555123"
                      "4567\",\"email_body\":\"");
    for (i = 0; i < 1600; i++) {
        strcat(long_text, "\xc3\xa9");
    }
    strcat(long_text, "\"}");
    ck_assert_int_eq(validate(long_text, 1, &err), NOTIFY_ACTION_SUCCESSFUL);
    long_text[strlen(long_text) - 2] = '\0';
    strcat(long_text, "\xc3\xa9x\"}");
    ck_assert_int_eq(validate(long_text, 1, &err), NOTIFY_INVALID_PARAM);
    ck_assert_str_eq(err.param, "email_body");
}
END_TEST

Suite *twilio_suite(void)
{
    Suite *s = suite_create("twilio");
    TCase *tc = tcase_create("sms");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, request_form);
    tcase_add_test(tc, accepted);
    tcase_add_test(tc, verdicts);
    tcase_add_test(tc, callback_event);
    tcase_add_test(tc, callback_recorded_once);
    tcase_add_test(tc, sms_rules);
    suite_add_tcase(s, tc);
    return s;
}

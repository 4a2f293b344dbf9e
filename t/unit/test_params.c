/* Decoding, validation and rendering of the parameter set. */
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "notify_decode.h"
#include "notify_params.h"
#include "notify_render.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* Decodes JSON text and validates it; returns the first failing status. */
static notify_status_e run_json(const char *body, notify_values *v,
                                notify_error *err)
{
    notify_input in;
    notify_status_e st;

    memset(err, 0, sizeof(*err));
    st = notify_decode_json(pool, body, strlen(body), &in, err);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    return notify_validate(pool, &in, v, err);
}

static notify_status_e run_form(const char *body, notify_values *v,
                                notify_error *err)
{
    notify_input in;
    notify_status_e st;

    memset(err, 0, sizeof(*err));
    st = notify_decode_form(pool, body, strlen(body), &in, err);
    if (st != NOTIFY_ACTION_SUCCESSFUL) {
        return st;
    }
    return notify_validate(pool, &in, v, err);
}

#define ck_param(body, status, name)                                           \
    do {                                                                       \
        notify_values v_;                                                      \
        notify_error e_;                                                       \
        ck_assert_int_eq(run_json(body, &v_, &e_), status);                    \
        ck_assert_str_eq(e_.param, name);                                      \
    } while (0)

static char *nested(int levels)
{
    /* {"key": [[[ ... ]]]}: the outer object is level 1. */
    char *s = apr_palloc(pool, 2 * levels + 16);
    int i, n = 0;

    n += sprintf(s, "{\"key\":");
    for (i = 1; i < levels; i++) {
        s[n++] = '[';
    }
    for (i = 1; i < levels; i++) {
        s[n++] = ']';
    }
    strcpy(s + n, "}");
    return s;
}

START_TEST(json_success_normalises)
{
    notify_values v;
    notify_error e;

    ck_assert_int_eq(run_json("{\"token\":\"t\",\"user_id\":42,"
                              "\"notifyable_type\":\"Order\","
                              "\"notifyable_id\":\"7\",\"processed\":true,"
                              "\"processed_at\":\"2026-11-27 10:00:00+01:00\","
                              "\"key\":null,\"status\":\"\"}",
                              &v, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_str_eq(v.val[NOTIFY_P_USER_ID], "42");
    ck_assert_str_eq(v.val[NOTIFY_P_NOTIFYABLE_ID], "7");
    ck_assert_str_eq(v.val[NOTIFY_P_PROCESSED], "1");
    ck_assert_str_eq(v.val[NOTIFY_P_PROCESSED_AT], "2026-11-27T09:00:00Z");
    ck_assert_ptr_null(v.val[NOTIFY_P_KEY]);
    ck_assert_ptr_null(v.val[NOTIFY_P_STATUS]);
}
END_TEST

/* SPEC 9: an id sent as a JSON number of any size keeps its exact
 * decimal text; jansson alone would refuse it or round it. */
START_TEST(json_big_ids_exact)
{
    notify_values v;
    notify_error e;

    ck_assert_int_eq(run_json("{\"token\":\"t\",\"user_id\":"
                              "12345678901234567890,\"olio_id\": "
                              "-99999999999999999999999 ,\"tour_id\":7,"
                              "\"client_id\":"
                              "340282366920938463463374607431768211457,"
                              "\"key\":\"n:1,\\\"x\\\":2\"}",
                              &v, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_str_eq(v.val[NOTIFY_P_USER_ID], "12345678901234567890");
    ck_assert_str_eq(v.val[NOTIFY_P_OLIO_ID], "-99999999999999999999999");
    ck_assert_str_eq(v.val[NOTIFY_P_TOUR_ID], "7");
    ck_assert_str_eq(v.val[NOTIFY_P_CLIENT_ID],
                     "340282366920938463463374607431768211457");
    ck_assert_str_eq(v.val[NOTIFY_P_KEY], "n:1,\"x\":2");
    /* The rules for numbers hold beyond 64 bits too. */
    ck_param("{\"user_id\":123456789012345678901.5}", NOTIFY_INVALID_PARAM,
             "user_id");
    ck_param("{\"user_id\":123456789012345678901e2}", NOTIFY_INVALID_PARAM,
             "user_id");
    ck_param("{\"processed\":99999999999999999999}", NOTIFY_INVALID_PARAM,
             "processed");
    ck_param("{\"key\":99999999999999999999}", NOTIFY_INVALID_PARAM, "key");
    ck_param("{\"user_id\":99999999999999999999,"
             "\"user_id\":1}",
             NOTIFY_INVALID_PARAM, "user_id");
}
END_TEST

START_TEST(json_structure_errors)
{
    notify_values v;
    notify_error e;

    ck_assert_int_eq(run_json("{\"token\":", &v, &e),
                     NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_json("[1]", &v, &e), NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_json("\"x\"", &v, &e), NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_json("{\"key\":\"\xff\"}", &v, &e),
                     NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_json("{\"key\":\"\\ud800\"}", &v, &e),
                     NOTIFY_INVALID_ENCODED_PARAMS);
    /* 32 levels decode (then the array is refused as a value). */
    ck_assert_int_eq(run_json(nested(32), &v, &e), NOTIFY_INVALID_PARAM);
    ck_assert_int_eq(run_json(nested(33), &v, &e),
                     NOTIFY_INVALID_ENCODED_PARAMS);
}
END_TEST

START_TEST(json_value_errors)
{
    ck_param("{\"key\":\"a\\u0000b\"}", NOTIFY_INVALID_PARAM, "key");
    ck_param("{\"key\":\"a\",\"key\":\"b\"}", NOTIFY_INVALID_PARAM, "key");
    ck_param("{\"key\":1}", NOTIFY_INVALID_PARAM, "key");
    ck_param("{\"user_id\":1.5}", NOTIFY_INVALID_PARAM, "user_id");
    ck_param("{\"user_id\":1e3}", NOTIFY_INVALID_PARAM, "user_id");
    ck_param("{\"notifyable_id\":0,\"notifyable_type\":\"O\"}",
             NOTIFY_INVALID_PARAM, "notifyable_id");
    ck_param("{\"notifyable_id\":9223372036854775808,"
             "\"notifyable_type\":\"O\"}",
             NOTIFY_INVALID_PARAM, "notifyable_id");
    ck_param("{\"notifyable_id\":\"9223372036854775808\"}",
             NOTIFY_INVALID_PARAM, "notifyable_id");
    ck_param("{\"processed\":2}", NOTIFY_INVALID_PARAM, "processed");
    ck_param("{\"processed\":\"true\"}", NOTIFY_INVALID_PARAM, "processed");
    ck_param("{\"view\":\"x\"}", NOTIFY_INVALID_PARAM, "view");
    ck_param("{\"status\":\"a\\nb\"}", NOTIFY_INVALID_PARAM, "status");
    ck_param("{\"id\":1}", NOTIFY_INVALID_PARAM, "id");
    ck_param("{\"extension\":{}}", NOTIFY_INVALID_PARAM, "extension");
}
END_TEST

START_TEST(string_length_boundary)
{
    char *ok = apr_psprintf(pool, "{\"key\":\"%s\"}",
                            apr_pstrndup(pool,
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                         255));
    char *bad = apr_pstrdup(pool, ok);
    notify_values v;
    notify_error e;

    ck_assert_int_eq(run_json(ok, &v, &e), NOTIFY_ACTION_SUCCESSFUL);
    bad[strlen(bad) - 2] = '\0';
    bad = apr_pstrcat(pool, bad, "xx\"}", NULL);
    ck_param(bad, NOTIFY_INVALID_PARAM, "key");
}
END_TEST

START_TEST(ranking)
{
    /* Table order, whatever the body order. */
    ck_param("{\"phone_to\":\"1\",\"email_to\":\"bob@\"}", NOTIFY_INVALID_PARAM,
             "email_to");
    /* Unknown names come after every table parameter. */
    ck_param("{\"bogus\":1,\"extension\":[]}", NOTIFY_INVALID_PARAM,
             "extension");
    ck_param("{\"bogus\":1,\"other\":2}", NOTIFY_INVALID_PARAM, "bogus");
    /* Rules tying fields together come after the fields' own checks. */
    ck_param("{\"notification_type\":\"email\",\"media_url\":\"ftp://x\"}",
             NOTIFY_INVALID_PARAM, "media_url");
    ck_param("{\"notification_type\":\"email\",\"email_to\":\"a@b.co\"}",
             NOTIFY_MISSING_PARAM, "email_from");
    ck_param("{\"notification_type\":\"email\",\"email_from\":\"a@b.co\"}",
             NOTIFY_MISSING_PARAM, "email_subject");
    ck_param("{\"notification_type\":\"email\",\"email_from\":\"a@b.co\","
             "\"email_subject\":\"s\"}",
             NOTIFY_MISSING_PARAM, "email_to");
    ck_param("{\"notifyable_type\":\"Order\"}", NOTIFY_MISSING_PARAM,
             "notifyable_id");
    ck_param("{\"notifyable_id\":3}", NOTIFY_MISSING_PARAM, "notifyable_type");
}
END_TEST

START_TEST(email_processed_needs_nothing)
{
    notify_values v;
    notify_error e;

    ck_assert_int_eq(run_json("{\"notification_type\":\"email\","
                              "\"processed\":1}",
                              &v, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
}
END_TEST

START_TEST(token_rules)
{
    notify_input in;
    notify_error e;
    const char *tok;
    apr_size_t len;

    notify_decode_json(pool, "{\"key\":\"k\"}", 11, &in, &e);
    ck_assert_int_eq(notify_input_token(&in, &tok, &len, &e),
                     NOTIFY_MISSING_PARAM);
    notify_decode_json(pool, "{\"token\":\"\"}", 12, &in, &e);
    ck_assert_int_eq(notify_input_token(&in, &tok, &len, &e),
                     NOTIFY_MISSING_PARAM);
    notify_decode_json(pool, "{\"token\":5}", 11, &in, &e);
    ck_assert_int_eq(notify_input_token(&in, &tok, &len, &e),
                     NOTIFY_INVALID_PARAM);
    ck_assert_str_eq(e.param, "token");
    notify_decode_json(pool, "{\"token\":\"abc\"}", 15, &in, &e);
    ck_assert_int_eq(notify_input_token(&in, &tok, &len, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_str_eq(tok, "abc");
}
END_TEST

START_TEST(form_decoding)
{
    notify_values v;
    notify_error e;
    notify_input in;

    ck_assert_int_eq(run_form("token=t&key=a+b%2Bc&email_to=a%40b.co", &v, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_str_eq(v.val[NOTIFY_P_KEY], "a b+c");
    ck_assert_str_eq(v.val[NOTIFY_P_EMAIL_TO], "a@b.co");
    ck_assert_int_eq(run_form("key=%ff", &v, &e),
                     NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_form("key=%zz", &v, &e),
                     NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_form("=x", &v, &e), NOTIFY_INVALID_ENCODED_PARAMS);
    ck_assert_int_eq(run_form("key=a&key=b", &v, &e), NOTIFY_INVALID_PARAM);
    ck_assert_str_eq(e.param, "key");
    ck_assert_int_eq(run_form("key=a%00b", &v, &e), NOTIFY_INVALID_PARAM);
    ck_assert_int_eq(notify_decode_form(pool, "&&", 2, &in, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_int_eq(in.count, 0);
}
END_TEST

START_TEST(render_views)
{
    notify_values v;
    notify_error e;
    notify_row row = {7, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    apr_size_t len;
    const char *out;
    json_t *doc, *n;

    ck_assert_int_eq(run_json("{\"token\":\"t\",\"notifyable_type\":\"O\","
                              "\"notifyable_id\":9,\"created_at_fm\":"
                              "\"2026-01-01T00:00:00Z\"}",
                              &v, &e),
                     NOTIFY_ACTION_SUCCESSFUL);
    out = notify_render_notification(pool, NOTIFY_ACTION_SUCCESSFUL, NULL, &v,
                                     &row, NULL, &len);
    doc = json_loadb(out, len, 0, NULL);
    n = json_object_get(json_object_get(doc, "data"), "notification");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "status")),
                     "action-successful");
    ck_assert_int_eq(json_integer_value(json_object_get(n, "id")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(n, "notifyable_id")),
                     9);
    ck_assert(json_is_integer(json_object_get(n, "processed")));
    ck_assert_ptr_null(json_object_get(n, "created_at_fm"));
    ck_assert_ptr_null(json_object_get(n, "token"));
    ck_assert_ptr_null(json_object_get(n, "view"));
    ck_assert(json_is_null(json_object_get(n, "key")));
    ck_assert_ptr_null(json_object_get(json_object_get(doc, "data"), "proof"));
    json_decref(doc);

    v.view = NOTIFY_VIEW_INTERNAL;
    out = notify_render_notification(pool, NOTIFY_ACTION_SUCCESSFUL, NULL, &v,
                                     &row, NULL, &len);
    doc = json_loadb(out, len, 0, NULL);
    n = json_object_get(json_object_get(doc, "data"), "notification");
    ck_assert_str_eq(json_string_value(json_object_get(n, "created_at_fm")),
                     "2026-01-01T00:00:00Z");
    json_decref(doc);

    v.view = NOTIFY_VIEW_WITH_PROOF;
    out = notify_render_notification(pool, NOTIFY_ACTION_SUCCESSFUL, NULL, &v,
                                     &row, NULL, &len);
    doc = json_loadb(out, len, 0, NULL);
    ck_assert(
        json_is_null(json_object_get(json_object_get(doc, "data"), "proof")));
    json_decref(doc);
}
END_TEST

START_TEST(render_error)
{
    notify_error e = {NOTIFY_INVALID_PARAM, "email_to", "email_to: bad"};
    apr_size_t len;
    const char *out = notify_render_error(pool, &e, &len);

    ck_assert_str_eq(out, "{\"status\":\"invalid-param\",\"message\":"
                          "\"email_to: bad\",\"param\":\"email_to\"}");
}
END_TEST

Suite *params_suite(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, json_success_normalises);
    tcase_add_test(tc, json_big_ids_exact);
    tcase_add_test(tc, json_structure_errors);
    tcase_add_test(tc, json_value_errors);
    tcase_add_test(tc, string_length_boundary);
    tcase_add_test(tc, ranking);
    tcase_add_test(tc, email_processed_needs_nothing);
    tcase_add_test(tc, token_rules);
    tcase_add_test(tc, form_decoding);
    tcase_add_test(tc, render_views);
    tcase_add_test(tc, render_error);
    suite_add_tcase(s, tc);
    return s;
}

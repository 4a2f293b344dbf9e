/* The answers' JSON writer (notify_json_out.c): the text jansson's
 * compact dump gives, for every byte a string may hold, at any size. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>
#include <jansson.h>

#include "notify_json_out.h"

Suite *json_out_suite(void);

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* What jansson's JSON_COMPACT dump makes of the string s. */
static char *jansson_text(const char *s)
{
    json_t *j = json_string(s);
    char *out, *copy;

    ck_assert_ptr_nonnull(j);
    out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    copy = apr_pstrdup(pool, out);
    free(out);
    json_decref(j);
    return copy;
}

static const char *one_string(const char *s)
{
    notify_json_out w;
    apr_size_t len;
    const char *text;

    notify_json_out_init(&w, pool, 4);
    notify_json_out_string(&w, s);
    text = notify_json_out_text(&w, &len);
    ck_assert_uint_eq(len, strlen(text));
    return text;
}

START_TEST(shape_as_jansson_writes_it)
{
    notify_json_out w;
    apr_size_t len;
    const char *text;

    notify_json_out_init(&w, pool, 8);
    notify_json_out_object(&w);
    notify_json_out_key(&w, "status");
    notify_json_out_string(&w, "ok");
    notify_json_out_key(&w, "data");
    notify_json_out_object(&w);
    notify_json_out_key(&w, "id");
    notify_json_out_int(&w, -9223372036854775807LL - 1);
    notify_json_out_key(&w, "none");
    notify_json_out_null(&w);
    notify_json_out_key(&w, "empty");
    notify_json_out_array(&w);
    notify_json_out_end_array(&w);
    notify_json_out_key(&w, "list");
    notify_json_out_array(&w);
    notify_json_out_object(&w);
    notify_json_out_key(&w, "a");
    notify_json_out_int(&w, 1);
    notify_json_out_end_object(&w);
    notify_json_out_object(&w);
    notify_json_out_end_object(&w);
    notify_json_out_string(&w, NULL);
    notify_json_out_int(&w, 9223372036854775807LL);
    notify_json_out_end_array(&w);
    notify_json_out_end_object(&w);
    notify_json_out_key(&w, "last");
    notify_json_out_string(&w, "");
    notify_json_out_end_object(&w);
    text = notify_json_out_text(&w, &len);
    ck_assert_str_eq(text, "{\"status\":\"ok\",\"data\":{\"id\":"
                           "-9223372036854775808,\"none\":null,\"empty\":[],"
                           "\"list\":[{\"a\":1},{},null,9223372036854775807]},"
                           "\"last\":\"\"}");
    ck_assert_uint_eq(len, strlen(text));
}
END_TEST

/* Every byte from 1 to 127, alone and among others: the same text as
 * jansson's. */
START_TEST(every_ascii_byte_as_jansson)
{
    char s[4];
    int c;

    for (c = 1; c < 128; c++) {
        s[0] = (char)c;
        s[1] = '\0';
        ck_assert_str_eq(one_string(s), jansson_text(s));
        s[0] = 'a';
        s[1] = (char)c;
        s[2] = 'z';
        s[3] = '\0';
        ck_assert_str_eq(one_string(s), jansson_text(s));
    }
    ck_assert_str_eq(one_string("\"\\\b\f\n\r\t\x01\x1f/"),
                     "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F/\"");
}
END_TEST

START_TEST(utf8_as_is)
{
    const char *s = "é € \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF";

    ck_assert_str_eq(one_string(s), jansson_text(s));
}
END_TEST

/* What is not UTF-8 becomes U+FFFD, byte by byte, and stays valid JSON:
 * a lone continuation, an overlong, a surrogate, above U+10FFFF, a
 * sequence cut short at the end. */
START_TEST(broken_utf8_replaced)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\x80z", "\"a\xEF\xBF\xBDz\""},
        {"\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"\xED\xA0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"\xF4\x90\x80\x80",
         "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"ok\xE2\x82", "\"ok\xEF\xBF\xBD\xEF\xBF\xBD\""},
        {"\xFF", "\"\xEF\xBF\xBD\""},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *text = one_string(cases[i].in);
        json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
        ck_assert_str_eq(text, cases[i].out);
        ck_assert_msg(j != NULL, "case %d: not JSON", (int)i);
        json_decref(j);
    }
}
END_TEST

/* Far past the size hinted: grows in the pool, nothing lost. */
START_TEST(grows_past_the_hint)
{
    char *big = apr_palloc(pool, 100001);
    notify_json_out w;
    apr_size_t len;
    const char *text;
    json_t *j;
    int i;

    for (i = 0; i < 100000; i++) {
        big[i] = "ab\"\n"[i % 4];
    }
    big[100000] = '\0';
    notify_json_out_init(&w, pool, 16);
    notify_json_out_array(&w);
    for (i = 0; i < 3; i++) {
        notify_json_out_string(&w, big);
    }
    notify_json_out_end_array(&w);
    text = notify_json_out_text(&w, &len);
    j = json_loadb(text, len, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(json_array_size(j), 3);
    ck_assert_str_eq(json_string_value(json_array_get(j, 2)), big);
    json_decref(j);
}
END_TEST

Suite *json_out_suite(void)
{
    Suite *s = suite_create("json_out");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, shape_as_jansson_writes_it);
    tcase_add_test(tc, every_ascii_byte_as_jansson);
    tcase_add_test(tc, utf8_as_is);
    tcase_add_test(tc, broken_utf8_replaced);
    tcase_add_test(tc, grows_past_the_hint);
    suite_add_tcase(s, tc);
    return s;
}

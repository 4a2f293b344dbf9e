/* Unit tests for the format checks (notify_utf8.c, notify_email.c,
 * notify_phone.c, notify_url.c, notify_datetime.c, notify_content_type.c,
 * notify_crypto.c): good and bad cases of every check,
 * with the boundaries the parameter table relies on. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>

#include "notify_content_type.h"
#include "notify_crypto.h"
#include "notify_datetime.h"
#include "notify_email.h"
#include "notify_phone.h"
#include "notify_url.h"
#include "notify_utf8.h"

Suite *validate_suite(void);

/* A byte string that may hold NUL bytes. */
typedef struct {
    const char *s;
    apr_size_t len;
} bytes_t;

/* clang-format off */
#define B(lit) {lit, sizeof(lit) - 1}
/* clang-format on */
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static apr_pool_t *pool;

static void pool_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&pool, NULL), APR_SUCCESS);
}

static void pool_teardown(void)
{
    apr_pool_destroy(pool);
}

static apr_status_t free_cleanup(void *buf)
{
    free(buf);
    return APR_SUCCESS;
}

/* A malloc'd copy of s[0..len) with no NUL after it, freed with the pool:
 * under valgrind, a read past the length the callee was given is an error. */
static const char *exact(const char *s, apr_size_t len)
{
    char *buf = malloc(len > 0 ? len : 1);

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, s, len);
    apr_pool_cleanup_register(pool, buf, free_cleanup, apr_pool_cleanup_null);
    return buf;
}

/* Both arguments of a (s, len) check, the string being an exact copy. */
#define EXACT(s, len) exact((s), (len)), (len)
#define EXACT_STR(s) EXACT((s), strlen(s))

static char *repeat(char c, apr_size_t n)
{
    char *s = apr_palloc(pool, n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

static const bytes_t utf8_good[] = {
    B(""),
    B("plain ASCII"),
    B("a\0b"),             /* NUL is checked elsewhere */
    B("\xc3\xa9"),         /* U+00E9 */
    B("\xe2\x82\xac"),     /* U+20AC */
    B("\xf0\x9f\x98\x80"), /* U+1F600 */
    B("\xc2\x80"),         /* smallest 2-byte */
    B("\xe0\xa0\x80"),     /* smallest 3-byte */
    B("\xed\x9f\xbf"),     /* U+D7FF, below the surrogates */
    B("\xee\x80\x80"),     /* U+E000, above them */
    B("\xf0\x90\x80\x80"), /* smallest 4-byte */
    B("\xf4\x8f\xbf\xbf"), /* U+10FFFF */
};

static const bytes_t utf8_bad[] = {
    B("\x80"), /* lone continuation bytes */
    B("\xbf"),
    B("\xff"), /* never in UTF-8 */
    B("\xfe"),
    B("\xc0\xaf"), /* overlong 2-byte */
    B("\xc1\xbf"),
    B("\xe0\x80\xaf"), /* overlong 3-byte */
    B("\xe0\x9f\xbf"),
    B("\xf0\x8f\xbf\xbf"), /* overlong 4-byte */
    B("\xed\xa0\x80"),     /* U+D800 */
    B("\xed\xbf\xbf"),     /* U+DFFF */
    B("\xf4\x90\x80\x80"), /* U+110000 */
    B("\xf5\x80\x80\x80"), /* above U+10FFFF */
    B("\xc3"),             /* truncated */
    B("\xe2\x82"),
    B("\xf0\x9f\x98"),
    B("ok\xc3"),
    B("\xc3\x41"), /* bad continuation */
    B("\xe2\x28\xa1"),
    B("\xf0\x9f\x98\x41"),
};

START_TEST(test_utf8_good)
{
    ck_assert_msg(notify_utf8_valid(EXACT(utf8_good[_i].s, utf8_good[_i].len)),
                  "utf8_good[%d] rejected", _i);
}
END_TEST

/* The length argument ends the string even when a continuation byte
 * follows in memory. */
START_TEST(test_utf8_explicit_length)
{
    ck_assert(notify_utf8_valid(EXACT("\xe2\x82\xac", 3)));
    ck_assert(!notify_utf8_valid(EXACT("\xe2\x82\xac", 2)));
    ck_assert(!notify_utf8_valid(EXACT("\xf0\x9f\x98\x80", 3)));
    ck_assert(notify_utf8_valid(EXACT("\xc3\xa9\xff", 2)));
}
END_TEST

START_TEST(test_utf8_bad)
{
    ck_assert_msg(!notify_utf8_valid(EXACT(utf8_bad[_i].s, utf8_bad[_i].len)),
                  "utf8_bad[%d] accepted", _i);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Email addresses                                                     */
/* ------------------------------------------------------------------ */

static const char *const email_good[] = {
    "a@b.c",
    "Jane Doe <jane@example.com>",
    "\"Jane Doe\" <jane@example.com>",
    "Jane<jane@example.com>",
    "  a@b.c\t ",
    " Jane Doe  <jane@example.com>  ",
    "first.last+tag@sub.example.co.uk",
    "!#$%&'*+-/=?^_`{|}~@example.com",
    "a@b-c.d",
    "a@1.2",
    "UPPER@EXAMPLE.COM",
    "Dr. J. Doe (HQ) <j@example.com>",
    "Jos\xc3\xa9 <jose@example.com>",
    "\"Jane \\\"JD\\\" Doe\" <j@example.com>",
    "\"a <b> c\" <j@example.com>",
};

static const bytes_t email_bad[] = {
    B(""),
    B("   "),
    B("bob@"),
    B("@b.c"),
    B("a@b"),
    B("ab.c"),
    B("a@@b.c"),
    B("a@.b.c"),
    B("a@b.c."),
    B("a@b..c"),
    B("a..b@c.d"),
    B(".a@b.c"),
    B("a.@b.c"),
    B("a@-b.c"),
    B("a@b-.c"),
    B("a@b_c.d"),
    B("a b@c.d"),
    B("a\"b@c.d"),
    B("a@b.c,d@e.f"),
    B("a(x)@b.c"),
    B("a@[1.2.3.4]"),
    B("\"Doe, Jane\" <j@example.com>"),
    B("Doe, Jane <j@example.com>"),
    B("<a@b.c>"),
    B("  <a@b.c>"),
    B("\"\" <a@b.c>"),
    B("\" \t\" <a@b.c>"),
    B("Jane <a@b.c"),
    B("Jane a@b.c>"),
    B("Jane <a@b.c> x"),
    B("Jane <<a@b.c>"),
    B("Jane <a@b.c>>"),
    B("Ja<ne <a@b.c>"),
    B("Ja>ne <a@b.c>"),
    B("Ja\"ne <a@b.c>"),
    B("Jane < a@b.c >"),
    B("Jane <>"),
    B("Jane Doe jane@example.com"),
    B("Jane\r\n <a@b.c>"),
    B("\"Jane\r\n\" <a@b.c>"),
    B("Jane\x01 <a@b.c>"),
    B("\"Jane <a@b.c>"),
    B("\"Ja\"ne\" <a@b.c>"),
    B("\"Jane\\\" <a@b.c>"),
    B("\"Jane\\\r\" <a@b.c>"),
    B("Jane \xff <a@b.c>"),
    B("a@b.c\0"),
    B("a\0@b.c"),
    B("Jane <a@b.c>\0"),
    B("a@b.\xc3\xa9"),
};

START_TEST(test_email_good)
{
    const char *s = email_good[_i];

    ck_assert_msg(notify_email_valid(EXACT_STR(s)), "rejected '%s'", s);
}
END_TEST

START_TEST(test_email_bad)
{
    const bytes_t *b = &email_bad[_i];

    ck_assert_msg(!notify_email_valid(EXACT(b->s, b->len)),
                  "accepted [%d] '%s'", _i, b->s);
}
END_TEST

START_TEST(test_email_local_length)
{
    const char *ok = apr_pstrcat(pool, repeat('a', 64), "@b.c", NULL);
    const char *bad = apr_pstrcat(pool, repeat('a', 65), "@b.c", NULL);

    ck_assert(notify_email_valid(EXACT_STR(ok)));
    ck_assert(!notify_email_valid(EXACT_STR(bad)));
}
END_TEST

START_TEST(test_email_label_length)
{
    const char *ok = apr_pstrcat(pool, "a@", repeat('b', 63), ".com", NULL);
    const char *bad = apr_pstrcat(pool, "a@", repeat('b', 64), ".com", NULL);

    ck_assert(notify_email_valid(EXACT_STR(ok)));
    ck_assert(!notify_email_valid(EXACT_STR(bad)));
}
END_TEST

/* 64 + 1 + 63 + 1 + 63 + 1 + 61 = 254 bytes, the largest address. */
START_TEST(test_email_total_length)
{
    const char *head = apr_pstrcat(pool, repeat('a', 64), "@", repeat('b', 63),
                                   ".", repeat('c', 63), ".", NULL);
    const char *ok = apr_pstrcat(pool, head, repeat('d', 61), NULL);
    const char *bad = apr_pstrcat(pool, head, repeat('d', 62), NULL);
    const char *named = apr_pstrcat(pool, "Jane <", ok, ">", NULL);

    ck_assert_uint_eq(strlen(ok), 254);
    ck_assert(notify_email_valid(EXACT_STR(ok)));
    ck_assert(notify_email_valid(EXACT_STR(named)));
    ck_assert(!notify_email_valid(EXACT_STR(bad)));
}
END_TEST

/* The length argument is the truth, not a NUL. */
START_TEST(test_email_explicit_length)
{
    ck_assert(notify_email_valid(EXACT("a@b.cd,junk", 6)));
    ck_assert(!notify_email_valid(EXACT("a@b.cd", 4)));
}
END_TEST

static void assert_split(const char *s, const char *name, const char *addr)
{
    const char *got_name = "unset", *got_addr = "unset";

    ck_assert_int_eq(
        notify_email_split(pool, EXACT_STR(s), &got_name, &got_addr),
        APR_SUCCESS);
    ck_assert_pstr_eq(got_name, name);
    ck_assert_str_eq(got_addr, addr);
}

START_TEST(test_email_split)
{
    assert_split("a@b.c", NULL, "a@b.c");
    assert_split("  a@b.c  ", NULL, "a@b.c");
    assert_split("Jane Doe <jane@example.com>", "Jane Doe", "jane@example.com");
    assert_split("  Jane \t<j@x.io>  ", "Jane", "j@x.io");
    assert_split("\"  Doe \\\"JD\\\" Jane \" <j@example.com>",
                 "Doe \"JD\" Jane", "j@example.com");
    assert_split("\"a\\\\b\"<j@x.io>", "a\\b", "j@x.io");
}
END_TEST

START_TEST(test_email_split_invalid)
{
    const char *name = "unset", *addr = "unset";

    ck_assert_int_eq(notify_email_split(pool, EXACT_STR("bob@"), &name, &addr),
                     APR_EINVAL);
    ck_assert_str_eq(name, "unset");
    ck_assert_str_eq(addr, "unset");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Email lists                                                         */
/* ------------------------------------------------------------------ */

static const char *const email_list_good[] = {
    "a@b.c",
    "a@b.c,d@e.f",
    "a@b.c, d@e.f",
    " a@b.c ,\td@e.f ",
    "Jane <j@x.io>, \"Bob B\" <b@x.io>, c@d.ef",
};

static const char *const email_list_bad[] = {
    "",
    " ",
    ",",
    "a@b.c,",
    "a@b.c, ",
    ",a@b.c",
    "a@b.c,,d@e.f",
    "a@b.c, ,d@e.f",
    "a@b.c, bob@",
    "\"Doe, Jane\" <j@x.io>",
    "a@b.c;d@e.f",
    "a@b.c d@e.f",
};

START_TEST(test_email_list_good)
{
    const char *s = email_list_good[_i];

    ck_assert_msg(notify_email_list_valid(EXACT_STR(s)), "rejected '%s'", s);
}
END_TEST

START_TEST(test_email_list_bad)
{
    const char *s = email_list_bad[_i];

    ck_assert_msg(!notify_email_list_valid(EXACT_STR(s)), "accepted '%s'", s);
}
END_TEST

typedef struct {
    char seen[256];
    int calls;
    int stop_at;
} collect_t;

static int collect(void *baton, const char *entry, apr_size_t len)
{
    collect_t *c = baton;
    apr_size_t used = strlen(c->seen);

    apr_snprintf(c->seen + used, sizeof(c->seen) - used, "[%.*s]", (int)len,
                 entry);
    return ++c->calls == c->stop_at ? 42 : 0;
}

START_TEST(test_email_list_each)
{
    const char *list = "Jane <j@x.io> ,b@c.de,\tc@d.ef ";
    collect_t all = {"", 0, 0}, two = {"", 0, 2};

    ck_assert_int_eq(notify_email_list_each(EXACT_STR(list), collect, &all), 0);
    ck_assert_str_eq(all.seen, "[Jane <j@x.io>][b@c.de][c@d.ef]");
    ck_assert_int_eq(all.calls, 3);
    ck_assert_int_eq(notify_email_list_each(EXACT_STR(list), collect, &two),
                     42);
    ck_assert_str_eq(two.seen, "[Jane <j@x.io>][b@c.de]");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Phone numbers                                                       */
/* ------------------------------------------------------------------ */

static const char *const phone_good[] = {
    "1234567",          "+1234567",      "123456789012345",
    "+123456789012345", "0041791234567",
};

static const bytes_t phone_bad[] = {
    B(""),
    B("+"),
    B("123456"),
    B("+123456"),
    B("1234567890123456"),
    B("+1234567890123456"),
    B("++1234567"),
    B("123-4567"),
    B("1234567+"),
    B(" 1234567"),
    B("1234567 "),
    B("123456a"),
    B("(123) 4567"),
    B("1234567\0"),
    B("\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7"), /* Arabic */
};

START_TEST(test_phone_good)
{
    const char *s = phone_good[_i];

    ck_assert_msg(notify_phone_valid(EXACT_STR(s)), "rejected '%s'", s);
}
END_TEST

START_TEST(test_phone_explicit_length)
{
    ck_assert(notify_phone_valid(EXACT("1234567", 7)));
    ck_assert(!notify_phone_valid(EXACT("1234567", 6)));
    ck_assert(notify_phone_valid(EXACT("1234567x", 7)));
}
END_TEST

START_TEST(test_phone_bad)
{
    const bytes_t *b = &phone_bad[_i];

    ck_assert_msg(!notify_phone_valid(EXACT(b->s, b->len)),
                  "accepted [%d] '%s'", _i, b->s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* URLs                                                                */
/* ------------------------------------------------------------------ */

static const char *const url_good[] = {
    "http://example.com",
    "https://example.com/a/b?c=d&e=f#g",
    "HTTPS://EXAMPLE.COM/",
    "Http://example.com:8080/x",
    "http://example.com:65535/",
    "http://example.com:/",
    "http://[::1]/x",
    "http://user:pw@example.com/",
    "https://cdn.example.com/img%20one.jpg?x=%C3%A9",
};

static const bytes_t url_bad[] = {
    B(""),
    B("example.com"),
    B("/relative/path"),
    B("//example.com/x"),
    B("ftp://example.com/"),
    B("javascript:alert(1)"),
    B("mailto:a@b.c"),
    B("http://"),
    B("http:///path"),
    B("http:example.com"),
    B("http://:80/"),
    B("http://exa mple.com"),
    B("http://example.com/a b"),
    B("http://example.com/\t"),
    B("http://example.com/\r\nX: y"),
    B("http://example.com/\x7f"),
    B("http://example.com/\xc3\xa9"),
    B("http://example.com/<script>"),
    B("http://example.com/\"x\""),
    B("http://example.com/%zz"),
    B("http://example.com/%4"),
    B("http://example.com/%"),
    B("http://example.com:0/"),
    B("http://example.com:65536/"),
    B("http://example.com:123456/"),
    B("http://example.com:+80/"),
    B("http://example.com:8o/"),
    B("http://example.com:4294967376/"), /* 2^32 + 80 */
    B("http://[::1/"),
    B("http://example.com/\0x"),
};

START_TEST(test_url_good)
{
    const char *s = url_good[_i];

    ck_assert_msg(notify_url_valid(pool, EXACT_STR(s)), "rejected '%s'", s);
}
END_TEST

START_TEST(test_url_explicit_length)
{
    const char *url = "http://example.com/%41";

    ck_assert(notify_url_valid(pool, EXACT_STR(url)));
    ck_assert(!notify_url_valid(pool, EXACT(url, strlen(url) - 1)));
    ck_assert(notify_url_valid(pool, EXACT("http://a.io/<", 12)));
}
END_TEST

START_TEST(test_url_bad)
{
    const bytes_t *b = &url_bad[_i];

    ck_assert_msg(!notify_url_valid(pool, EXACT(b->s, b->len)),
                  "accepted [%d] '%s'", _i, b->s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Datetimes                                                           */
/* ------------------------------------------------------------------ */

static const struct {
    const char *in;
    const char *out;
} dt_good[] = {
    {"2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"},
    {"2026-11-27t10:00:00z", "2026-11-27T10:00:00Z"},
    {"2026-11-27T10:00:00", "2026-11-27T10:00:00Z"},
    {"2026-11-27 10:00:00", "2026-11-27T10:00:00Z"},
    {"2026-11-27 10:00:00Z", "2026-11-27T10:00:00Z"},
    {"2026-11-27 10:00:00z", "2026-11-27T10:00:00Z"},
    {"2026-11-27 10:00:00+01:00", "2026-11-27T09:00:00Z"},
    {"2026-11-27T10:00:00.123456Z", "2026-11-27T10:00:00Z"},
    {"2026-11-27T10:00:59.999999999", "2026-11-27T10:00:59Z"},
    {"2026-11-27T10:00:00.5+01:00", "2026-11-27T09:00:00Z"},
    {"2026-11-27T10:00:00-00:00", "2026-11-27T10:00:00Z"},
    {"2026-11-27T10:00:00+05:30", "2026-11-27T04:30:00Z"},
    {"2026-11-27T10:00:00+23:59", "2026-11-26T10:01:00Z"},
    {"2026-11-27T10:00:00-23:59", "2026-11-28T09:59:00Z"},
    {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"},
    {"2025-12-31T23:30:00-01:00", "2026-01-01T00:30:00Z"},
    {"2026-03-31T23:00:00-02:00", "2026-04-01T01:00:00Z"},
    {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},
    {"2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"},
    {"2023-03-01T00:30:00+01:00", "2023-02-28T23:30:00Z"},
    {"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
    {"1900-03-01T00:30:00+01:00", "1900-02-28T23:30:00Z"},
    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
    {"0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z"},
    {"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
    {"9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59Z"},
};

static const bytes_t dt_bad[] = {
    B(""),
    B("2026-11-27"),
    B("2026-11-27T10:00Z"),
    B("10:00:00"),
    B("2026-02-29T00:00:00Z"),
    B("2026-02-30T00:00:00Z"),
    B("1900-02-29T00:00:00Z"),
    B("2026-04-31T00:00:00Z"),
    B("2026-13-01T00:00:00Z"),
    B("2026-00-10T00:00:00Z"),
    B("2026-01-00T00:00:00Z"),
    B("2026-01-32T00:00:00Z"),
    B("0000-01-01T00:00:00Z"),
    B("2026-01-01T24:00:00Z"),
    B("2026-01-01T23:60:00Z"),
    B("2026-12-31T23:59:60Z"),
    B("2026-12-31 23:59:60"),
    B("2026-01-01T00:00:00+24:00"),
    B("2026-01-01T00:00:00+01:60"),
    B("2026-01-01T00:00:00+01"),
    B("2026-01-01T00:00:00+0100"),
    B("2026-01-01T00:00:00+1:00"),
    B("2026-01-01T00:00:00 +01:00"),
    B("2026-01-01T00:00:00.Z"),
    B("2026-01-01T00:00:00."),
    B("2026-01-01T00:00:00,5Z"),
    B("26-01-01T00:00:00Z"),
    B("20260-01-01T00:00:00Z"),
    B("2026-1-01T00:00:00Z"),
    B("2026-01-1T00:00:00Z"),
    B("2026-01-01T0:00:00Z"),
    B("2026/01/01T00:00:00Z"),
    B("2026-01-01X00:00:00Z"),
    B("2026-01-01T00:00:00Z "),
    B(" 2026-01-01T00:00:00Z"),
    B("2026-01-01T00:00:00ZZ"),
    B("2026-01-01T00:00:00Z+01:00"),
    B("2026-01-01T00:00:00+01:00:00"),
    B("+2026-01-01T00:00:00Z"),
    B("2026-01-01T00:00:00\0"),
    B("2026-01-01T00:00:0\0Z"),
    B("0000-12-31T23:00:00-01:00"), /* year 0 even though UTC is 0001 */
    B("0001-01-01T00:30:00+01:00"), /* UTC before year 1 */
    B("9999-12-31T23:30:00-01:00"), /* UTC after 9999 */
};

START_TEST(test_datetime_good)
{
    char out[NOTIFY_DATETIME_LEN + 1] = "";
    const char *in = dt_good[_i].in;

    ck_assert_msg(notify_datetime_parse(EXACT_STR(in), out), "rejected '%s'",
                  in);
    ck_assert_str_eq(out, dt_good[_i].out);
}
END_TEST

START_TEST(test_datetime_explicit_length)
{
    const char *dt = "2026-11-27T10:00:00+01:00";
    char out[NOTIFY_DATETIME_LEN + 1] = "";

    ck_assert(notify_datetime_parse(EXACT(dt, 19), out));
    ck_assert_str_eq(out, "2026-11-27T10:00:00Z");
    ck_assert(!notify_datetime_parse(EXACT(dt, 18), out));
    ck_assert(!notify_datetime_parse(EXACT("2026-11-27T10:00:00.5Z", 20), out));
}
END_TEST

START_TEST(test_datetime_bad)
{
    char out[NOTIFY_DATETIME_LEN + 1] = "";
    const bytes_t *b = &dt_bad[_i];

    ck_assert_msg(!notify_datetime_parse(EXACT(b->s, b->len), out),
                  "accepted [%d] '%s'", _i, b->s);
}
END_TEST

#define T_2026_11_27_10 APR_INT64_C(1795773600) /* date -u +%s */

static const struct {
    const char *in;
    apr_int64_t secs;
} to_time_good[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"2026-11-27T10:00:00Z", T_2026_11_27_10},
    {"2026-11-27 10:00:00+00", T_2026_11_27_10},
    {"2026-11-27 11:00:00+01", T_2026_11_27_10},
    {"2026-11-27 10:00:00.654321+00", T_2026_11_27_10},
    {"2026-11-27 15:30:00+05:30", T_2026_11_27_10},
    {"2026-11-27 05:00:00-05", T_2026_11_27_10},
    {"0001-01-01T00:00:00Z", APR_INT64_C(-62135596800)},
    {"9999-12-31T23:59:59Z", APR_INT64_C(253402300799)},
};

static const char *const to_time_bad[] = {
    "",
    "2026-02-30 10:00:00+00",
    "2026-11-27 10:00:00+0",
    "2026-11-27 10:00:00+24",
    "2026-11-27 10:00:00+01:",
    "2026-11-27",
    "2026-11-27 10:00:60+00",
};

START_TEST(test_to_time_good)
{
    apr_time_t t = -1;
    const char *in = to_time_good[_i].in;

    ck_assert_msg(notify_datetime_to_time(EXACT_STR(in), &t), "rejected '%s'",
                  in);
    ck_assert_int_eq(t, apr_time_from_sec(to_time_good[_i].secs));
}
END_TEST

START_TEST(test_to_time_bad)
{
    apr_time_t t = 0;
    const char *in = to_time_bad[_i];

    ck_assert_msg(!notify_datetime_to_time(EXACT_STR(in), &t), "accepted '%s'",
                  in);
}
END_TEST

static const struct {
    apr_time_t t;
    const char *out;
} format_cases[] = {
    {0, "1970-01-01T00:00:00Z"},
    {APR_TIME_C(1795773600999999), "2026-11-27T10:00:00Z"},
    {-1, "1969-12-31T23:59:59Z"}, /* floor, not towards 0 */
    {APR_TIME_C(-1000000), "1969-12-31T23:59:59Z"},
    {APR_TIME_C(-1000001), "1969-12-31T23:59:58Z"},
    {APR_TIME_C(-62135596800000000), "0001-01-01T00:00:00Z"},
    {APR_TIME_C(-62135596800000001), "0001-01-01T00:00:00Z"}, /* clamp */
    {APR_TIME_C(253402300799999999), "9999-12-31T23:59:59Z"},
    {APR_TIME_C(253402300800000000), "9999-12-31T23:59:59Z"}, /* clamp */
    {APR_INT64_MAX, "9999-12-31T23:59:59Z"},
    {APR_INT64_MIN, "0001-01-01T00:00:00Z"},
};

START_TEST(test_datetime_format)
{
    char out[NOTIFY_DATETIME_LEN + 1] = "";

    notify_datetime_format(format_cases[_i].t, out);
    ck_assert_str_eq(out, format_cases[_i].out);
}
END_TEST

/* 1 when secs formats as the C library's gmtime (the independent oracle)
 * says, into want, and parses back to itself. */
static int round_trips(apr_int64_t secs, char want[32])
{
    time_t tt = (time_t)secs;
    struct tm tm;
    char got[NOTIFY_DATETIME_LEN + 1];
    apr_time_t back = 0;

    if (gmtime_r(&tt, &tm) == NULL) {
        return 0;
    }
    apr_snprintf(want, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    notify_datetime_format(apr_time_from_sec(secs), got);
    return strcmp(got, want) == 0 &&
           notify_datetime_to_time(got, strlen(got), &back) &&
           back == apr_time_from_sec(secs);
}

/* The first second of from, from + step, ... up to to that does not round
 * trip, or to + 1. One ck_assert per range: check records every passed
 * assertion, which is slow by the hundred thousand. */
static apr_int64_t first_failure(apr_int64_t from, apr_int64_t to,
                                 apr_int64_t step, char want[32])
{
    for (; from <= to; from += step) {
        if (!round_trips(from, want)) {
            return from;
        }
    }
    return to + 1;
}

/* Coarse steps over the whole range (the step is no whole number of days,
 * so the time of day varies), its last second, then every day of
 * 1896..2104 (the step adds a second a day). */
START_TEST(test_datetime_round_trip)
{
    const apr_int64_t min = APR_INT64_C(-62135596800);
    const apr_int64_t max = APR_INT64_C(253402300799);
    const apr_int64_t y1896 = APR_INT64_C(-2335219200);
    const apr_int64_t y2105 = APR_INT64_C(4260211200);
    char want[32] = "";

    ck_assert_msg(first_failure(min, max, 15778463, want) > max,
                  "wrong around %s", want);
    ck_assert_msg(round_trips(max, want), "wrong at %s", want);
    ck_assert_msg(first_failure(y1896, y2105 - 1, 86400 + 1, want) >= y2105,
                  "wrong around %s", want);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Content-Type                                                        */
/* ------------------------------------------------------------------ */

static const struct {
    const char *value;
    notify_ctype_e type;
} ctype_good[] = {
    {"application/json", NOTIFY_CT_JSON},
    {"Application/JSON; charset=UTF-8", NOTIFY_CT_JSON},
    {"application/json;charset=\"utf8\"", NOTIFY_CT_JSON},
    {"application/json; CHARSET=Utf8", NOTIFY_CT_JSON},
    {"  application/json  ", NOTIFY_CT_JSON},
    {"application/json ; charset = utf-8 ", NOTIFY_CT_JSON},
    {"application/json;", NOTIFY_CT_JSON},
    {"application/json;;charset=utf-8", NOTIFY_CT_JSON},
    {"application/json; foo=\"a;b\\\"c\"; charset=utf8", NOTIFY_CT_JSON},
    {"application/x-www-form-urlencoded", NOTIFY_CT_FORM},
    {"application/x-www-form-urlencoded; charset=utf-8; foo=bar",
     NOTIFY_CT_FORM},
    {"APPLICATION/X-WWW-FORM-URLENCODED", NOTIFY_CT_FORM},
};

static const char *const ctype_bad[] = {
    "",
    "   ",
    "application/json; charset=latin1",
    "text/plain",
    "application/jsonx",
    "application/json-patch+json",
    "application/",
    "/json",
    "application",
    "application / json",
    "multipart/form-data",
    "application/json, text/plain",
    "application/json charset=utf-8",
    "application/json; charset=utf-8; charset=latin1",
    "application/json; charset=\"utf-16\"",
    "application/json; charset=",
    "application/json; charset",
    "application/json; =utf-8",
    "application/json; foo=\"unterminated",
    "application/json; foo=\"a\\",
    "application/json; charset=\"utf-8",
    "application/json; charset=utf-8x",
    "application/json; charset=utf 8",
    "application/json\r\n",
};

START_TEST(test_ctype_good)
{
    ck_assert_int_eq(notify_content_type_parse(ctype_good[_i].value),
                     ctype_good[_i].type);
}
END_TEST

START_TEST(test_ctype_bad)
{
    ck_assert_msg(notify_content_type_parse(ctype_bad[_i]) == NOTIFY_CT_INVALID,
                  "accepted '%s'", ctype_bad[_i]);
}
END_TEST

START_TEST(test_ctype_null)
{
    ck_assert_int_eq(notify_content_type_parse(NULL), NOTIFY_CT_INVALID);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Base64 and SHA-256                                                  */
/* ------------------------------------------------------------------ */

static const struct {
    bytes_t in;
    bytes_t out;
} b64_good[] = {
    {B(""), B("")},
    {B(" \r\n"), B("")},
    {B("YWJj"), B("abc")},
    {B("YWI="), B("ab")},
    {B("YWI"), B("ab")},
    {B("YQ=="), B("a")},
    {B("YQ"), B("a")},
    {B("YWJj\r\nZGVm"), B("abcdef")},
    {B("YWJj\r\nZGVm\r\nZw==\r\n"), B("abcdefg")},
    {B(" YW Jj\tZA= =\n"), B("abcd")},
    {B("/+/+"), B("\xff\xef\xfe")},
    {B("AAEC"), B("\0\1\2")},
};

static const bytes_t b64_bad[] = {
    B("Y"),      B("YWJjZ"), B("YWJjZ==="), B("Y==="),     B("YWJj="),
    B("YWJj=="), B("YQ="),   B("YQ==="),    B("YWI=="),    B("="),
    B("=="),     B("YW=J"),  B("YQ==YQ=="), B("YWJj===="), B("YWJ-"),
    B("YWJ_"),   B("YWJj!"), B("YW\0J"),    B("YWJj\0"),   B("\xc3\xa9"),
    B("YW%4A"),
};

START_TEST(test_base64_good)
{
    char *out = NULL;
    apr_size_t outlen = 12345;

    ck_assert_msg(
        notify_base64_decode(
            pool, EXACT(b64_good[_i].in.s, b64_good[_i].in.len), &out, &outlen),
        "rejected [%d] '%s'", _i, b64_good[_i].in.s);
    ck_assert_uint_eq(outlen, b64_good[_i].out.len);
    ck_assert_mem_eq(out, b64_good[_i].out.s, outlen);
    ck_assert_int_eq(out[outlen], '\0');
}
END_TEST

START_TEST(test_base64_bad)
{
    char *out = NULL;
    apr_size_t outlen = 0;

    ck_assert_msg(!notify_base64_decode(pool,
                                        EXACT(b64_bad[_i].s, b64_bad[_i].len),
                                        &out, &outlen),
                  "accepted [%d] '%s'", _i, b64_bad[_i].s);
}
END_TEST

static const struct {
    bytes_t in;
    const char *hex;
} sha_cases[] = {
    {B("abc"),
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {B(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {B("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {B("a\0b"),
     "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138"},
};

START_TEST(test_sha256)
{
    char out[65];

    memset(out, 'x', sizeof(out));
    notify_sha256_hex(EXACT(sha_cases[_i].in.s, sha_cases[_i].in.len), out);
    ck_assert_str_eq(out, sha_cases[_i].hex);
}
END_TEST

/* The same digests with the implementation fetched once (as child_init
 * does). */
START_TEST(test_sha256_fetched)
{
    char out[65];

    notify_sha256_init();
    memset(out, 'x', sizeof(out));
    notify_sha256_hex(EXACT(sha_cases[_i].in.s, sha_cases[_i].in.len), out);
    ck_assert_str_eq(out, sha_cases[_i].hex);
}
END_TEST

/* ------------------------------------------------------------------ */

static TCase *tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, pool_setup, pool_teardown);
    suite_add_tcase(s, tc);
    return tc;
}

#define LOOP(tc, fn, table) tcase_add_loop_test(tc, fn, 0, COUNT(table))

Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc;

    tc = tcase(s, "utf8");
    LOOP(tc, test_utf8_good, utf8_good);
    LOOP(tc, test_utf8_bad, utf8_bad);
    tcase_add_test(tc, test_utf8_explicit_length);

    tc = tcase(s, "email");
    LOOP(tc, test_email_good, email_good);
    LOOP(tc, test_email_bad, email_bad);
    tcase_add_test(tc, test_email_local_length);
    tcase_add_test(tc, test_email_label_length);
    tcase_add_test(tc, test_email_total_length);
    tcase_add_test(tc, test_email_explicit_length);
    tcase_add_test(tc, test_email_split);
    tcase_add_test(tc, test_email_split_invalid);

    tc = tcase(s, "email_list");
    LOOP(tc, test_email_list_good, email_list_good);
    LOOP(tc, test_email_list_bad, email_list_bad);
    tcase_add_test(tc, test_email_list_each);

    tc = tcase(s, "phone");
    LOOP(tc, test_phone_good, phone_good);
    LOOP(tc, test_phone_bad, phone_bad);
    tcase_add_test(tc, test_phone_explicit_length);

    tc = tcase(s, "url");
    LOOP(tc, test_url_good, url_good);
    LOOP(tc, test_url_bad, url_bad);
    tcase_add_test(tc, test_url_explicit_length);

    tc = tcase(s, "datetime");
    LOOP(tc, test_datetime_good, dt_good);
    LOOP(tc, test_datetime_bad, dt_bad);
    tcase_add_test(tc, test_datetime_explicit_length);
    LOOP(tc, test_to_time_good, to_time_good);
    LOOP(tc, test_to_time_bad, to_time_bad);
    LOOP(tc, test_datetime_format, format_cases);
    tcase_add_test(tc, test_datetime_round_trip);

    tc = tcase(s, "content_type");
    LOOP(tc, test_ctype_good, ctype_good);
    LOOP(tc, test_ctype_bad, ctype_bad);
    tcase_add_test(tc, test_ctype_null);

    tc = tcase(s, "base64");
    LOOP(tc, test_base64_good, b64_good);
    LOOP(tc, test_base64_bad, b64_bad);

    tc = tcase(s, "sha256");
    LOOP(tc, test_sha256, sha_cases);
    LOOP(tc, test_sha256_fetched, sha_cases);

    return s;
}

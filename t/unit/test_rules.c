/* The create path's rules that need no database: session policy
 * (notify_session.c), Idempotency-Key judgement (notify_idem.c) and the
 * route cache (notify_route_cache.c). */
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "notify_datetime.h"
#include "notify_idem.h"
#include "notify_outbox.h"
#include "notify_route_cache.h"
#include "notify_session.h"

Suite *rules_suite(void);

static apr_pool_t *pool;
/* 2026-11-27T10:00:00Z */
static const apr_time_t NOW = APR_INT64_C(1795773600) * APR_USEC_PER_SEC;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *ago(apr_int64_t secs)
{
    char *out = apr_palloc(pool, NOTIFY_DATETIME_LEN + 1);

    notify_datetime_format(NOW - apr_time_from_sec(secs), out);
    return out;
}

static notify_session_verdict check(apr_int64_t age, apr_int64_t idle,
                                    int remember, int role)
{
    notify_session_row s = {1, 1, ago(age), ago(idle), remember, role};
    notify_session_policy pol = {3600, 600, 60};

    return notify_session_check(&s, NOW, &pol);
}

START_TEST(session_policy)
{
    notify_session_row s = {1, 1, NULL, NULL, 0, 1};
    notify_session_policy always = {3600, 600, 0};

    /* limits are strict: equal is still fresh */
    ck_assert_int_eq(check(3600, 0, 0, 1).status, NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_int_eq(check(3601, 0, 0, 1).status, NOTIFY_SESSION_EXPIRED);
    ck_assert_int_eq(check(0, 600, 0, 1).status, NOTIFY_ACTION_SUCCESSFUL);
    ck_assert_int_eq(check(0, 601, 0, 1).status, NOTIFY_SESSION_EXPIRED);
    /* remember_me outlives both */
    ck_assert_int_eq(check(99999, 99999, 1, 1).status,
                     NOTIFY_ACTION_SUCCESSFUL);
    /* expiry is judged before the role */
    ck_assert_int_eq(check(3601, 0, 0, 0).status, NOTIFY_SESSION_EXPIRED);
    ck_assert_int_eq(check(0, 0, 0, 0).status, NOTIFY_CLIENT_REQUIRED);
    /* touch: only when older than the interval, or always with 0 */
    ck_assert_int_eq(check(0, 60, 0, 1).touch, 0);
    ck_assert_int_eq(check(0, 61, 0, 1).touch, 1);
    s.created_at = ago(0);
    s.last_used_at = ago(0);
    ck_assert_int_eq(notify_session_check(&s, NOW, &always).touch, 1);
    /* an unreadable time proves nothing fresh */
    s.created_at = "yesterday";
    ck_assert_int_eq(notify_session_check(&s, NOW, &always).status,
                     NOTIFY_SESSION_EXPIRED);
}
END_TEST

START_TEST(idem_key_form)
{
    char long_key[257];

    ck_assert(notify_idem_key_valid("a"));
    ck_assert(notify_idem_key_valid("!~order-42/retry"));
    ck_assert(!notify_idem_key_valid(""));
    ck_assert(!notify_idem_key_valid("with space"));
    ck_assert(!notify_idem_key_valid("tab\there"));
    ck_assert(!notify_idem_key_valid("caf\xc3\xa9"));
    memset(long_key, 'k', 255);
    long_key[255] = '\0';
    ck_assert(notify_idem_key_valid(long_key));
    long_key[255] = 'k';
    long_key[256] = '\0';
    ck_assert(!notify_idem_key_valid(long_key));
}
END_TEST

static notify_idem_verdict_e judge_kept(apr_int64_t age, int http,
                                        const char *body, const char *sha)
{
    notify_idem_row row = {1, "sha-a", http, body, body ? 2 : 0, ago(age)};
    notify_idem_policy pol = {86400, 70};

    return notify_idem_judge(&row, sha, NOW, &pol);
}

static notify_idem_verdict_e judge(apr_int64_t age, int http, const char *sha)
{
    notify_idem_row row = {1, "sha-a", http, http ? "{}" : NULL, 0, ago(age)};
    notify_idem_policy pol = {86400, 70};

    return notify_idem_judge(&row, sha, NOW, &pol);
}

START_TEST(idem_judgement)
{
    ck_assert_int_eq(judge(5, 200, "sha-a"), NOTIFY_IDEM_REPLAY);
    ck_assert_int_eq(judge(5, 500, "sha-a"), NOTIFY_IDEM_REPLAY);
    ck_assert_int_eq(judge(5, 200, "sha-b"), NOTIFY_IDEM_REUSED);
    ck_assert_int_eq(judge(5, 0, "sha-a"), NOTIFY_IDEM_IN_PROGRESS);
    ck_assert_int_eq(judge(5, 0, "sha-b"), NOTIFY_IDEM_REUSED);
    /* a claim that never kept an answer is given up after a while */
    ck_assert_int_eq(judge(70, 0, "sha-a"), NOTIFY_IDEM_IN_PROGRESS);
    ck_assert_int_eq(judge(71, 0, "sha-a"), NOTIFY_IDEM_TAKE_OVER);
    /* an answered one only after the window, whatever the body */
    ck_assert_int_eq(judge(86400, 200, "sha-a"), NOTIFY_IDEM_REPLAY);
    ck_assert_int_eq(judge(86401, 200, "sha-a"), NOTIFY_IDEM_TAKE_OVER);
    ck_assert_int_eq(judge(86401, 200, "sha-b"), NOTIFY_IDEM_TAKE_OVER);
    /* a provisional answer (no code): the request is still delivering,
     * until it cannot be any more; never taken over before the window */
    ck_assert_int_eq(judge_kept(5, 0, "{}", "sha-a"), NOTIFY_IDEM_IN_PROGRESS);
    ck_assert_int_eq(judge_kept(70, 0, "{}", "sha-a"), NOTIFY_IDEM_IN_PROGRESS);
    ck_assert_int_eq(judge_kept(71, 0, "{}", "sha-a"), NOTIFY_IDEM_REPLAY);
    ck_assert_int_eq(judge_kept(71, 0, "{}", "sha-b"), NOTIFY_IDEM_REUSED);
    ck_assert_int_eq(judge_kept(86401, 0, "{}", "sha-a"),
                     NOTIFY_IDEM_TAKE_OVER);
}
END_TEST

START_TEST(idem_purge_pace)
{
    volatile apr_time_t last = 0;
    apr_interval_time_t minute = apr_time_from_sec(60);

    ck_assert(notify_idem_purge_due(&last, NOW, minute));
    ck_assert(!notify_idem_purge_due(&last, NOW + minute - 1, minute));
    ck_assert(notify_idem_purge_due(&last, NOW + minute, minute));
}
END_TEST

START_TEST(outbox_backoff)
{
    notify_retry_policy pol = {3, 30, 100};
    notify_outbox_step st;

    /* min x 2^(n-1), capped, +/-20% */
    ck_assert(notify_outbox_backoff(&pol, 1, 2147483648u) ==
              apr_time_from_sec(30));
    ck_assert(notify_outbox_backoff(&pol, 2, 2147483648u) ==
              apr_time_from_sec(60));
    ck_assert(notify_outbox_backoff(&pol, 3, 2147483648u) ==
              apr_time_from_sec(100));
    ck_assert(notify_outbox_backoff(&pol, 60, 2147483648u) ==
              apr_time_from_sec(100));
    ck_assert(notify_outbox_backoff(&pol, 1, 0) == apr_time_from_sec(24));
    ck_assert(notify_outbox_backoff(&pol, 1, 4294967295u) ==
              apr_time_from_sec(36));
    /* what an attempt leaves the row as */
    st = notify_outbox_next(&pol, NOTIFY_ATTEMPT_ACCEPTED, 3, NOW, 0);
    ck_assert_str_eq(st.state, "sent");
    ck_assert(!st.gave_up);
    st =
        notify_outbox_next(&pol, NOTIFY_ATTEMPT_RETRYABLE, 1, NOW, 2147483648u);
    ck_assert_str_eq(st.state, "pending");
    ck_assert(st.next_attempt_at == NOW + apr_time_from_sec(30));
    st = notify_outbox_next(&pol, NOTIFY_ATTEMPT_RETRYABLE, 3, NOW, 0);
    ck_assert_str_eq(st.state, "failed");
    ck_assert(st.gave_up);
    st = notify_outbox_next(&pol, NOTIFY_ATTEMPT_PERMANENT, 1, NOW, 0);
    ck_assert_str_eq(st.state, "failed");
    ck_assert(st.gave_up);
}
END_TEST

START_TEST(route_cache)
{
    notify_route_cache *c = notify_route_cache_create(pool);
    notify_route_row in = {1, 1, 1, 1, 0}, out;

    memset(&out, 0, sizeof(out));
    ck_assert(!notify_route_cache_get(c, "s1 r", 5, NOW, &out));
    notify_route_cache_put(c, "s1 r", &in, NOW);
    ck_assert(notify_route_cache_get(c, "s1 r", 5, NOW + 1, &out));
    ck_assert_int_eq(out.sensitive, 1);
    ck_assert_int_eq(out.service_deployed, 0);
    /* another server (another database) has its own entry */
    ck_assert(!notify_route_cache_get(c, "s2 r", 5, NOW + 1, &out));
    /* stale after ttl; ttl 0 is no cache */
    ck_assert(!notify_route_cache_get(c, "s1 r", 5, NOW + apr_time_from_sec(5),
                                      &out));
    ck_assert(!notify_route_cache_get(c, "s1 r", 0, NOW, &out));
}
END_TEST

Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("pure");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, session_policy);
    tcase_add_test(tc, idem_key_form);
    tcase_add_test(tc, idem_judgement);
    tcase_add_test(tc, idem_purge_pace);
    tcase_add_test(tc, outbox_backoff);
    tcase_add_test(tc, route_cache);
    suite_add_tcase(s, tc);
    return s;
}

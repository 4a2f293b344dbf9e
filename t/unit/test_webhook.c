/* Provider webhooks (notify_webhook.c, notify_mandrill_webhook.c): the
 * signature, Mandrill's events, and recording a batch. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "notify_form.h"
#include "notify_mandrill.h"
#include "notify_store.h"
#include "testdb.h"

Suite *webhook_suite(void);

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* Expected values computed apart, with Python's hmac module. */
START_TEST(signature)
{
    const char *body = "mandrill_events=%5B%5D&a=1";
    apr_array_header_t *f = notify_form_parse(pool, body, strlen(body));
    const char *url = "https://example.com/hooks/mandrill";

    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(notify_webhook_signature(pool, "whkey-123", url, f),
                     "oZSxRvfEcu9O6ixluKxLNTnzERg=");
    ck_assert(notify_webhook_signed(pool, "whkey-123", url, f,
                                    "oZSxRvfEcu9O6ixluKxLNTnzERg="));
    ck_assert(!notify_webhook_signed(pool, "whkey-123", url, f,
                                     "oZSxRvfEcu9O6ixluKxLNTnzERh="));
    ck_assert(!notify_webhook_signed(pool, "other", url, f,
                                     "oZSxRvfEcu9O6ixluKxLNTnzERg="));
    ck_assert(!notify_webhook_signed(pool, "whkey-123", url, f, NULL));
    ck_assert(!notify_webhook_signed(pool, "whkey-123", url, f, ""));
    ck_assert(!notify_webhook_signed(pool, "whkey-123",
                                     apr_pstrcat(pool, url, "/", NULL), f,
                                     "oZSxRvfEcu9O6ixluKxLNTnzERg="));
}
END_TEST

START_TEST(mandrill_events)
{
    const char *batch =
        "[{\"event\":\"send\",\"_id\":\"m1\",\"ts\":1795773600,"
        "\"msg\":{\"_id\":\"m1\",\"email\":\"a@x.co\"}},"
        "{\"event\":\"open\",\"ts\":1795773700,"
        "\"msg\":{\"_id\":\"m2\",\"email\":\"b@x.co\"}},"
        "{\"event\":\"hard_bounce\",\"_id\":\"m3\",\"ts\":1795773800,"
        "\"msg\":{\"email\":\"c@x.co\"}},"
        "{\"type\":\"whitelist\",\"action\":\"add\"},"
        "{\"event\":\"send\",\"_id\":\"m4\",\"ts\":\"soon\",\"msg\":{}},"
        "7]";
    int count = 0;
    apr_array_header_t *e =
        notify_mandrill_events(pool, batch, strlen(batch), &count);
    notify_delivery_event *ev;

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(count, 6);
    ck_assert_int_eq(e->nelts, 3);
    ev = &APR_ARRAY_IDX(e, 0, notify_delivery_event);
    ck_assert_str_eq(ev->provider_id, "m1");
    ck_assert_str_eq(ev->recipient, "a@x.co");
    ck_assert_str_eq(ev->status, "delivered");
    ck_assert(ev->occurred_at == apr_time_from_sec(1795773600));
    ck_assert_msg(strstr(ev->detail, "\"event\":\"send\"") != NULL, "%s",
                  ev->detail);
    ev = &APR_ARRAY_IDX(e, 1, notify_delivery_event);
    ck_assert_str_eq(ev->provider_id, "m2"); /* from msg._id */
    ck_assert_ptr_null(ev->status);          /* open: recorded only */
    ev = &APR_ARRAY_IDX(e, 2, notify_delivery_event);
    ck_assert_str_eq(ev->status, "bounced");
    ck_assert_ptr_null(notify_mandrill_events(pool, "{}", 2, &count));
    ck_assert_ptr_null(notify_mandrill_events(pool, "[", 1, &count));
}
END_TEST

static notify_delivery_event event(const char *name, const char *id,
                                   const char *email, apr_int64_t ts,
                                   const char *status)
{
    notify_delivery_event e = {name, id,    email, apr_time_from_sec(ts),
                               "{}", status};

    return e;
}

START_TEST(record_batches)
{
    notify_db db;
    apr_array_header_t *batch =
        apr_array_make(pool, 4, sizeof(notify_delivery_event));
    int matched = -1;

    testdb_connect(pool, testdb_create(pool, "webhook"), NULL, &db);
    testdb_exec(&db, "INSERT INTO notifications (id, processed, created_at, "
                     "updated_at) VALUES (1, 1, 'now', 'now')");
    testdb_exec(&db, "INSERT INTO notification_deliveries (notification_id, "
                     "channel, provider, recipient, status, provider_id, "
                     "created_at) VALUES "
                     "(1, 'email', 'mandrill', 'A@x.co', 'sent', 'm1', 'now'),"
                     "(1, 'email', 'mandrill', 'b@x.co', 'sent', 'm2', 'now')");
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("send", "m1", "a@x.co", 1795773600, "delivered");
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("open", "m1", "a@x.co", 1795773700, NULL);
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("soft_bounce", "m2", "b@x.co", 1795773800, "bounced");
    /* an unknown id, and a known id for another address: skipped */
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("send", "m9", "a@x.co", 1795773600, "delivered");
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("send", "m2", "z@x.co", 1795773600, "delivered");
    ck_assert_int_eq(notify_webhook_record(&db, pool, "mandrill", batch,
                                           "2026-11-27T10:00:00Z", &matched),
                     APR_SUCCESS);
    ck_assert_int_eq(matched, 3);
    ck_assert_str_eq(testdb_scalar(&db, pool,
                                   "SELECT group_concat(status) FROM "
                                   "notification_deliveries ORDER BY id"),
                     "delivered,bounced");
    ck_assert_str_eq(
        testdb_scalar(&db, pool, "SELECT count(*) FROM delivery_events"), "3");
    /* the same batch again: nothing recorded twice, no status moved */
    testdb_exec(&db, "UPDATE notification_deliveries SET status = 'x'");
    ck_assert_int_eq(notify_webhook_record(&db, pool, "mandrill", batch,
                                           "2026-11-27T10:00:01Z", &matched),
                     APR_SUCCESS);
    ck_assert_int_eq(matched, 3);
    ck_assert_str_eq(
        testdb_scalar(&db, pool, "SELECT count(*) FROM delivery_events"), "3");
    ck_assert_str_eq(testdb_scalar(&db, pool,
                                   "SELECT group_concat(status) FROM "
                                   "notification_deliveries"),
                     "x,x");
    /* one batch, one transaction: a failure keeps none of it */
    testdb_exec(&db, "CREATE TRIGGER boom BEFORE INSERT ON delivery_events "
                     "WHEN NEW.event = 'spam' BEGIN "
                     "SELECT RAISE(ABORT, 'boom'); END");
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("click", "m1", "a@x.co", 1795774000, NULL);
    APR_ARRAY_PUSH(batch, notify_delivery_event) =
        event("spam", "m1", "a@x.co", 1795774100, "spam");
    ck_assert_int_ne(notify_webhook_record(&db, pool, "mandrill", batch,
                                           "2026-11-27T10:00:02Z", &matched),
                     APR_SUCCESS);
    ck_assert_str_eq(
        testdb_scalar(&db, pool, "SELECT count(*) FROM delivery_events"), "3");
}
END_TEST

Suite *webhook_suite(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("mandrill");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signature);
    tcase_add_test(tc, mandrill_events);
    tcase_add_test(tc, record_batches);
    suite_add_tcase(s, tc);
    return s;
}

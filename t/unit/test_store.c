/* The SQL layer (notify_store.c on notify_db.c) against a real SQLite
 * database built from the schema. */
#include <string.h>

#include <apr_strings.h>
#include <check.h>

#include "notify_store.h"
#include "testdb.h"

Suite *store_suite(void);

static apr_pool_t *pool;
static notify_db db;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    testdb_connect(pool, testdb_create(pool, "store"), NULL, &db);
    testdb_exec(&db, "INSERT INTO api_applications (name, token_sha256, "
                     "active, created_at) VALUES "
                     "('a', 'aaa', 1, '2026-01-01T00:00:00Z'), "
                     "('b', 'bbb', 0, '2026-01-01T00:00:00Z')");
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

static const char *scalar(const char *sql)
{
    return testdb_scalar(&db, pool, sql);
}

static void values(notify_values *v, const char *key)
{
    memset(v, 0, sizeof(*v));
    v->val[NOTIFY_P_KEY] = key;
    v->val[NOTIFY_P_PROCESSED] = "0";
}

START_TEST(applications)
{
    apr_int64_t id = -1;

    ck_assert_int_eq(notify_store_find_app(&db, pool, "aaa", &id), APR_SUCCESS);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(notify_store_find_app(&db, pool, "bbb", &id), APR_SUCCESS);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(notify_store_find_app(&db, pool, "zzz", &id), APR_SUCCESS);
    ck_assert_int_eq(id, 0);
    /* A schema change expires SQLite statements: prepared again. */
    testdb_exec(&db, "CREATE INDEX api_applications_name "
                     "ON api_applications(name)");
    ck_assert_msg(notify_store_find_app(&db, pool, "aaa", &id) == APR_SUCCESS,
                  "%s (%d)", db.error, db.failed_rv);
    ck_assert_int_eq(id, 1);
}
END_TEST

/* "Could not read" is never "no row": a failing lookup is an error, so
 * the create path answers 500, not invalid-token. */
START_TEST(read_failure_is_not_no_row)
{
    apr_int64_t id = -1;
    notify_session_row s;

    testdb_exec(&db, "DROP TABLE api_applications");
    ck_assert_int_ne(notify_store_find_app(&db, pool, "aaa", &id), APR_SUCCESS);
    ck_assert_msg(strstr(db.error, "api_applications") != NULL, "%s", db.error);
    testdb_exec(&db, "DROP TABLE liaisons");
    ck_assert_int_ne(notify_store_find_session(&db, pool, "s", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.id, 0);
}
END_TEST

START_TEST(sessions)
{
    notify_session_row s;

    testdb_exec(&db, "INSERT INTO users (id, email) VALUES (1, 'u@x.co'), "
                     "(2, 'v@x.co')");
    testdb_exec(&db, "INSERT INTO liaisons (user_id) VALUES (2)");
    testdb_exec(&db, "INSERT INTO sessions (user_id, token_sha256, "
                     "created_at, last_used_at, remember_me) VALUES "
                     "(1, 's1', '2026-01-01T00:00:00Z', "
                     "'2026-01-02T00:00:00Z', 1), "
                     "(2, 's2', '2026-01-01T00:00:00Z', "
                     "'2026-01-02T00:00:00Z', 0)");
    ck_assert_int_eq(notify_store_find_session(&db, pool, "s1", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.id, 1);
    ck_assert_int_eq(s.user_id, 1);
    ck_assert_int_eq(s.has_role, 0);
    ck_assert_int_eq(s.remember_me, 1);
    ck_assert_str_eq(s.created_at, "2026-01-01T00:00:00Z");
    ck_assert_int_eq(notify_store_find_session(&db, pool, "s2", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.has_role, 1);
    ck_assert_int_eq(
        notify_store_touch_session(&db, pool, 2, "2026-02-02T00:00:00Z"),
        APR_SUCCESS);
    ck_assert_str_eq(scalar("SELECT last_used_at FROM sessions WHERE id = 2"),
                     "2026-02-02T00:00:00Z");
    ck_assert_int_eq(notify_store_find_session(&db, pool, "nope", &s),
                     APR_SUCCESS);
    ck_assert_int_eq(s.id, 0);
}
END_TEST

START_TEST(routes)
{
    notify_route_row rt;

    ck_assert_int_eq(
        notify_store_find_route(&db, pool, "notifications.create", &rt),
        APR_SUCCESS);
    ck_assert(rt.found && rt.route_deployed && !rt.sensitive);
    ck_assert(rt.service_found && rt.service_deployed);
    testdb_exec(&db, "UPDATE api_services SET deployed = 0");
    notify_store_find_route(&db, pool, "notifications.create", &rt);
    ck_assert(rt.found && !rt.service_deployed);
    notify_store_find_route(&db, pool, "missing", &rt);
    ck_assert(!rt.found);
}
END_TEST

START_TEST(create_and_rollback)
{
    notify_values v;
    notify_row row = {0, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    notify_principal who = {1, 0};

    values(&v, "order.created");
    v.val[NOTIFY_P_NOTIFYABLE_TYPE] = "Order";
    v.val[NOTIFY_P_NOTIFYABLE_ID] = "42";
    v.val[NOTIFY_P_USER_ID] = "12345678901234567890123";
    ck_assert_int_eq(notify_store_create(&db, pool, &v, &row, &who, NULL, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, 1);
    ck_assert_str_eq(scalar("SELECT \"key\" || '|' || notifyable_id || '|' "
                            "|| created_by_application_id || '|' || "
                            "ifnull(created_by_session_id, 'null') || '|' || "
                            "user_id FROM notifications"),
                     "order.created|42|1|null|12345678901234567890123");
    /* A failing insert leaves nothing behind and reports the driver. */
    testdb_exec(&db, "CREATE TRIGGER boom BEFORE INSERT ON notifications "
                     "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    ck_assert_int_ne(notify_store_create(&db, pool, &v, &row, &who, NULL, NULL),
                     APR_SUCCESS);
    ck_assert_msg(strstr(db.error, "boom") != NULL, "error: %s", db.error);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "1");
}
END_TEST

static const char *render_fixed(void *baton, int *http)
{
    *http = 200;
    return baton;
}

/* The answer of a claimed key is kept in the create's own transaction;
 * a claim taken over meanwhile makes the create fail whole. */
START_TEST(create_keeps_answer)
{
    notify_values v;
    notify_row row = {0, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    notify_principal who = {1, 0};
    notify_idem_answer keep = {0, render_fixed, "{\"kept\":1}", 0};
    notify_idem_row seen;
    int deleted;

    values(&v, "kept");
    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k", "sha",
                                             "2026-11-27T10:00:00Z",
                                             &keep.claim_id),
                     APR_SUCCESS);
    ck_assert_int_eq(
        notify_store_create(&db, pool, &v, &row, &who, &keep, NULL),
        APR_SUCCESS);
    ck_assert_str_eq(scalar("SELECT http_status || response_body FROM "
                            "idempotency_keys"),
                     "200{\"kept\":1}");
    /* An answered key is not released by a takeover that read it
     * before: only the state read is deleted. */
    memset(&seen, 0, sizeof(seen));
    seen.id = keep.claim_id;
    ck_assert_int_eq(notify_store_idem_release(&db, pool, &seen, &deleted),
                     APR_SUCCESS);
    ck_assert_int_eq(deleted, 0);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k", &seen),
                     APR_SUCCESS);
    ck_assert_int_eq(seen.body_length, 10);
    ck_assert_int_eq(notify_store_idem_release(&db, pool, &seen, &deleted),
                     APR_SUCCESS);
    ck_assert_int_eq(deleted, 1);

    /* A provisional answer is kept without its HTTP code. */
    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k3", "sha",
                                             "2026-11-27T10:00:00Z",
                                             &keep.claim_id),
                     APR_SUCCESS);
    keep.provisional = 1;
    ck_assert_int_eq(
        notify_store_create(&db, pool, &v, &row, &who, &keep, NULL),
        APR_SUCCESS);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k3", &seen),
                     APR_SUCCESS);
    ck_assert_int_eq(seen.http_status, 0);
    ck_assert_str_eq(seen.response_body, "{\"kept\":1}");
    keep.provisional = 0;
    ck_assert_int_eq(notify_store_idem_keep(&db, pool, &keep), APR_SUCCESS);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k3", &seen),
                     APR_SUCCESS);
    ck_assert_int_eq(seen.http_status, 200);

    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k2", "sha",
                                             "2026-11-27T10:00:00Z",
                                             &keep.claim_id),
                     APR_SUCCESS);
    testdb_exec(&db, "DELETE FROM idempotency_keys WHERE idem_key = 'k2'");
    ck_assert_int_ne(
        notify_store_create(&db, pool, &v, &row, &who, &keep, NULL),
        APR_SUCCESS);
    ck_assert_msg(strstr(db.error, "taken over") != NULL, "%s", db.error);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "2");
}
END_TEST

START_TEST(attempt_records)
{
    notify_values v, dev;
    notify_row row = {0, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    notify_row dev_row = {0, "2026-11-27T10:00:05Z", "2026-11-27T10:00:05Z"};
    notify_principal who = {1, 0};
    notify_recipient r[2] = {
        {"a@x.co", "to", "sent", "id1", NULL, NULL},
        /* a provider answer without a status: an error of its own */
        {"b@x.co", "cc", NULL, NULL, NULL, "no status"},
    };
    notify_proof proof = {"email", "mandrill", 2, r, NULL, 0, NULL};
    notify_outbox_new ob = {
        "email", "sending", 1, "2026-11-27T10:00:00Z", "2026-11-27T10:01:10Z",
        "/r",    0};
    notify_attempt_record rec;

    values(&v, "mail");
    ck_assert_int_eq(notify_store_create(&db, pool, &v, &row, &who, NULL, &ob),
                     APR_SUCCESS);
    ck_assert_int_gt(ob.id, 0);
    ck_assert_str_eq(scalar("SELECT state || attempts || route FROM "
                            "notification_outbox"),
                     "sending1/r");
    memset(&rec, 0, sizeof(rec));
    rec.notification_id = row.id;
    rec.outbox_id = ob.id;
    rec.attempt = 1;
    rec.proof = &proof;
    rec.accepted = 1;
    rec.state = "sent";
    rec.now = "2026-11-27T10:00:05Z";
    rec.who = &who;
    ck_assert_int_eq(notify_store_attempt(&db, pool, &rec, NULL), APR_SUCCESS);
    ck_assert_str_eq(scalar("SELECT processed || processed_at FROM "
                            "notifications WHERE id = 1"),
                     "12026-11-27T10:00:05Z");
    ck_assert_str_eq(scalar("SELECT group_concat(recipient || ':' || status "
                            "|| ':' || attempt, ' ') FROM "
                            "notification_deliveries"),
                     "a@x.co:sent:1 b@x.co:error:1");
    ck_assert_str_eq(scalar("SELECT state || ifnull(locked_until, '-') FROM "
                            "notification_outbox"),
                     "sent-");

    /* An attempt that no longer owns its row (claimed again after its
     * lock) records its deliveries but leaves the row to the newer one. */
    testdb_exec(&db, "UPDATE notification_outbox SET state = 'sending', "
                     "attempts = 2");
    rec.accepted = 0;
    rec.state = "failed";
    memset(&dev, 0, sizeof(dev));
    dev.val[NOTIFY_P_KEY] = "delivery-failed";
    dev.val[NOTIFY_P_NOTIFICATION_TYPE] = "system-error";
    dev.val[NOTIFY_P_PROCESSED] = "0";
    rec.dev[0] = &dev;
    rec.dev_row[0] = &dev_row;
    ck_assert_int_eq(notify_store_attempt(&db, pool, &rec, NULL), APR_SUCCESS);
    ck_assert_int_gt(dev_row.id, row.id);
    ck_assert_str_eq(scalar("SELECT state FROM notification_outbox"),
                     "sending");
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications WHERE "
                            "notification_type = 'system-error'"),
                     "1");
}
END_TEST

START_TEST(outbox_claims)
{
    notify_values v, got;
    notify_row row = {0, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z"};
    notify_row stored;
    notify_principal who = {1, 0}, by;
    notify_outbox_new due = {"email", "pending", 0, "2026-11-27T10:00:00Z",
                             NULL,    "/a",      0};
    notify_outbox_new later = {"email", "pending", 0, "2026-11-27T11:00:00Z",
                               NULL,    NULL,      0};
    notify_outbox_new locked = {
        "email", "sending", 1, "2026-11-27T09:00:00Z", "2026-11-27T10:00:30Z",
        "/c",    0};
    apr_array_header_t *rows;
    notify_outbox_row *o;
    int found;

    values(&v, "one");
    v.val[NOTIFY_P_EMAIL_TO] = "a@x.co";
    notify_store_create(&db, pool, &v, &row, &who, NULL, &due);
    values(&v, "two");
    notify_store_create(&db, pool, &v, &row, &who, NULL, &later);
    values(&v, "three");
    notify_store_create(&db, pool, &v, &row, &who, NULL, &locked);
    /* at 10:00:10 only the due one; the locked one is still someone's */
    ck_assert_int_eq(
        notify_store_outbox_claim(&db, pool, "2026-11-27T10:00:10Z",
                                  "2026-11-27T10:01:20Z", "/a\n/c", 8, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 1);
    o = &APR_ARRAY_IDX(rows, 0, notify_outbox_row);
    ck_assert_int_eq(o->id, due.id);
    ck_assert_int_eq(o->attempts, 1);
    ck_assert_str_eq(o->route, "/a");
    ck_assert_str_eq(scalar("SELECT state || locked_until FROM "
                            "notification_outbox WHERE route = '/a'"),
                     "sending2026-11-27T10:01:20Z");
    /* claimed: not again, until its lock expires; then with the lapsed
     * one, whose attempt count goes on */
    ck_assert_int_eq(
        notify_store_outbox_claim(&db, pool, "2026-11-27T10:00:20Z",
                                  "2026-11-27T10:01:30Z", "/a\n/c", 8, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 0);
    ck_assert_int_eq(
        notify_store_outbox_claim(&db, pool, "2026-11-27T10:05:00Z",
                                  "2026-11-27T10:06:10Z", "/a\n/c", 8, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 2);
    ck_assert_str_eq(scalar("SELECT group_concat(attempts) FROM "
                            "notification_outbox WHERE state = 'sending'"),
                     "2,2");
    /* a route this host does not deliver for is left to those that do;
     * a row of no route is anyone's */
    testdb_exec(&db, "UPDATE notification_outbox SET state = 'sent' WHERE "
                     "state = 'sending'");
    testdb_exec(&db, "UPDATE notification_outbox SET route = '/x' WHERE "
                     "state = 'pending'");
    ck_assert_int_eq(
        notify_store_outbox_claim(&db, pool, "2026-11-27T12:00:00Z",
                                  "2026-11-27T12:01:10Z", "/a\n/c", 8, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 0);
    ck_assert_int_eq(
        notify_store_outbox_claim(&db, pool, "2026-11-27T12:00:00Z",
                                  "2026-11-27T12:01:10Z", "/y\n/x", 8, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 1);
    testdb_exec(&db, "UPDATE notification_outbox SET route = NULL, state = "
                     "'pending' WHERE route = '/x'");
    ck_assert_int_eq(
        notify_store_outbox_claim(&db, pool, "2026-11-27T12:00:00Z",
                                  "2026-11-27T12:01:10Z", "", 8, &rows),
        APR_SUCCESS);
    ck_assert_int_eq(rows->nelts, 1);
    /* the stored notification, for the attempt */
    ck_assert_int_eq(notify_store_load(&db, pool, o->notification_id, &got,
                                       &stored, &by, &found),
                     APR_SUCCESS);
    ck_assert(found);
    ck_assert_str_eq(got.val[NOTIFY_P_KEY], "one");
    ck_assert_str_eq(got.val[NOTIFY_P_EMAIL_TO], "a@x.co");
    ck_assert_str_eq(got.val[NOTIFY_P_PROCESSED], "0");
    ck_assert_int_eq(by.app_id, 1);
    ck_assert_int_eq(
        notify_store_load(&db, pool, 999, &got, &stored, &by, &found),
        APR_SUCCESS);
    ck_assert(!found);
}
END_TEST

START_TEST(idempotency_keys)
{
    notify_idem_row row;
    apr_int64_t id = 0, again = -1;
    int deleted = -1;

    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k", "sha1",
                                             "2026-11-27T10:00:00Z", &id),
                     APR_SUCCESS);
    ck_assert_int_gt(id, 0);
    /* The unique constraint decides: a second claim gets nothing. */
    ck_assert_int_eq(notify_store_idem_claim(&db, pool, "p", "k", "sha2",
                                             "2026-11-27T10:00:01Z", &again),
                     APR_SUCCESS);
    ck_assert_int_eq(again, 0);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k", &row),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, id);
    ck_assert_str_eq(row.request_sha256, "sha1");
    ck_assert_int_eq(row.http_status, 0);
    ck_assert_int_eq(notify_store_idem_release(&db, pool, &row, &deleted),
                     APR_SUCCESS);
    ck_assert_int_eq(deleted, 1);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k", &row),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, 0);
}
END_TEST

START_TEST(idempotency_purge)
{
    apr_int64_t id;

    notify_store_idem_claim(&db, pool, "p", "old1", "s", "2026-11-01T00:00:00Z",
                            &id);
    notify_store_idem_claim(&db, pool, "p", "old2", "s", "2026-11-26T09:59:59Z",
                            &id);
    notify_store_idem_claim(&db, pool, "p", "new", "s", "2026-11-26T10:00:00Z",
                            &id);
    ck_assert_int_eq(notify_store_idem_purge(&db, pool, "2026-11-26T10:00:00Z"),
                     APR_SUCCESS);
    ck_assert_str_eq(scalar("SELECT group_concat(idem_key) FROM "
                            "idempotency_keys"),
                     "new");
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("sqlite");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, applications);
    tcase_add_test(tc, read_failure_is_not_no_row);
    tcase_add_test(tc, sessions);
    tcase_add_test(tc, routes);
    tcase_add_test(tc, create_and_rollback);
    tcase_add_test(tc, create_keeps_answer);
    tcase_add_test(tc, attempt_records);
    tcase_add_test(tc, outbox_claims);
    tcase_add_test(tc, idempotency_keys);
    tcase_add_test(tc, idempotency_purge);
    suite_add_tcase(s, tc);
    return s;
}

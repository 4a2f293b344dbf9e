/* The SQL layer against a real SQLite database built from the schema. */
#include <stdio.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <check.h>

#include "notify_store.h"

static apr_pool_t *pool;
static notify_db db;

static void exec(const char *sql)
{
    int nrows;

    ck_assert_msg(apr_dbd_query(db.driver, db.handle, &nrows, sql) == 0,
                  "%s: %s", sql, apr_dbd_error(db.driver, db.handle, 1));
}

static const char *scalar(const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    ck_assert_int_eq(apr_dbd_select(db.driver, pool, db.handle, &res, sql, 0),
                     0);
    while (apr_dbd_get_row(db.driver, pool, res, &row, -1) == 0) {
        const char *e = apr_dbd_get_entry(db.driver, row, 0);
        v = e ? apr_pstrdup(pool, e) : NULL;
    }
    return v;
}

/* The schema file, one statement at a time (the driver runs one each). */
static void load_schema(void)
{
    char *text, *stmt, *last, *line, *rest, *sql = "";
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    ck_assert_int_eq(apr_file_open(&f, "build/schema/sqlite.sql",
                                   APR_FOPEN_READ, 0, pool),
                     APR_SUCCESS);
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    n = (apr_size_t)fi.size;
    text = apr_pcalloc(pool, n + 1);
    apr_file_read_full(f, text, n, &n);
    apr_file_close(f);
    /* Comments first: they may hold semicolons. */
    for (line = apr_strtok(text, "\n", &rest); line;
         line = apr_strtok(NULL, "\n", &rest)) {
        if (strncmp(line, "--", 2) != 0 && !strstr(line, "PRAGMA")) {
            sql = apr_pstrcat(pool, sql, line, "\n", NULL);
        }
    }
    for (stmt = apr_strtok(sql, ";", &last); stmt;
         stmt = apr_strtok(NULL, ";", &last)) {
        if (strspn(stmt, " \n") != strlen(stmt)) {
            exec(stmt);
        }
    }
}

static void setup(void)
{
    apr_pool_create(&pool, NULL);
    memset(&db, 0, sizeof(db));
    apr_dbd_init(pool);
    ck_assert_int_eq(apr_dbd_get_driver(pool, "sqlite3", &db.driver),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_open(db.driver, pool, ":memory:", &db.handle),
                     APR_SUCCESS);
    load_schema();
    ck_assert_int_eq(notify_store_prepare_all(&db, pool), APR_SUCCESS);
    ck_assert_int_eq(notify_store_connection_init(&db, pool), APR_SUCCESS);
}

static void teardown(void)
{
    apr_dbd_close(db.driver, db.handle);
    apr_pool_destroy(pool);
}

START_TEST(applications)
{
    apr_int64_t id = -1;

    exec("INSERT INTO api_applications (name, token_sha256, active, "
         "created_at) VALUES ('a', 'aaa', 1, '2026-01-01T00:00:00Z'), "
         "('b', 'bbb', 0, '2026-01-01T00:00:00Z')");
    ck_assert_int_eq(notify_store_find_app(&db, pool, "aaa", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(notify_store_find_app(&db, pool, "bbb", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(notify_store_find_app(&db, pool, "zzz", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 0);
    /* A schema change expires SQLite statements: they are prepared again. */
    exec("CREATE INDEX api_applications_name ON api_applications(name)");
    ck_assert_int_eq(notify_store_find_app(&db, pool, "aaa", &id),
                     APR_SUCCESS);
    ck_assert_int_eq(id, 1);
}
END_TEST

START_TEST(sessions)
{
    notify_session_row s;

    exec("INSERT INTO users (id, email) VALUES (1, 'u@x.co'), (2, 'v@x.co')");
    exec("INSERT INTO liaisons (user_id) VALUES (2)");
    exec("INSERT INTO sessions (user_id, token_sha256, created_at, "
         "last_used_at, remember_me) VALUES "
         "(1, 's1', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 1), "
         "(2, 's2', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 0)");
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
    ck_assert_int_eq(notify_store_touch_session(&db, pool, 2,
                                                "2026-02-02T00:00:00Z"),
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

    ck_assert_int_eq(notify_store_find_route(&db, pool,
                                             "notifications.create", &rt),
                     APR_SUCCESS);
    ck_assert(rt.found && rt.route_deployed && !rt.sensitive);
    ck_assert(rt.service_found && rt.service_deployed);
    exec("UPDATE api_services SET deployed = 0");
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

    memset(&v, 0, sizeof(v));
    v.val[NOTIFY_P_KEY] = "order.created";
    v.val[NOTIFY_P_NOTIFYABLE_TYPE] = "Order";
    v.val[NOTIFY_P_NOTIFYABLE_ID] = "42";
    v.val[NOTIFY_P_PROCESSED] = "0";
    exec("INSERT INTO api_applications (name, token_sha256, active, "
         "created_at) VALUES ('a', 'aaa', 1, '2026-01-01T00:00:00Z')");
    ck_assert_int_eq(notify_store_create(&db, pool, &v, &row, &who, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, 1);
    ck_assert_str_eq(scalar("SELECT \"key\" || '|' || notifyable_id || '|' "
                            "|| created_by_application_id || '|' || "
                            "ifnull(created_by_session_id, 'null') "
                            "FROM notifications"),
                     "order.created|42|1|null");
    /* A failing insert leaves nothing behind and reports the driver. */
    exec("CREATE TRIGGER boom BEFORE INSERT ON notifications "
         "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    ck_assert_int_ne(notify_store_create(&db, pool, &v, &row, &who, NULL),
                     APR_SUCCESS);
    ck_assert_msg(strstr(db.error, "boom") != NULL, "error: %s", db.error);
    ck_assert_str_eq(scalar("SELECT count(*) FROM notifications"), "1");
}
END_TEST

START_TEST(idempotency_keys)
{
    notify_idem_row row;
    apr_int64_t id = 0, again = -1;

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
    ck_assert_int_eq(notify_store_idem_release(&db, pool, id), APR_SUCCESS);
    ck_assert_int_eq(notify_store_idem_get(&db, pool, "p", "k", &row),
                     APR_SUCCESS);
    ck_assert_int_eq(row.id, 0);
}
END_TEST

START_TEST(idempotency_purge)
{
    apr_int64_t id;

    notify_store_idem_claim(&db, pool, "p", "old1", "s",
                            "2026-11-01T00:00:00Z", &id);
    notify_store_idem_claim(&db, pool, "p", "old2", "s",
                            "2026-11-26T09:59:59Z", &id);
    notify_store_idem_claim(&db, pool, "p", "new", "s",
                            "2026-11-26T10:00:00Z", &id);
    ck_assert_int_eq(notify_store_idem_purge(&db, pool,
                                             "2026-11-26T10:00:00Z"),
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
    tcase_add_test(tc, sessions);
    tcase_add_test(tc, routes);
    tcase_add_test(tc, create_and_rollback);
    tcase_add_test(tc, idempotency_keys);
    tcase_add_test(tc, idempotency_purge);
    suite_add_tcase(s, tc);
    return s;
}
